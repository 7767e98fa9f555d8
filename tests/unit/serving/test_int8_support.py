"""Which int8 vocoder file a CPU serves: VNNI -> full range, AVX2 without VNNI -> 7-bit
weights, anything else -> float; the environment override; the warning."""

from __future__ import annotations

from pathlib import Path

import pytest

from mandarin_tts.paths import VOCODER_INT8_AVX2_ONNX, VOCODER_INT8_ONNX, VOCODER_ONNX
from mandarin_tts.serving.int8_support import (
    ALLOW_INT8_ENV,
    choose_onnx_file,
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


def test_avx2_without_vnni_serves_the_7_bit_file_with_a_warning() -> None:
    chosen, warning = servable_onnx_file("vocoder_int8.onnx", "x86_64", AVX2_ONLY, {})
    assert chosen == VOCODER_INT8_AVX2_ONNX.name
    assert warning is not None
    assert "no VNNI" in warning and VOCODER_INT8_AVX2_ONNX.name in warning
    assert ALLOW_INT8_ENV in warning


def test_a_tier_naming_a_path_gets_the_same_rule() -> None:
    chosen, _ = servable_onnx_file(str(VOCODER_INT8_ONNX), "x86_64", AVX2_ONLY, {})
    assert chosen == VOCODER_INT8_AVX2_ONNX.name


@pytest.mark.parametrize(
    ("machine", "flags"),
    [
        ("x86_64", frozenset({"sse4_2", "avx"})),  # x86 without AVX2
        ("aarch64", frozenset({"asimddp"})),
        ("aarch64", frozenset({"avx2"})),  # the flag names x86 only
    ],
)
def test_other_cpus_fall_back_to_float(machine: str, flags: frozenset[str]) -> None:
    chosen, warning = servable_onnx_file("vocoder_int8.onnx", machine, flags, {})
    assert chosen == VOCODER_ONNX.name
    assert warning is not None and "unmeasured" in warning


def test_vnni_wins_over_avx2() -> None:
    choice = choose_onnx_file("vocoder_int8.onnx", "AMD64", VNNI | {"avx_vnni"}, {})
    assert choice.file == VOCODER_INT8_ONNX.name and not choice.substituted
    assert "VNNI" in choice.reason


def test_allow_1_serves_the_named_file_anywhere() -> None:
    for machine, flags in (("x86_64", AVX2_ONLY), ("aarch64", frozenset())):
        chosen, warning = servable_onnx_file(
            "vocoder_int8.onnx", machine, flags, {ALLOW_INT8_ENV: "1"}
        )
        assert (chosen, warning) == ("vocoder_int8.onnx", None)


def test_allow_0_serves_float_anywhere() -> None:
    for flags in (VNNI, AVX2_ONLY):
        chosen, warning = servable_onnx_file(
            "vocoder_int8.onnx", "x86_64", flags, {ALLOW_INT8_ENV: "0"}
        )
        assert chosen == VOCODER_ONNX.name
        assert warning is not None and f"{ALLOW_INT8_ENV}=0" in warning


def test_other_values_of_the_variable_keep_the_cpu_rule() -> None:
    chosen, _ = servable_onnx_file("vocoder_int8.onnx", "x86_64", AVX2_ONLY, {ALLOW_INT8_ENV: ""})
    assert chosen == VOCODER_INT8_AVX2_ONNX.name


def test_every_choice_has_a_reason() -> None:
    for flags in (VNNI, AVX2_ONLY, frozenset()):
        for requested in ("vocoder_int8.onnx", "vocoder.onnx"):
            assert choose_onnx_file(requested, "x86_64", flags, {}).reason


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
