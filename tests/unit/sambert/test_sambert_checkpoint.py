"""Checkpoint discovery, KAN-TTS's file format, and the strict key/shape check."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import torch

from mandarin_tts.sambert.checkpoint import (
    SambertCheckpointError,
    check_state_dict,
    load_model,
    load_voice_am,
    read_state_dict,
)
from mandarin_tts.sambert.config import SambertConfig, parse_config
from mandarin_tts.sambert.model import SambertModel
from mandarin_tts.sambert.random_checkpoint import DUR_BIAS_KEY, random_state_dict
from mandarin_tts.voice_files import newest_checkpoint

from .test_sambert_config import document, with_params


def _signature(model: SambertModel) -> tuple[int, int, str]:
    state = model.state_dict()
    text = "\n".join(f"{k} {tuple(v.shape)}" for k, v in sorted(state.items()))
    return (
        len(state),
        sum(v.numel() for v in state.values()),
        hashlib.sha256(text.encode()).hexdigest()[:16],
    )


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        # Measured on KAN-TTS's own KanTtsSAMBERT(params).state_dict() built from
        # sambert_16k.yaml / sambert_48k.yaml / sambert_sichuan_16k.yaml (by hand, in the
        # reference venv: scripts/verify_kantts_sambert.py checks the same): same 395 keys,
        # shapes and parameter counts as ours.
        (document(), (395, 12706787, "5fc6d0be13ac342a")),
        (with_params(max_len=900, num_mels=128), (395, 12819619, "92bfd5718c93ee7c")),
        (document(speaker_list="xiaoyue", language="Sichuan"), (395, 12690915, "7ec742765c08f2a4")),
    ],
)
def test_state_dict_names_and_shapes_equal_kantts(
    doc: dict, expected: tuple[int, int, str]
) -> None:
    assert _signature(SambertModel(parse_config(doc))) == expected


def test_some_kantts_parameter_names_exist(tiny_cfg: SambertConfig) -> None:
    state = SambertModel(tiny_cfg).state_dict()
    for key in (
        "text_encoder.ling_enc.position_enc.position_enc",
        "text_encoder.ling_enc.fft.0.slf_attn.w_qkv.weight",
        "variance_adaptor.pitch_predictor.blstm.weight_hh_l0_reverse",
        "variance_adaptor.duration_predictor.prenet.fcs.3.bias",
        "variance_adaptor.dur_position_encoder.inv_timescales",
        "mel_decoder.mel_dec.prenet.fcs.6.weight",
        "mel_decoder.mel_dec.pnca.1.pnca_attn.w_h_kv.weight",
        "mel_postnet.fsmn.memory_block_lst.1.conv_dw.weight",
        "spk_tokenizer.weight",
        "emo_tokenizer.weight",
    ):
        assert key in state, key


def test_unreadable_and_wrong_format_files(tmp_path: Path) -> None:
    with pytest.raises(SambertCheckpointError, match="no such checkpoint file"):
        read_state_dict(tmp_path / "checkpoint_1.pth")
    garbage = tmp_path / "checkpoint_2.pth"
    garbage.write_bytes(b"not a torch file at all")
    with pytest.raises(SambertCheckpointError, match=f"{garbage}: cannot read"):
        read_state_dict(garbage)
    bare = tmp_path / "checkpoint_3.pth"
    torch.save({"weight": torch.zeros(2)}, bare)  # a bare state dict, no "model"
    with pytest.raises(SambertCheckpointError, match="not a KAN-TTS checkpoint"):
        read_state_dict(bare)


def test_random_voice_has_kantts_layout(tiny_voice: Path, tiny_cfg: SambertConfig) -> None:
    ckpt = newest_checkpoint(tiny_voice / "am" / "ckpt", SambertCheckpointError)
    assert ckpt.name == "checkpoint_1200.pth"
    data = torch.load(ckpt, map_location="cpu", weights_only=True)
    assert set(data) == {"optimizer", "scheduler", "steps", "model"}
    assert data["steps"] == 1200
    assert data["model"][DUR_BIAS_KEY].item() == pytest.approx(1.5)
    cfg, model, path = load_voice_am(tiny_voice)
    assert cfg.replace(source="<tiny>") == tiny_cfg
    assert path == ckpt
    assert torch.equal(model.state_dict()[DUR_BIAS_KEY], data["model"][DUR_BIAS_KEY])


def test_key_and_shape_problems_name_the_checkpoint(
    tmp_path: Path, tiny_cfg: SambertConfig
) -> None:
    state = random_state_dict(tiny_cfg)
    state.pop("mel_postnet.fc.bias")
    state["align_attention.key_proj.0.conv.weight"] = torch.zeros(1)
    state["spk_tokenizer.weight"] = torch.zeros(7, tiny_cfg.speaker_units)
    path = tmp_path / "checkpoint_7.pth"
    torch.save({"model": state, "steps": 7, "optimizer": {}, "scheduler": {}}, path)
    with pytest.raises(SambertCheckpointError) as err:
        load_model(tiny_cfg, path)
    message = str(err.value)
    assert message.startswith(str(path))
    assert "missing keys (1): mel_postnet.fc.bias" in message
    assert "unexpected keys (1): align_attention.key_proj.0.conv.weight" in message
    assert "other shapes (1): spk_tokenizer.weight (7, 4) vs model (5, 4)" in message


def test_check_accepts_its_own_state(tiny_cfg: SambertConfig) -> None:
    model = SambertModel(tiny_cfg)
    check_state_dict(model, random_state_dict(tiny_cfg), "ok")


class _Custom:
    """Stands for any pickled object beyond tensors and plain containers."""


def test_pickled_objects_need_explicit_consent(tmp_path: Path, tiny_cfg: SambertConfig) -> None:
    path = tmp_path / "checkpoint_9.pth"
    torch.save({"model": random_state_dict(tiny_cfg), "scheduler": _Custom()}, path)
    with pytest.raises(SambertCheckpointError, match="allow_pickle=True"):
        read_state_dict(path)
    assert "spk_tokenizer.weight" in read_state_dict(path, allow_pickle=True)
