"""KAN-TTS am config.yaml parsing: the supported architectures and the rejected variants."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from mandarin_tts.sambert.config import (
    KANTTS_SAMBERT_16K_PARAMS,
    SambertConfigError,
    VocabSizes,
    load_config,
    parse_config,
    tiny_config,
)


def document(params: dict[str, Any] | None = None, **unit: Any) -> dict[str, Any]:
    """A config document as the KAN-TTS trainer dumps it (audio settings and all)."""
    linguistic = {
        "cleaners": "english_cleaners",
        "lfeat_type_list": "sy,tone,syllable_flag,word_segment,emo_category,speaker_category",
        "speaker_list": "F7",
        **unit,
    }
    return {
        "model_type": "sambert",
        "sampling_rate": 16000,
        "Model": {
            "KanTtsSAMBERT": {
                "params": copy.deepcopy(KANTTS_SAMBERT_16K_PARAMS if params is None else params),
                "optimizer": {"type": "Adam", "params": {"lr": 0.001}},
                "scheduler": {"type": "NoamLR", "params": {"warmup_steps": 4000}},
            }
        },
        "linguistic_unit": linguistic,
        "batch_size": 32,
    }


def with_params(**changes: Any) -> dict[str, Any]:
    params = copy.deepcopy(KANTTS_SAMBERT_16K_PARAMS)
    params.update(changes)
    return document(params)


def write(tmp_path: Path, doc: dict[str, Any], name: str = "config.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.dump(doc, Dumper=yaml.Dumper, default_flow_style=None), encoding="utf-8")
    return path


def test_16k_config_parses_with_kantts_unit_sizes(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, document()))
    # KanTtsLinguisticUnit sizes for PinYin: 140 phones + #1..#4 + 3 specials, 7 tones + 3, ...
    assert cfg.vocab == VocabSizes(
        sy=147, tone=10, syllable_flag=8, word_segment=8, emotion=36, speaker=4
    )
    assert cfg.speakers == ("F7",)
    assert (cfg.num_mels, cfg.outputs_per_step, cfg.decoder_num_layers) == (80, 3, 12)
    assert cfg.postnet_shift == (17, 17, 17, 17)
    assert cfg.predictor_shift == (0, 0, 0)
    assert cfg.dur_pred_prenet_units == (128, 128)
    assert cfg.decoder_memory_units == 32 * 3 + 32 + 32
    assert cfg.vocab.eos_ids() == (145, 8, 6, 6, 34, 2)


def test_48k_and_multi_speaker_and_sichuan(tmp_path: Path) -> None:
    cfg48 = parse_config(with_params(max_len=900, num_mels=128))
    assert (cfg48.max_len, cfg48.num_mels) == (900, 128)
    many = parse_config(document(speaker_list="F7,F74,M7,FBYN,FRXL,xiaoyu"))
    assert many.vocab.speaker == 6 + 3
    assert many.speakers[2] == "M7"
    sichuan = parse_config(document(speaker_list="xiaoyue", language="Sichuan"))
    assert sichuan.vocab.sy == 109 + 4 + 3
    assert sichuan.language == "Sichuan"


def test_explicit_unit_sizes_in_params_win() -> None:
    sizes = {"sy": 150, "tone": 11, "syllable_flag": 8, "word_segment": 8, "emotion": 36}
    cfg = parse_config(with_params(speaker=9, **sizes))
    assert cfg.vocab == VocabSizes(speaker=9, **sizes)


def test_yaml_round_trip_of_our_minimal_config(tmp_path: Path) -> None:
    cfg = tiny_config()
    path = write(tmp_path, cfg.to_yaml_dict())
    assert load_config(path).replace(source="<tiny>") == cfg


@pytest.mark.parametrize(
    ("doc", "variant"),
    [
        (with_params(NSF=True, num_mels=82), "NSF"),
        (with_params(SE=True, speaker_units=192), "speaker embedding"),
        (with_params(MAS=True), "MAS"),
        (with_params(MAS=True, using_byte=True), "MAS"),
        (with_params(FP=True), "filled-pause"),
        (with_params(multi_stream=True), "unknown KanTtsSAMBERT params ['multi_stream']"),
        (document(lfeat_type_list="byte_index,emo_category,speaker_category"), "byte input"),
        (
            document(lfeat_type_list="sy,tone,syllable_flag,word_segment,emo_category"),
            "lfeat_type_list",
        ),
        (document(language="Klingon"), "Klingon"),
    ],
)
def test_unsupported_variants_name_the_file_and_variant(
    tmp_path: Path, doc: dict[str, Any], variant: str
) -> None:
    path = write(tmp_path, doc, "am_config.yaml")
    with pytest.raises(SambertConfigError) as err:
        load_config(path)
    assert str(path) in str(err.value)
    assert "unsupported variant" in str(err.value) or "phone set" in str(err.value)
    assert variant in str(err.value)


def test_byte_config_without_mas_is_still_rejected_as_byte() -> None:
    doc = with_params(using_byte=True)
    with pytest.raises(SambertConfigError, match="byte input"):
        parse_config(doc, "x.yaml")


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"model_type": "hifigan"}, "model_type 'hifigan' is not supported"),
        ({"Model": {"Generator": {}}}, "no Model.KanTtsSAMBERT"),
        (
            {**document(), "Model": {**document()["Model"], "KanTtsTextsyBERT": {}}},
            "extra models",
        ),
        ({k: v for k, v in document().items() if k != "linguistic_unit"}, "linguistic_unit"),
        (with_params(num_mels="80"), "num_mels must be a positive int"),
        (with_params(decoder_num_heads=7), "not a multiple"),
        (with_params(postnet_shift=[1, 2]), "postnet_shift"),
        (with_params(predictor_shift=30), "exceeds half the filter"),
        (document(speaker_list=""), "speaker_list is empty"),
    ],
)
def test_malformed_configs(doc: dict[str, Any], message: str) -> None:
    with pytest.raises(SambertConfigError, match=message):
        parse_config(doc, "bad.yaml")


def test_missing_key_is_named() -> None:
    params = copy.deepcopy(KANTTS_SAMBERT_16K_PARAMS)
    del params["decoder_num_layers"]
    with pytest.raises(SambertConfigError, match="decoder_num_layers"):
        parse_config(document(params), "bad.yaml")
