"""Where the int8 vocoder may be served: x86 CPUs with VNNI, where it was measured.

onnxruntime's u8s8 int8 convolutions use VNNI dot products when the CPU has them. On x86
CPUs without VNNI (AVX2-era servers) they use instructions that add pairs of products in
16 bits and can saturate, which onnxruntime's documentation warns may cost accuracy. The
int8 vocoder's ASR quality was measured only on an AVX-512 VNNI CPU, so on any other CPU
a tier that asks for it gets the float vocoder (about half the speed, known quality) and
a warning. `MANDARIN_TTS_ALLOW_INT8=1` serves int8 anyway (after checking it there).
"""

from __future__ import annotations

import os
import platform
from collections.abc import Mapping
from pathlib import Path

from mandarin_tts.paths import VOCODER_INT8_ONNX, VOCODER_ONNX

ALLOW_INT8_ENV = "MANDARIN_TTS_ALLOW_INT8"
VNNI_FLAGS = frozenset({"avx512_vnni", "avx_vnni"})
X86_MACHINES = frozenset({"x86_64", "amd64", "i686", "i386"})
# The int8 file a tier may name, and the float file with the same interface.
FLOAT_FALLBACK = {VOCODER_INT8_ONNX.name: VOCODER_ONNX.name}


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    """The first processor's feature flags (empty where /proc/cpuinfo has none)."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return frozenset()


def int8_measured_here(machine: str, flags: frozenset[str]) -> bool:
    return machine.lower() in X86_MACHINES and bool(flags & VNNI_FLAGS)


def servable_onnx_file(
    requested: str,
    machine: str | None = None,
    flags: frozenset[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[str, str | None]:
    """(file to load, warning or None) for the `onnx_file` a tier asks for."""
    fallback = FLOAT_FALLBACK.get(Path(requested).name)
    if fallback is None:
        return requested, None
    if (os.environ if environ is None else environ).get(ALLOW_INT8_ENV) == "1":
        return requested, None
    machine = platform.machine() if machine is None else machine
    flags = cpu_flags() if flags is None else flags
    if int8_measured_here(machine, flags):
        return requested, None
    return fallback, (
        f"{requested} asked for, but this CPU ({machine}) has no VNNI, where int8 "
        f"convolutions may saturate and the int8 vocoder's quality is unmeasured; serving "
        f"{fallback} instead (set {ALLOW_INT8_ENV}=1 to override)"
    )
