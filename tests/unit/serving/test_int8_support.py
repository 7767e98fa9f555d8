"""The int8 vocoder is served only where its quality was measured (x86 with VNNI)."""

from __future__ import annotations

from pathlib import Path

from mandarin_tts.serving.int8_support import (
    ALLOW_INT8_ENV,
    cpu_flags,
    servable_onnx_file,
)

VNNI = frozenset({"avx2", "avx512f", "avx512_vnni"})
AVX2_ONLY = frozenset({"avx2", "fma"})


def test_vnni_x86_serves_int8() -> None:
    assert servable_onnx_file("vocoder_int8.onnx", "x86_64", VNNI, {}) == (
        "vocoder_int8.onnx",
        None,
    )


def test_avx2_only_falls_back_to_float_with_a_warning() -> None:
    chosen, warning = servable_onnx_file("vocoder_int8.onnx", "x86_64", AVX2_ONLY, {})
    assert chosen == "vocoder.onnx"
    assert warning and "no VNNI" in warning and ALLOW_INT8_ENV in warning


def test_other_architectures_fall_back_too() -> None:
    chosen, _ = servable_onnx_file("vocoder_int8.onnx", "aarch64", frozenset({"asimddp"}), {})
    assert chosen == "vocoder.onnx"


def test_the_override_serves_int8_anywhere() -> None:
    chosen, warning = servable_onnx_file(
        "vocoder_int8.onnx", "x86_64", AVX2_ONLY, {ALLOW_INT8_ENV: "1"}
    )
    assert (chosen, warning) == ("vocoder_int8.onnx", None)


def test_float_files_are_never_changed() -> None:
    for name in ("vocoder.onnx", "acoustic.onnx"):
        assert servable_onnx_file(name, "x86_64", AVX2_ONLY, {}) == (name, None)


def test_cpu_flags_reads_the_first_processor(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text(
        "processor\t: 0\nflags\t\t: fpu avx2 avx512_vnni\n\nprocessor\t: 1\nflags\t: fpu\n"
    )
    assert cpu_flags(info) == {"fpu", "avx2", "avx512_vnni"}
    assert cpu_flags(tmp_path / "missing") == frozenset()
