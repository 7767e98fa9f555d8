"""The build's stamps: quantization code rebuilds only the int8 vocoder, model code both."""

from __future__ import annotations

from pathlib import Path

import pytest

from mandarin_tts.build import __main__ as build


@pytest.fixture()
def fake_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    vocoder = tmp_path / "mandarin_tts" / "vocoder"
    vocoder.mkdir(parents=True)
    for name in ("bridge.py", "quantize.py", "calibration_text.py"):
        (vocoder / name).write_text(f"# {name}\n")
    monkeypatch.setattr(build, "PROJECT_ROOT", tmp_path)
    return vocoder


def _digests() -> tuple[str, str]:
    float_digest = build.inputs_digest()
    return float_digest, build.int8_inputs_digest(float_digest)


@pytest.mark.parametrize("int8_file", ["quantize.py", "calibration_text.py"])
def test_quantization_inputs_change_only_the_int8_digest(
    fake_project: Path, int8_file: str
) -> None:
    before = _digests()
    (fake_project / int8_file).write_text("# changed\n")
    after = _digests()
    assert after[0] == before[0]
    assert after[1] != before[1]


def test_model_code_changes_both_digests(fake_project: Path) -> None:
    before = _digests()
    (fake_project / "bridge.py").write_text("# changed\n")
    after = _digests()
    assert after[0] != before[0] and after[1] != before[1]
