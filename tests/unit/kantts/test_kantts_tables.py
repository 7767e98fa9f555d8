"""The id tables equal KanTtsLinguisticUnit's (ids checked against KAN-TTS by
scripts/verify_kantts_hifigan.py; here: the facts those ids follow from)."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pytest
import yaml

from mandarin_tts.kantts.errors import KanttsUnitsError
from mandarin_tts.kantts.tables import DATA_DIR, UnitTables, emotion_types, pinyin_phones

# The KAN-TTS files as copied (data/README.md lists the same hashes).
DATA_SHA256 = {
    "PhoneSet.xml": "065c309da2aeb8b874b56267557c293afbd4dde22aa2ac62125872240df4787a",
    "py2phoneMap.txt": "e423b1b6774cd7d50c0b2430731676fe74c5c3315ff1f3c060aab12b2a01bc2b",
    "tonelist.txt": "9fee8236a986c2b0baf246e4a5fa7b261bcdcd917e032dede559df22a4e90f02",
    "En2ChPhoneMap.txt": "5269b2c22ead4c76b7c043fde8f4ca2b73f5e936427ba21be5dd7f094fff524c",
    "emotion_types.txt": "0bd68f3d30320baf56da2cb94ba81e325963b09f52abe029b37742ab4623ad22",
}


@pytest.mark.parametrize("name", sorted(DATA_SHA256))
def test_data_files_are_the_kantts_copies(name: str) -> None:
    digest = hashlib.sha256((DATA_DIR / name).read_bytes()).hexdigest()
    assert digest == DATA_SHA256[name]
    assert digest in (DATA_DIR / "README.md").read_text(encoding="utf-8")


def test_sy_table_layout(tables: UnitTables) -> None:
    phones = pinyin_phones()
    assert len(phones) == 140 and phones[:3] == ("a_c", "ai_c", "an_c") and phones[-1] == "pau"
    sy = tables.index("sy")
    assert len(tables.sy) == 147
    assert sy["@a_c"] == 0 and sy["@h_c"] == 16 and sy["@ga"] == 62
    assert [sy[f"@#{n}"] for n in range(1, 5)] == [140, 141, 142, 143]
    assert (sy["_"], sy["~"], sy["@[MASK]"]) == (144, 145, 146)


def test_small_tables(tables: UnitTables) -> None:
    assert tables.tone == ("tone1", "tone_none", "tone4", "tone2", "tone3", "tone5", "tone0",
                           "_", "~", "@[MASK]")  # fmt: skip
    assert tables.syllable_flag[:5] == ("s_begin", "s_end", "s_none", "s_both", "s_middle")
    assert tables.word_segment[:5] == (
        "word_begin", "word_end", "word_middle", "word_both", "word_none"
    )  # fmt: skip
    assert len(emotion_types()) == 33 and tables.index("emotion")["emotion_neutral"] == 1
    assert tables.speakers == ("F7", "M7", "xiaoyu") and tables.index("speaker")["M7"] == 1
    assert tables.eos_ids() == {"sy": 145, "tone": 8, "syllable_flag": 6, "word_segment": 6,
                                "emotion": 34, "speaker": 4}  # fmt: skip
    assert tables.pad_ids()["sy"] == 144


def test_unit_sizes_with_and_without_mask(tables: UnitTables) -> None:
    sizes = {"sy": 147, "tone": 10, "syllable_flag": 8, "word_segment": 8, "emotion": 36,
             "speaker": 6}  # fmt: skip
    assert tables.unit_sizes() == sizes
    assert tables.unit_sizes(has_mask=False) == {k: v - 1 for k, v in sizes.items()}


def _am_config(tmp_path: Path, **unit: str) -> Path:
    doc = {
        "model_type": "sambert",
        "Model": {"KanTtsSAMBERT": {"params": {"num_mels": 80}}},
        "linguistic_unit": {
            "cleaners": "english_cleaners",
            "lfeat_type_list": "sy,tone,syllable_flag,word_segment,emo_category,speaker_category",
            "speaker_list": "F7,F74,M7",
            **unit,
        },
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def test_from_am_config(tmp_path: Path) -> None:
    tables = UnitTables.from_am_config(_am_config(tmp_path))
    assert tables.speakers == ("F7", "F74", "M7")
    assert tables.cleaners == ("english_cleaners",)
    assert tables.source.endswith("config.yaml")


@pytest.mark.parametrize(
    ("unit", "message"),
    [
        ({"lfeat_type_list": "byte_index,emo_category,speaker_category"}, "byte input"),
        ({"language": "Sichuan"}, "'Sichuan' is not supported"),
        ({"lfeat_type_list": "sy,tone,syllable_flag,word_segment"}, "lfeat_type_list"),
        ({"speaker_list": "F7,F7"}, "repeats"),
        ({"speaker_list": ""}, "speaker_list"),
    ],
)
def test_from_am_config_rejects(tmp_path: Path, unit: dict[str, str], message: str) -> None:
    path = _am_config(tmp_path, **unit)
    with pytest.raises(KanttsUnitsError, match=message) as err:
        UnitTables.from_am_config(path)
    assert str(path) in str(err.value)


def test_json_round_trip(tables: UnitTables) -> None:
    back = UnitTables.from_json(tables.to_json(), source="x.json")
    assert dataclasses.replace(back, source=tables.source) == tables
    assert back.source == "x.json"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.pop("tone"), "'tone' must be a list"),
        (lambda d: d.update(format="other"), "not a kantts-unit-tables/1"),
        (lambda d: d["speaker"].pop(), "ending with"),
        (lambda d: d["sy"].insert(0, "@a_c"), "unique"),
    ],
)
def test_from_json_rejects(tables: UnitTables, edit, message: str) -> None:  # type: ignore[no-untyped-def]
    import json

    body = json.loads(tables.to_json())
    edit(body)
    with pytest.raises(KanttsUnitsError, match=message):
        UnitTables.from_json(json.dumps(body))
    with pytest.raises(KanttsUnitsError, match="not JSON"):
        UnitTables.from_json("{")
