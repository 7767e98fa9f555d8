"""Which int8 vocoder file this CPU serves when a tier asks for `vocoder_int8.onnx`.

onnxruntime's u8s8 int8 convolutions use VNNI dot products (exact int32 sums) when the CPU
has them. On x86 CPUs with AVX2 but no VNNI they use vpmaddubsw, which adds each pair of
u8 x s8 products in a saturating int16: with full-range int8 weights (|w| <= 128) a pair
can reach 2 x 255 x 128 = 65280 and is clipped. So, chosen at start-up from /proc/cpuinfo:

- x86 with VNNI (`avx512_vnni`, `avx_vnni`): `vocoder_int8.onnx` (full-range weights);
- x86 with AVX2, no VNNI: `vocoder_int8_avx2.onnx`, the same scheme with 7-bit weights
  (2 x 255 x 64 = 32640 fits int16, so nothing can saturate; docs/vocoder_speed.md);
- anything else (other architectures, x86 without AVX2): the float `vocoder.onnx`.

`MANDARIN_TTS_ALLOW_INT8=1` serves the file the tier names on any CPU (to measure it
there); `MANDARIN_TTS_ALLOW_INT8=0` serves the float vocoder on any CPU. A substitution is
returned as a warning, which the Triton glue logs; `choose_onnx_file` also gives the reason
when nothing is substituted (the bench prints it).
"""

from __future__ import annotations

import os
import platform
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from mandarin_tts.paths import VOCODER_INT8_AVX2_ONNX, VOCODER_INT8_ONNX, VOCODER_ONNX

ALLOW_INT8_ENV = "MANDARIN_TTS_ALLOW_INT8"
VNNI_FLAGS = frozenset({"avx512_vnni", "avx_vnni"})
AVX2_FLAG = "avx2"
X86_MACHINES = frozenset({"x86_64", "amd64", "i686", "i386"})
# The int8 file a tier may name, and the float file with the same interface.
FLOAT_FALLBACK = {VOCODER_INT8_ONNX.name: VOCODER_ONNX.name}
# The int8 file for x86 CPUs with AVX2 but no VNNI, by the file a tier names.
AVX2_SUBSTITUTE = {VOCODER_INT8_ONNX.name: VOCODER_INT8_AVX2_ONNX.name}


@dataclass(frozen=True)
class OnnxChoice:
    """The file served for a requested one, and why."""

    requested: str
    file: str
    reason: str

    @property
    def substituted(self) -> bool:
        return self.file != self.requested


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
    """x86 with VNNI: where the full-range int8 vocoder runs exact int32 dot products."""
    return machine.lower() in X86_MACHINES and bool(flags & VNNI_FLAGS)


def avx2_without_vnni(machine: str, flags: frozenset[str]) -> bool:
    return machine.lower() in X86_MACHINES and AVX2_FLAG in flags and not flags & VNNI_FLAGS


def choose_onnx_file(
    requested: str,
    machine: str | None = None,
    flags: frozenset[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> OnnxChoice:
    """The file to load for the `onnx_file` a tier asks for on this CPU, with the reason."""
    name = Path(requested).name
    fallback = FLOAT_FALLBACK.get(name)
    if fallback is None:
        return OnnxChoice(requested, requested, "not an int8 file: served as named")
    allow = (os.environ if environ is None else environ).get(ALLOW_INT8_ENV)
    if allow == "1":
        return OnnxChoice(requested, requested, f"{ALLOW_INT8_ENV}=1: served as named")
    if allow == "0":
        return OnnxChoice(requested, fallback, f"{ALLOW_INT8_ENV}=0: the float vocoder")
    machine = platform.machine() if machine is None else machine
    flags = cpu_flags() if flags is None else flags
    if int8_measured_here(machine, flags):
        return OnnxChoice(requested, requested, f"this CPU ({machine}) has VNNI")
    if avx2_without_vnni(machine, flags) and name in AVX2_SUBSTITUTE:
        return OnnxChoice(
            requested,
            AVX2_SUBSTITUTE[name],
            f"this CPU ({machine}) has AVX2 but no VNNI, where u8s8 int8 convolutions "
            f"saturate with full-range weights; the 7-bit-weight file cannot saturate "
            f"(set {ALLOW_INT8_ENV}=1 to serve {requested} anyway, =0 for float)",
        )
    return OnnxChoice(
        requested,
        fallback,
        f"this CPU ({machine}) has neither VNNI nor AVX2, where the int8 vocoder is "
        f"unmeasured (set {ALLOW_INT8_ENV}=1 to serve {requested} anyway)",
    )


def servable_onnx_file(
    requested: str,
    machine: str | None = None,
    flags: frozenset[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> tuple[str, str | None]:
    """(file to load, warning or None) for the `onnx_file` a tier asks for: the warning
    says what was served instead and why."""
    choice = choose_onnx_file(requested, machine, flags, environ)
    if not choice.substituted:
        return choice.file, None
    return choice.file, f"{requested} asked for; serving {choice.file} instead: {choice.reason}"
