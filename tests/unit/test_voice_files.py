"""The one reader of voice-folder files: every config/manifest loader turns a missing or
unreadable file into its own error naming the path, and checkpoint_N.pth discovery picks
the largest N."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mandarin_tts.kantts.errors import KanttsUnitsError, KanttsVocoderConfigError
from mandarin_tts.kantts.tables import UnitTables
from mandarin_tts.kantts.voc_config import load_hifigan_config
from mandarin_tts.sambert.config import SambertConfigError, load_config
from mandarin_tts.voice_files import kantts_model_params, newest_checkpoint, read_document
from mandarin_tts.voices.manifest import MANIFEST_FILE, VoiceManifestError, load_manifest

# (loader, its error, the file name it reads, text that does not parse)
LOADERS: list[tuple[Callable[[Path], Any], type[Exception], str, str]] = [
    (load_hifigan_config, KanttsVocoderConfigError, "config.yaml", "Model: ["),
    (UnitTables.from_am_config, KanttsUnitsError, "config.yaml", "Model: ["),
    (load_config, SambertConfigError, "config.yaml", "Model: [unclosed"),
    (lambda p: load_manifest(p.parent), VoiceManifestError, MANIFEST_FILE, "{not json"),
]


@pytest.mark.parametrize(("load", "error", "name", "broken"), LOADERS)
def test_loaders_name_the_missing_or_unreadable_file(
    tmp_path: Path,
    load: Callable[[Path], Any],
    error: type[Exception],
    name: str,
    broken: str,
) -> None:
    path = tmp_path / name
    with pytest.raises(error, match=f"{path}: .* not found"):
        load(path)
    path.write_text(broken, encoding="utf-8")
    kind = "JSON" if name.endswith(".json") else "YAML"
    with pytest.raises(error, match=f"{path}: .* is unreadable {kind}"):
        load(path)


def test_documents_parse_by_suffix(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("x: [1, 2]\n", encoding="utf-8")
    (tmp_path / "a.json").write_text('{"x": [1, 2]}', encoding="utf-8")
    (tmp_path / "b.json").write_text("x: [1, 2]\n", encoding="utf-8")  # YAML is not JSON
    assert read_document(tmp_path / "a.yaml", ValueError, "doc") == {"x": [1, 2]}
    assert read_document(tmp_path / "a.json", ValueError, "doc") == {"x": [1, 2]}
    with pytest.raises(ValueError, match="doc is unreadable JSON"):
        read_document(tmp_path / "b.json", ValueError, "doc")
    (tmp_path / "latin1.yaml").write_bytes("x: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ValueError, match="unreadable YAML"):
        read_document(tmp_path / "latin1.yaml", ValueError, "doc")


def test_newest_checkpoint_number_wins(tmp_path: Path) -> None:
    for name in (
        "checkpoint_900.pth",
        "checkpoint_1000.pth",
        "checkpoint_20.pth",
        "checkpoint_x.pth",
    ):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "checkpoint_5000.pth.tmp").write_bytes(b"")
    (tmp_path / "checkpoint_9000.pth").mkdir()  # a folder is not a checkpoint
    assert newest_checkpoint(tmp_path, ValueError).name == "checkpoint_1000.pth"


def test_missing_folder_or_no_checkpoint(tmp_path: Path) -> None:
    with pytest.raises(KeyError, match="checkpoint folder not found"):
        newest_checkpoint(tmp_path / "absent", KeyError)
    (tmp_path / "model.pth").write_bytes(b"")
    with pytest.raises(KeyError, match=f"{tmp_path}: no checkpoint_N.pth"):
        newest_checkpoint(tmp_path, KeyError)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (["not", "a", "mapping"], "not a YAML mapping"),
        ({"model_type": "sambert"}, "model_type 'sambert' is not supported \\(only 'hifigan'\\)"),
        ({"Model": {"Generator": {}}}, "no Model.Generator.params section"),
        ({"Model": {"Generator": {"params": [1]}}}, "no Model.Generator.params section"),
    ],
)
def test_kantts_model_params_say_what_is_wrong(document: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        kantts_model_params(document, "hifigan", "Generator", ValueError)


def test_kantts_model_params_default_model_type() -> None:
    document = {"Model": {"Generator": {"params": {"channels": 8}}}}
    assert kantts_model_params(document, "hifigan", "Generator", ValueError) == {"channels": 8}
