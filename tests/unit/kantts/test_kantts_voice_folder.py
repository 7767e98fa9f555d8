"""Voice folders: the tiny random voice, the newest checkpoint, and every error case."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import yaml

from mandarin_tts.kantts.errors import VoiceFolderError
from mandarin_tts.kantts.hifigan import load_hifigan
from mandarin_tts.kantts.units import KanttsUnitsFrontend
from mandarin_tts.kantts.voice_folder import read_voice_folder


def test_tiny_voice_layout(tiny_voice: Path) -> None:
    names = sorted(str(p.relative_to(tiny_voice)) for p in tiny_voice.rglob("*") if p.is_file())
    assert names == [
        "am/ckpt/checkpoint_1000.pth",
        "am/config.yaml",
        "audio_config.yaml",
        "voc/ckpt/checkpoint_1000.pth",
        "voc/config.yaml",
    ]
    size = sum(p.stat().st_size for p in tiny_voice.rglob("*") if p.is_file())
    assert size < 5_000_000
    voc = torch.load(tiny_voice / "voc/ckpt/checkpoint_1000.pth", weights_only=False)
    assert set(voc) == {"optimizer", "scheduler", "steps", "model"}
    assert set(voc["model"]) == {"generator", "discriminator"}
    assert "conv_pre.conv1d.weight_g" in voc["model"]["generator"]
    am = torch.load(tiny_voice / "am/ckpt/checkpoint_1000.pth", weights_only=False)
    assert set(am) == {"optimizer", "scheduler", "steps", "model"}


def test_read_tiny_voice(tiny_voice: Path) -> None:
    voice = read_voice_folder(tiny_voice)
    assert voice.root == tiny_voice
    assert (voice.sample_rate, voice.hop, voice.num_mels) == (16000, 200, voice.vocoder.num_mels)
    assert voice.speakers == ("F7", "M7") and "emotion_neutral" in voice.emotions
    assert voice.am_checkpoint.name == voice.voc_checkpoint.name == "checkpoint_1000.pth"
    assert voice.audio_config_path == tiny_voice / "audio_config.yaml"
    assert voice.mvn_path is None and voice.se_path is None
    assert voice.am_params["num_mels"] == voice.num_mels


def test_tiny_voice_synthesizes(tiny_voice: Path) -> None:
    """Text -> units -> Sambert (H1's torch reference) -> our HiFi-GAN: audio of the right size."""
    from mandarin_tts.sambert.checkpoint import load_voice_am
    from mandarin_tts.sambert.framing import SambertItem
    from mandarin_tts.sambert.model import synthesize_torch

    voice = read_voice_folder(tiny_voice)
    units = KanttsUnitsFrontend(voice.tables).encode("今天天气很好。", speaker="M7")
    _, am, _ = load_voice_am(voice.root)
    vocoder = load_hifigan(voice.voc_config_path, voice.voc_checkpoint)
    mel = synthesize_torch(am, SambertItem(units.ling, units.emotion, units.speaker))
    with torch.no_grad():
        audio = vocoder(torch.from_numpy(mel).T[None].float())[0, 0].numpy()
    assert mel.shape[1] == voice.num_mels and mel.shape[0] > 0
    assert audio.shape == (mel.shape[0] * voice.hop,)
    assert np.isfinite(audio).all() and 0.01 < np.abs(audio).max() <= 1.0


def _copy(tiny_voice: Path, tmp_path: Path) -> Path:
    target = tmp_path / "voice"
    shutil.copytree(tiny_voice, target)
    return target


def _edit_yaml(path: Path, edit: Any) -> None:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(doc)
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")


def test_newest_checkpoint_wins(tiny_voice: Path, tmp_path: Path) -> None:
    voice_dir = _copy(tiny_voice, tmp_path)
    ckpt_dir = voice_dir / "voc" / "ckpt"
    shutil.copy(ckpt_dir / "checkpoint_1000.pth", ckpt_dir / "checkpoint_20000.pth")
    shutil.copy(ckpt_dir / "checkpoint_1000.pth", ckpt_dir / "checkpoint_999.pth")
    (ckpt_dir / "checkpoint_best.pth").write_bytes(b"ignored: not checkpoint_<N>.pth")
    (ckpt_dir / "checkpoint-50000.pth").write_bytes(b"ignored as well")
    assert read_voice_folder(voice_dir).voc_checkpoint.name == "checkpoint_20000.pth"


def test_model_folder_with_voices_json(tiny_voice: Path, tmp_path: Path) -> None:
    model_dir = tmp_path / "model"
    shutil.copytree(tiny_voice, model_dir / "voices" / "zhitian")
    shutil.copytree(tiny_voice, model_dir / "voices" / "zhiyan")
    (model_dir / "voices" / "voices.json").write_text(
        json.dumps({"voices": ["zhitian", "zhiyan"]}), encoding="utf-8"
    )
    first = read_voice_folder(model_dir)
    assert first.root.name == "zhitian" and first.has_mask
    assert first.unit_sizes()["sy"] == 147
    (model_dir / "configuration.json").write_text(
        json.dumps({"model": {"am": {"linguistic_unit": {"has_mask": False}}}}), encoding="utf-8"
    )
    legacy = read_voice_folder(model_dir)
    assert not legacy.has_mask and legacy.unit_sizes()["sy"] == 146
    assert read_voice_folder(model_dir, voice="zhiyan").root.name == "zhiyan"
    with pytest.raises(VoiceFolderError, match="no voice 'zhibei'; it lists zhitian, zhiyan"):
        read_voice_folder(model_dir, voice="zhibei")


def _breakers() -> dict[str, tuple[Any, str]]:
    def remove(rel: str) -> Any:
        def apply(root: Path) -> None:
            target = root / rel
            shutil.rmtree(target) if target.is_dir() else target.unlink()

        return apply

    def am_params(**values: Any) -> Any:
        return lambda root: _edit_yaml(
            root / "am/config.yaml", lambda d: d["Model"]["KanTtsSAMBERT"]["params"].update(values)
        )

    def voc_params(**values: Any) -> Any:
        return lambda root: _edit_yaml(
            root / "voc/config.yaml", lambda d: d["Model"]["Generator"]["params"].update(values)
        )

    def write(rel: str, data: bytes) -> Any:
        return lambda root: (root / rel).write_bytes(data)

    def unit(**values: Any) -> Any:
        return lambda root: _edit_yaml(
            root / "am/config.yaml", lambda d: d["linguistic_unit"].update(values)
        )

    def audio(**values: Any) -> Any:
        return lambda root: _edit_yaml(
            root / "audio_config.yaml", lambda d: d["audio_config"].update(values)
        )

    return {
        "no am config": (remove("am/config.yaml"), r"am/config.yaml: acoustic model config not found"),
        "no voc config": (remove("voc/config.yaml"), r"voc/config.yaml: vocoder config not found"),
        "bad yaml": (write("am/config.yaml", b"Model: ["), "am/config.yaml: acoustic .* YAML"),
        "no am ckpt dir": (remove("am/ckpt"), r"am/ckpt: checkpoint folder not found"),
        "no voc ckpt": (remove("voc/ckpt/checkpoint_1000.pth"), r"voc/ckpt: no checkpoint_N.pth"),
        "corrupt am ckpt": (write("am/ckpt/checkpoint_1000.pth", b"\x00garbage"),
                            r"am/ckpt/checkpoint_1000.pth: not a readable torch checkpoint"),
        "corrupt voc ckpt": (write("voc/ckpt/checkpoint_1000.pth", b""),
                             r"voc/ckpt/checkpoint_1000.pth: not a readable"),
        "se voice": (am_params(SE=True), r"am/config.yaml: a speaker-embedding voice .*se.npy"),
        "nsf voice": (am_params(NSF=True), r"am/config.yaml: an NSF voice"),
        "nsf vocoder": (voc_params(nsf_params={"nb_harmonics": 7, "sampling_rate": 16000}),
                        r"voc/config.yaml: NSF HiFi-GAN"),
        "multi-band": (voc_params(out_channels=4), r"voc/config.yaml: multi-band"),
        "byte input": (unit(lfeat_type_list="byte_index,emo_category,speaker_category"),
                       r"am/config.yaml: byte input"),
        "mel mismatch": (voc_params(in_channels=80), r"num_mels 10 differs .* in_channels 80"),
        "hop mismatch": (audio(hop_length=256), r"hop_length differs between files"),
        "vocoder weights": (voc_params(channels=64), r"checkpoint_1000.pth: generator weights"),
        "not sambert": (lambda root: _edit_yaml(root / "am/config.yaml",
                                                lambda d: d["Model"].pop("KanTtsSAMBERT")),
                        r"no Model.KanTtsSAMBERT.params"),
    }  # fmt: skip


@pytest.mark.parametrize("case", sorted(_breakers()))
def test_voice_folder_errors(tiny_voice: Path, tmp_path: Path, case: str) -> None:
    breaker, message = _breakers()[case]
    voice_dir = _copy(tiny_voice, tmp_path)
    breaker(voice_dir)
    with pytest.raises(VoiceFolderError, match=message) as err:
        read_voice_folder(voice_dir)
    assert str(voice_dir) in str(err.value)


def test_not_a_voice(tmp_path: Path) -> None:
    with pytest.raises(VoiceFolderError, match="not a folder"):
        read_voice_folder(tmp_path / "missing")
    (tmp_path / "some.txt").write_text("x", encoding="utf-8")
    with pytest.raises(VoiceFolderError, match="not a KAN-TTS voice folder"):
        read_voice_folder(tmp_path)


def test_audio_config_is_optional(tiny_voice: Path, tmp_path: Path) -> None:
    voice_dir = _copy(tiny_voice, tmp_path)
    (voice_dir / "audio_config.yaml").unlink()
    voice = read_voice_folder(voice_dir)  # the configs carry the merged audio_config
    assert voice.audio_config_path is None and voice.sample_rate == 16000


def test_optional_npy_files_are_found(tiny_voice: Path, tmp_path: Path) -> None:
    voice_dir = _copy(tiny_voice, tmp_path)
    np.save(voice_dir / "am" / "mvn.npy", np.zeros((2, 1), np.float32))
    voice = read_voice_folder(voice_dir, verify_checkpoints=False)
    assert voice.mvn_path == voice_dir / "am" / "mvn.npy" and voice.se_path is None
