"""Parse a KAN-TTS Sambert acoustic-model `config.yaml` into a typed, frozen `SambertConfig`.

A KAN-TTS voice stores its am config as the YAML the trainer dumped at the start of training
(`am/config.yaml`): the `Model.KanTtsSAMBERT.params` block gives the architecture and the
`linguistic_unit` block the input units. The embedding table sizes (sy, tone, syllable_flag,
word_segment, emotion, speaker) are NOT in that file: KAN-TTS adds them at load time from its
phone set of the voice's language and from `speaker_list`. We derive them the same way from the
symbol counts of KAN-TTS's language folders (recorded below), unless the params block carries
them explicitly.

Variants our model does not implement raise `SambertConfigError` naming the file and the variant.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mandarin_tts.voice_files import kantts_model_params, read_document

# Every sub-unit table ends with the three specials pad "_", eos "~" and mask "@[MASK]".
N_SPECIAL = 3
# Number of emotion names in KAN-TTS's emotion_types (emotion_none .. emotion_placeholder9).
N_EMOTION_TYPES = 33
N_SYLLABLE_FLAGS = 5  # s_begin, s_end, s_none, s_both, s_middle
N_WORD_SEGMENTS = 5  # word_begin, word_end, word_middle, word_both, word_none

# Per language: (phones in PhoneSet.xml + the 4 prosody marks #1..#4, lines in tonelist.txt),
# counted in KAN-TTS's kantts/preprocess/languages/<lang>/.
LANGUAGE_SYMBOLS: dict[str, tuple[int, int]] = {
    "PinYin": (140 + 4, 7),
    "Sichuan": (109 + 4, 7),
    "ZhHK": (100 + 4, 11),
    "WuuShanghai": (150 + 4, 10),
}

# The only unit layout our text encoder implements (the byte-input variant is different).
SUPPORTED_LFEAT_TYPES = (
    "sy",
    "tone",
    "syllable_flag",
    "word_segment",
    "emo_category",
    "speaker_category",
)

_ARCH_INT_KEYS = (
    "max_len",
    "embedding_dim",
    "encoder_num_layers",
    "encoder_num_heads",
    "encoder_num_units",
    "encoder_ffn_inner_dim",
    "encoder_projection_units",
    "speaker_units",
    "emotion_units",
    "predictor_filter_size",
    "predictor_fsmn_num_layers",
    "predictor_num_memory_units",
    "predictor_ffn_inner_dim",
    "predictor_lstm_units",
    "dur_pred_lstm_units",
    "decoder_num_layers",
    "decoder_num_heads",
    "decoder_num_units",
    "decoder_ffn_inner_dim",
    "outputs_per_step",
    "num_mels",
    "postnet_filter_size",
    "postnet_fsmn_num_layers",
    "postnet_num_memory_units",
    "postnet_ffn_inner_dim",
    "postnet_lstm_units",
)
_ARCH_LIST_KEYS = ("dur_pred_prenet_units", "decoder_prenet_units")
_SHIFT_KEYS = ("predictor_shift", "postnet_shift")
# Training-only settings: read and ignored (eval mode has no dropout).
_IGNORED_KEYS = frozenset(
    {
        "encoder_dropout",
        "encoder_attention_dropout",
        "encoder_relu_dropout",
        "predictor_dropout",
        "decoder_dropout",
        "decoder_attention_dropout",
        "decoder_relu_dropout",
        "postnet_dropout",
    }
)
# Flags whose True value selects a variant we do not implement -> the variant's name.
_VARIANT_FLAGS = {
    "NSF": "NSF (f0/uv appended to the mel, denormalized with am/mvn.npy)",
    "SE": "speaker embedding input (SE, am/se.npy)",
    "MAS": "MAS (monotonic alignment search, align_attention weights)",
    "using_byte": "byte input (using_byte)",
    "FP": "filled-pause insertion (FP)",
}
_VOCAB_KEYS = ("sy", "tone", "syllable_flag", "word_segment", "emotion", "speaker")


class SambertConfigError(ValueError):
    """A KAN-TTS am config that is malformed or selects a variant we do not implement."""


@dataclass(frozen=True)
class VocabSizes:
    """Embedding table sizes (rows), as KAN-TTS's KanTtsLinguisticUnit.get_unit_size()."""

    sy: int
    tone: int
    syllable_flag: int
    word_segment: int
    emotion: int
    speaker: int

    def eos_ids(self) -> tuple[int, int, int, int, int, int]:
        """The id of "~" (eos) in each table: the second-to-last row (pad, eos, mask last)."""
        return (
            self.sy - 2,
            self.tone - 2,
            self.syllable_flag - 2,
            self.word_segment - 2,
            self.emotion - 2,
            self.speaker - 2,
        )


@dataclass(frozen=True)
class SambertConfig:
    """The KanTtsSAMBERT architecture; field names are KAN-TTS's params keys."""

    vocab: VocabSizes
    speakers: tuple[str, ...]
    language: str
    max_len: int
    embedding_dim: int
    encoder_num_layers: int
    encoder_num_heads: int
    encoder_num_units: int
    encoder_ffn_inner_dim: int
    encoder_projection_units: int
    speaker_units: int
    emotion_units: int
    predictor_filter_size: int
    predictor_fsmn_num_layers: int
    predictor_num_memory_units: int
    predictor_ffn_inner_dim: int
    predictor_shift: tuple[int, ...]  # one per FSMN layer (KAN-TTS accepts an int or a list)
    predictor_lstm_units: int
    dur_pred_prenet_units: tuple[int, ...]
    dur_pred_lstm_units: int
    decoder_prenet_units: tuple[int, ...]
    decoder_num_layers: int
    decoder_num_heads: int
    decoder_num_units: int
    decoder_ffn_inner_dim: int
    outputs_per_step: int
    num_mels: int
    postnet_filter_size: int
    postnet_fsmn_num_layers: int
    postnet_num_memory_units: int
    postnet_ffn_inner_dim: int
    postnet_shift: tuple[int, ...]
    postnet_lstm_units: int
    source: str = ""  # the file it was read from, for error messages

    @property
    def decoder_memory_units(self) -> int:
        """Width of one decoder memory row: r frames of text + the speaker and emotion."""
        return (
            self.encoder_projection_units * self.outputs_per_step
            + self.speaker_units
            + self.emotion_units
        )

    @property
    def duration_cond_units(self) -> int:
        return self.encoder_projection_units + self.speaker_units + self.emotion_units

    def replace(self, **changes: Any) -> SambertConfig:
        return dataclasses.replace(self, **changes)

    def to_params(self) -> dict[str, Any]:
        """The `Model.KanTtsSAMBERT.params` dict KAN-TTS's constructor takes (incl. vocab)."""
        params: dict[str, Any] = {}
        for key in _ARCH_INT_KEYS:
            params[key] = getattr(self, key)
        for key in _ARCH_LIST_KEYS:
            params[key] = list(getattr(self, key))
        for key in _SHIFT_KEYS:
            shift = getattr(self, key)
            params[key] = shift[0] if len(set(shift)) == 1 else list(shift)
        for key in _IGNORED_KEYS:
            params[key] = 0.1
        params["MAS"] = False
        params.update(dataclasses.asdict(self.vocab))
        return params

    def to_yaml_dict(self) -> dict[str, Any]:
        """A minimal am config.yaml this parser (and KAN-TTS) reads back to the same model."""
        params = self.to_params()
        for key in _VOCAB_KEYS:
            params.pop(key)
        return {
            "model_type": "sambert",
            "Model": {"KanTtsSAMBERT": {"params": params}},
            "linguistic_unit": {
                "cleaners": "english_cleaners",
                "lfeat_type_list": ",".join(SUPPORTED_LFEAT_TYPES),
                "speaker_list": ",".join(self.speakers),
                **({} if self.language == "PinYin" else {"language": self.language}),
            },
        }


def _fail(source: str, message: str) -> SambertConfigError:
    return SambertConfigError(f"{source}: {message}")


def _shift_tuple(source: str, key: str, value: Any, layers: int) -> tuple[int, ...]:
    if isinstance(value, bool):
        raise _fail(source, f"{key} must be an int or a list of ints, got {value!r}")
    if isinstance(value, int):
        return (value,) * layers
    if isinstance(value, list) and all(isinstance(v, int) for v in value) and len(value) == layers:
        return tuple(value)
    raise _fail(source, f"{key} must be an int or {layers} ints, got {value!r}")


def memory_padding(filter_size: int, shift: int) -> tuple[int, int]:
    """KAN-TTS MemoryBlockV2's (left, right) zero padding of the depthwise FSMN filter."""
    left = int(round((filter_size - 1) / 2))
    right = int((filter_size - 1) / 2)
    if shift > 0:
        left += shift
        right -= shift
    return left, right


def _vocab(source: str, params: dict[str, Any], unit: dict[str, Any]) -> tuple[VocabSizes, str]:
    speakers = [s.strip() for s in str(unit.get("speaker_list", "")).split(",") if s.strip()]
    language = str(unit.get("language", "PinYin"))
    explicit = {key: params[key] for key in _VOCAB_KEYS if key in params}
    if len(explicit) == len(_VOCAB_KEYS):
        return VocabSizes(**{k: int(v) for k, v in explicit.items()}), language
    if language not in LANGUAGE_SYMBOLS:
        raise _fail(
            source,
            f"linguistic_unit.language {language!r} has no known phone set "
            f"(known: {', '.join(LANGUAGE_SYMBOLS)}); give sy/tone/... sizes in the params",
        )
    if not speakers:
        raise _fail(source, "linguistic_unit.speaker_list is empty")
    phones, tones = LANGUAGE_SYMBOLS[language]
    derived = {
        "sy": phones + N_SPECIAL,
        "tone": tones + N_SPECIAL,
        "syllable_flag": N_SYLLABLE_FLAGS + N_SPECIAL,
        "word_segment": N_WORD_SEGMENTS + N_SPECIAL,
        "emotion": N_EMOTION_TYPES + N_SPECIAL,
        "speaker": len(speakers) + N_SPECIAL,
    }
    derived.update({k: int(v) for k, v in explicit.items()})
    return VocabSizes(**derived), language


def parse_config(raw: dict[str, Any], source: str = "<config>") -> SambertConfig:
    """Build a SambertConfig from a loaded KAN-TTS am config (the whole YAML document)."""
    params = kantts_model_params(raw, "sambert", "KanTtsSAMBERT", lambda m: _fail(source, m))
    others = sorted(set(raw["Model"]) - {"KanTtsSAMBERT"})
    if others:
        raise _fail(source, f"unsupported variant: extra models {others} next to KanTtsSAMBERT")
    unit = raw.get("linguistic_unit")
    if not isinstance(unit, dict):
        raise _fail(source, "no linguistic_unit block")

    for flag, variant in _VARIANT_FLAGS.items():
        if params.get(flag, False):
            raise _fail(source, f"unsupported variant: {variant}")
    lfeat = tuple(s.strip() for s in str(unit.get("lfeat_type_list", "")).split(","))
    if "byte_index" in lfeat:
        raise _fail(source, "unsupported variant: byte input (lfeat_type_list has byte_index)")
    if lfeat != SUPPORTED_LFEAT_TYPES:
        raise _fail(
            source,
            f"unsupported variant: lfeat_type_list {','.join(lfeat)!r} "
            f"(supported: {','.join(SUPPORTED_LFEAT_TYPES)})",
        )

    known = (
        set(_ARCH_INT_KEYS)
        | set(_ARCH_LIST_KEYS)
        | set(_SHIFT_KEYS)
        | _IGNORED_KEYS
        | set(_VARIANT_FLAGS)
        | set(_VOCAB_KEYS)
    )
    unknown = sorted(set(params) - known)
    if unknown:
        raise _fail(source, f"unsupported variant: unknown KanTtsSAMBERT params {unknown}")
    missing = sorted(
        key for key in (*_ARCH_INT_KEYS, *_ARCH_LIST_KEYS, *_SHIFT_KEYS) if key not in params
    )
    if missing:
        raise _fail(source, f"KanTtsSAMBERT params lack {missing}")

    values: dict[str, Any] = {}
    for key in _ARCH_INT_KEYS:
        value = params[key]
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise _fail(source, f"{key} must be a positive int, got {value!r}")
        values[key] = value
    for key in _ARCH_LIST_KEYS:
        value = params[key]
        if (
            not isinstance(value, list)
            or not value
            or not all(isinstance(v, int) and v > 0 for v in value)
        ):
            raise _fail(source, f"{key} must be a non-empty list of positive ints, got {value!r}")
        values[key] = tuple(value)
    values["predictor_shift"] = _shift_tuple(
        source, "predictor_shift", params["predictor_shift"], values["predictor_fsmn_num_layers"]
    )
    values["postnet_shift"] = _shift_tuple(
        source, "postnet_shift", params["postnet_shift"], values["postnet_fsmn_num_layers"]
    )
    for key, units, heads in (
        ("encoder", values["encoder_num_units"], values["encoder_num_heads"]),
        ("decoder", values["decoder_num_units"], values["decoder_num_heads"]),
    ):
        if units % heads:
            raise _fail(source, f"{key}_num_units {units} is not a multiple of its {heads} heads")
    for key in ("predictor", "postnet"):
        filt = values[f"{key}_filter_size"]
        for shift in values[f"{key}_shift"]:
            if memory_padding(filt, shift)[1] < 0:
                raise _fail(source, f"{key}_shift {shift} exceeds half the filter size {filt}")

    vocab, language = _vocab(source, params, unit)
    speakers = tuple(s.strip() for s in str(unit.get("speaker_list", "")).split(",") if s.strip())
    return SambertConfig(vocab=vocab, speakers=speakers, language=language, source=source, **values)


def load_config(path: str | Path) -> SambertConfig:
    """Read a KAN-TTS am config.yaml; raises SambertConfigError naming `path`."""
    path = Path(path)
    raw = read_document(path, SambertConfigError, "am config")
    return parse_config(raw, source=str(path))


# The Model.KanTtsSAMBERT.params of KAN-TTS's kantts/configs/sambert_16k.yaml as it ships
# (dropouts and all): full-size random voices and tests need no KAN-TTS checkout. The 24k
# file has the same params; 48k differs in max_len 900 and num_mels 128.
KANTTS_SAMBERT_16K_PARAMS: dict[str, Any] = {
    "max_len": 800,
    "embedding_dim": 512,
    "encoder_num_layers": 8,
    "encoder_num_heads": 8,
    "encoder_num_units": 128,
    "encoder_ffn_inner_dim": 1024,
    "encoder_dropout": 0.1,
    "encoder_attention_dropout": 0.1,
    "encoder_relu_dropout": 0.1,
    "encoder_projection_units": 32,
    "speaker_units": 32,
    "emotion_units": 32,
    "predictor_filter_size": 41,
    "predictor_fsmn_num_layers": 3,
    "predictor_num_memory_units": 128,
    "predictor_ffn_inner_dim": 256,
    "predictor_dropout": 0.1,
    "predictor_shift": 0,
    "predictor_lstm_units": 128,
    "dur_pred_prenet_units": [128, 128],
    "dur_pred_lstm_units": 128,
    "decoder_prenet_units": [256, 256],
    "decoder_num_layers": 12,
    "decoder_num_heads": 8,
    "decoder_num_units": 128,
    "decoder_ffn_inner_dim": 1024,
    "decoder_dropout": 0.1,
    "decoder_attention_dropout": 0.1,
    "decoder_relu_dropout": 0.1,
    "outputs_per_step": 3,
    "num_mels": 80,
    "postnet_filter_size": 41,
    "postnet_fsmn_num_layers": 4,
    "postnet_num_memory_units": 256,
    "postnet_ffn_inner_dim": 512,
    "postnet_dropout": 0.1,
    "postnet_shift": 17,
    "postnet_lstm_units": 128,
    "MAS": False,
}


def tiny_config(base: SambertConfig | None = None, **overrides: Any) -> SambertConfig:
    """A scaled-down Sambert (small dims, few layers) for fast tests; same code paths."""
    vocab = base.vocab if base is not None else VocabSizes(147, 10, 8, 8, 36, 5)
    speakers = base.speakers if base is not None else ("F7", "M7")
    values: dict[str, Any] = {
        "vocab": vocab,
        "speakers": speakers,
        "language": base.language if base is not None else "PinYin",
        "max_len": 64,
        "embedding_dim": 24,
        "encoder_num_layers": 2,
        "encoder_num_heads": 2,
        "encoder_num_units": 16,
        "encoder_ffn_inner_dim": 32,
        "encoder_projection_units": 8,
        "speaker_units": 4,
        "emotion_units": 4,
        "predictor_filter_size": 5,
        "predictor_fsmn_num_layers": 2,
        "predictor_num_memory_units": 16,
        "predictor_ffn_inner_dim": 16,
        "predictor_shift": (0, 0),
        "predictor_lstm_units": 8,
        "dur_pred_prenet_units": (16, 16),
        "dur_pred_lstm_units": 16,
        "decoder_prenet_units": (16, 16),
        "decoder_num_layers": 2,
        "decoder_num_heads": 2,
        "decoder_num_units": 16,
        "decoder_ffn_inner_dim": 32,
        "outputs_per_step": 3,
        "num_mels": 10,
        "postnet_filter_size": 7,
        "postnet_fsmn_num_layers": 2,
        "postnet_num_memory_units": 16,
        "postnet_ffn_inner_dim": 16,
        "postnet_shift": (2, 2),
        "postnet_lstm_units": 8,
        "source": "<tiny>",
    }
    values.update(overrides)
    return SambertConfig(**values)
