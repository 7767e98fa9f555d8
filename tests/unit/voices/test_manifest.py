import json
from dataclasses import replace
from pathlib import Path

import pytest

from mandarin_tts.build.bundled_voice import bundled_manifest
from mandarin_tts.voices.manifest import (
    MANIFEST_FILE,
    VoiceManifestError,
    load_manifest,
    write_manifest,
)
from mandarin_tts.voices.registry import (
    MODELS_DIR_ENV,
    VOICES_DIR_ENV,
    ensemble_name,
    installed_voices,
    load_voice,
    step_name,
)


def voice_folder(root: Path, name: str = "baker", **changes) -> Path:
    manifest = replace(bundled_manifest(root), name=name, **changes)
    for file in manifest.files.values():
        (root / file).parent.mkdir(parents=True, exist_ok=True)
        (root / file).write_bytes(b"onnx")
    write_manifest(manifest, root)
    return root


def test_a_manifest_round_trips_and_shows_no_paths(tmp_path):
    folder = voice_folder(tmp_path)
    loaded = load_manifest(folder)
    assert loaded == replace(bundled_manifest(folder), directory=folder)
    public = loaded.public()
    assert public["speakers"] == ["baker"] and "non-commercial" in public["licence"]
    assert "files" not in public and str(tmp_path) not in json.dumps(public)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": "Bad Name"}, "must match"),
        ({"family": "tacotron"}, "family must be one of"),
        ({"text_frontend": "espeak"}, "text_frontend must be one of"),
        ({"files": {"acoustic": "a.onnx"}}, "lacks the roles ['vocoder']"),
        ({"default_speaker": "nobody"}, "default of speakers 'nobody'"),
        ({"emotions": ()}, "emotions must be a non-empty list"),
        ({"controls": ("speed", "volume")}, "unknown controls ['volume']"),
        ({"sample_rate": 0}, "sample_rate must be positive"),
    ],
)
def test_an_inconsistent_manifest_is_refused_with_what_to_fix(tmp_path, change, message):
    data = json.loads(bundled_manifest(tmp_path).to_json())
    for key, value in change.items():
        data[key] = list(value) if isinstance(value, tuple) else value
    (tmp_path / MANIFEST_FILE).write_text(json.dumps(data))
    with pytest.raises(VoiceManifestError, match=None) as error:
        load_manifest(tmp_path, check_files=False)
    assert message in str(error.value)
    assert str(tmp_path / MANIFEST_FILE) in str(error.value)


def test_incomplete_folders_name_the_file(tmp_path):
    # Missing and unreadable manifests: tests/unit/test_voice_files.py.
    voice_folder(tmp_path)
    (tmp_path / "vocoder.onnx").unlink()
    with pytest.raises(VoiceManifestError, match="files missing: .*vocoder.onnx"):
        load_manifest(tmp_path)


def test_installed_voices_are_the_bundled_one_then_the_folders(tmp_path, monkeypatch):
    monkeypatch.setenv(MODELS_DIR_ENV, str(voice_folder(tmp_path / "models")))
    monkeypatch.setenv(VOICES_DIR_ENV, str(tmp_path / "voices"))
    assert list(installed_voices()) == ["baker"]
    voice_folder(tmp_path / "voices" / "zhitian", name="zhitian")
    voice_folder(tmp_path / "voices" / "aaa", name="aaa")
    (tmp_path / "voices" / "not_a_voice").mkdir()
    assert list(installed_voices()) == ["baker", "aaa", "zhitian"]
    assert load_voice("zhitian").directory == tmp_path / "voices" / "zhitian"


def test_a_folder_must_carry_its_voice_name(tmp_path, monkeypatch):
    monkeypatch.setenv(VOICES_DIR_ENV, str(tmp_path))
    voice_folder(tmp_path / "copy", name="original")
    with pytest.raises(
        VoiceManifestError, match="names voice 'original', but its folder is 'copy'"
    ):
        load_voice("copy")


def test_model_names_keep_the_bundled_voice_historic():
    assert ensemble_name("baker") == "tts" and step_name("baker", "vocoder") == "vocoder"
    assert ensemble_name("kefu") == "tts_kefu"
    assert step_name("kefu", "acoustic") == "kefu_acoustic"
    with pytest.raises(ValueError):
        step_name("kefu", "postnet")


def test_the_sambert_roles_are_the_exported_files():
    from mandarin_tts.pipeline.sambert import SAMBERT_ROLES
    from mandarin_tts.voices.kantts_frontend import UNIT_TABLES_ROLE
    from mandarin_tts.voices.manifest import FAMILY_SAMBERT, REQUIRED_FILES

    assert REQUIRED_FILES[FAMILY_SAMBERT] == (*SAMBERT_ROLES, "vocoder", UNIT_TABLES_ROLE)
