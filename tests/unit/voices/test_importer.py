"""The importer on tiny random-weight voices in ModelScope/KAN-TTS layout (a few seconds)."""

import shutil

import numpy as np
import pytest
import torch
import yaml

from mandarin_tts.kantts.tiny_voice import write_random_voice
from mandarin_tts.pipeline import VoicePipeline
from mandarin_tts.voices.__main__ import main as voices_cli
from mandarin_tts.voices.importer import UNKNOWN_LICENCE, VoiceImportError, import_voice
from mandarin_tts.voices.manifest import FAMILY_SAMBERT, load_manifest


@pytest.fixture(scope="module")
def kantts_voice(tmp_path_factory):
    return write_random_voice(tmp_path_factory.mktemp("kantts") / "voice", speakers=("F7", "M1"))


@pytest.fixture(scope="module")
def installed(kantts_voice, tmp_path_factory):
    out = tmp_path_factory.mktemp("voices") / "kefu"
    import_voice(kantts_voice, out, only_emotions=("neutral", "happy"))
    return out


def copy_voice(kantts_voice, tmp_path):
    return shutil.copytree(kantts_voice, tmp_path / "voice")


def test_an_imported_voice_is_a_complete_manifest_that_speaks(installed, kantts_voice):
    manifest = load_manifest(installed)
    assert manifest.family == FAMILY_SAMBERT and manifest.name == "kefu"
    assert manifest.speakers == ("F7", "M1") and manifest.emotions == ("neutral", "happy")
    assert manifest.licence == UNKNOWN_LICENCE
    assert str(kantts_voice.resolve()) in manifest.source
    assert len(manifest.extra["am_checkpoint_sha256"]) == 64
    pipeline = VoicePipeline.load(manifest)
    audio = pipeline.synthesize("你好。", speaker="M1", emotion="happy")
    assert audio.ndim == 1 and audio.size > 0 and np.isfinite(audio).all()
    assert pipeline.sample_rate == manifest.sample_rate
    assert not [p for p in installed.parent.iterdir() if p.name.startswith(".")]


def test_the_licence_comes_from_the_model_card_or_the_option(kantts_voice, tmp_path):
    voice = copy_voice(kantts_voice, tmp_path)
    (voice / "README.md").write_text(
        "---\ntasks: text-to-speech\nlicense: Apache License 2.0\n---\n"
    )
    manifest = import_voice(voice, tmp_path / "out" / "a", smoke_test=False)
    assert manifest.licence.startswith("Apache License 2.0 (from ")
    manifest = import_voice(voice, tmp_path / "out" / "b", licence="ours", smoke_test=False)
    assert manifest.licence == "ours"


def break_file(voice, what):
    if what == "nsf":
        config = yaml.safe_load((voice / "am/config.yaml").read_text())
        config["Model"]["KanTtsSAMBERT"]["params"]["NSF"] = True
        (voice / "am/config.yaml").write_text(yaml.safe_dump(config))
        return "am/config.yaml", "NSF"
    if what == "se":
        config = yaml.safe_load((voice / "am/config.yaml").read_text())
        config["Model"]["KanTtsSAMBERT"]["params"]["SE"] = True
        (voice / "am/config.yaml").write_text(yaml.safe_dump(config))
        return "am/config.yaml", "speaker-embedding"
    if what == "unreadable":
        next((voice / "am/ckpt").glob("*.pth")).write_bytes(b"not a checkpoint")
        return "am/ckpt/checkpoint_1000.pth", ""
    if what == "missing":
        for ckpt in (voice / "voc/ckpt").glob("*.pth"):
            ckpt.unlink()
        return "voc/ckpt", "no checkpoint_N.pth"
    if what == "shapes":
        path = next((voice / "am/ckpt").glob("*.pth"))
        data = torch.load(path, weights_only=False)
        key = next(iter(data["model"]))
        data["model"][key] = torch.zeros(3, 3, 3)
        torch.save(data, path)
        return "am/ckpt/checkpoint_1000.pth", key
    raise AssertionError(what)


@pytest.mark.parametrize("what", ["nsf", "se", "unreadable", "missing", "shapes"])
def test_a_broken_voice_is_refused_naming_the_file_and_nothing_is_installed(
    kantts_voice, tmp_path, what
):
    voice = copy_voice(kantts_voice, tmp_path)
    file, detail = break_file(voice, what)
    out = tmp_path / "voices" / "kefu"
    with pytest.raises(VoiceImportError) as error:
        import_voice(voice, out)
    assert file.split("/")[-1] in str(error.value)
    assert detail in str(error.value)
    assert not out.exists()
    assert not (tmp_path / "voices").exists() or not list((tmp_path / "voices").iterdir())


def test_not_a_voice_folder_and_bad_names_are_refused(tmp_path, kantts_voice):
    with pytest.raises(VoiceImportError, match="not a KAN-TTS voice folder"):
        import_voice(tmp_path, tmp_path / "out" / "x")
    with pytest.raises(VoiceImportError, match="must match"):
        import_voice(kantts_voice, tmp_path / "out" / "Bad-Name")
    with pytest.raises(VoiceImportError, match="lack; they have"):
        import_voice(kantts_voice, tmp_path / "out" / "x", only_emotions=("joyful",))


def test_the_cli_prints_units_and_runs_each_stage(installed, tmp_path, capsys):
    assert voices_cli(["units", str(installed), "--text", "你好。", "--speaker", "M1"]) == 0
    units = capsys.readouterr().out.strip()
    assert units.startswith("{n_c$tone2$s_begin$word_begin$emotion_neutral$M1}")
    (tmp_path / "units.txt").write_text(units)
    mel, audio = tmp_path / "mel.npy", tmp_path / "audio.npy"
    assert (
        voices_cli(
            [
                "acoustic",
                str(installed),
                "--units-file",
                str(tmp_path / "units.txt"),
                "--out",
                str(mel),
            ]
        )
        == 0
    )
    assert voices_cli(["vocoder", str(installed), "--mel", str(mel), "--out", str(audio)]) == 0
    frames, samples = np.load(mel), np.load(audio)
    manifest = load_manifest(installed)
    assert frames.dtype == np.float32 and frames.shape[1] == manifest.extra["n_mels"]
    assert samples.dtype == np.float32 and samples.size == frames.shape[0] * manifest.extra["hop"]
    assert voices_cli(["units", str(installed), "--text", "你好", "--speaker", "F9"]) == 2
    assert "choose one of: F7, M1" in capsys.readouterr().err
