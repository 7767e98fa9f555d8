"""What machine a bench ran on: CPU model, the ISA flags that choose kernels, the tier.

Figures are only comparable within one run on one machine, so every table names it.
"""

from __future__ import annotations

import os
import platform
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

# Flags that decide which onnxruntime / oneDNN kernels run (float and int8 paths).
KERNEL_FLAGS = ("avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni", "amx_int8")


@dataclass(frozen=True)
class Machine:
    cpu_model: str
    cpu_family_model: str  # "family F model M" (x86), tells Zen 2/3/4 or Xeon generations apart
    isa_flags: tuple[str, ...]  # the KERNEL_FLAGS this CPU has, in that order
    cores: int
    tier: str

    def describe(self) -> str:
        flags = " ".join(self.isa_flags) or "none of " + ",".join(KERNEL_FLAGS)
        return (
            f"{self.cpu_model} ({self.cpu_family_model}), {self.cores} cores, ISA: {flags}; "
            f"tier {self.tier}"
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_cpuinfo(text: str) -> tuple[str, str, frozenset[str]]:
    """(model name, "family F model M", flags) of the first processor in /proc/cpuinfo."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if fields:
                break
            continue
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    family_model = (
        f"family {fields['cpu family']} model {fields['model']}"
        if "cpu family" in fields and "model" in fields
        else "unknown"
    )
    flags = frozenset(fields.get("flags", fields.get("Features", "")).split())
    return fields.get("model name", platform.processor() or "unknown CPU"), family_model, flags


def this_machine(cpuinfo: Path = Path("/proc/cpuinfo")) -> Machine:
    from mandarin_tts.serving.tiers import default_tier

    try:
        text = cpuinfo.read_text()
    except OSError:
        text = ""
    model, family_model, flags = parse_cpuinfo(text)
    return Machine(
        cpu_model=model,
        cpu_family_model=family_model,
        isa_flags=tuple(f for f in KERNEL_FLAGS if f in flags),
        cores=os.cpu_count() or 1,
        tier=default_tier().name,
    )
