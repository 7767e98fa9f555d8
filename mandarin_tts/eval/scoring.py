"""Per-utterance scores (Whisper PER and CER, DNSMOS) and their per-system summary.

PER is the toneless pinyin error rate of mandarin_tts.eval.pinyin_error. CER compares
characters after the same normalisation (traditional -> simplified, Arabic digits ->
Chinese numerals), keeping Han characters and Latin letters/digits so that acronyms count
too; punctuation and spaces are dropped. Both are corpus rates: total edits / total
reference units, so long texts weigh by their length.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from mandarin_tts.eval.pinyin_error import (
    ErrorCount,
    digits_to_chinese,
    edit_distance,
    pinyin_errors,
    to_simplified,
)

_KEPT_CHARS = re.compile(r"[\u4e00-\u9fffA-Z0-9]")
DNSMOS_RATE = 16_000
DNSMOS_KEYS = ("ovrl", "sig", "bak", "p808")


def cer_units(text: str) -> list[str]:
    """The characters CER compares: Han, Latin letters (upper-cased) and leftover digits."""
    normalised = to_simplified(digits_to_chinese(text)).upper()
    return _KEPT_CHARS.findall(normalised)


def char_errors(reference_text: str, hypothesis_text: str) -> ErrorCount:
    reference = cer_units(reference_text)
    return ErrorCount(edit_distance(reference, cer_units(hypothesis_text)), len(reference))


@dataclass(frozen=True)
class Dnsmos:
    ovrl: float
    sig: float
    bak: float
    p808: float


def dnsmos(audio: np.ndarray, sample_rate: int = DNSMOS_RATE) -> Dnsmos:
    """DNSMOS P.835 (OVRL, SIG, BAK) and P.808 of 16 kHz float audio (speechmos's models).

    Audio is scaled down only if it exceeds [-1, 1] (the model rejects it otherwise)."""
    from speechmos import dnsmos as speechmos_dnsmos

    if sample_rate != DNSMOS_RATE:
        raise ValueError(f"DNSMOS takes {DNSMOS_RATE} Hz audio, got {sample_rate} Hz")
    samples = np.asarray(audio, dtype=np.float64).ravel()
    if samples.size == 0:
        raise ValueError("DNSMOS needs non-empty audio")
    peak = float(np.max(np.abs(samples)))
    if peak > 1.0:
        samples = samples / peak
    result = speechmos_dnsmos.run(samples, DNSMOS_RATE)
    return Dnsmos(
        ovrl=float(result["ovrl_mos"]),
        sig=float(result["sig_mos"]),
        bak=float(result["bak_mos"]),
        p808=float(result["p808_mos"]),
    )


@dataclass(frozen=True)
class UtteranceScore:
    """One text through one system."""

    item_id: str
    text: str
    heard: str
    pinyin: ErrorCount
    chars: ErrorCount
    mos: Dnsmos | None
    audio_s: float
    synth_s: float

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.item_id,
            "text": self.text,
            "heard": self.heard,
            "pinyin_errors": self.pinyin.errors,
            "pinyin_syllables": self.pinyin.reference_syllables,
            "per": round(self.pinyin.rate, 4),
            "char_errors": self.chars.errors,
            "chars": self.chars.reference_syllables,
            "cer": round(self.chars.rate, 4),
            "dnsmos": None if self.mos is None else {k: getattr(self.mos, k) for k in DNSMOS_KEYS},
            "audio_s": round(self.audio_s, 3),
            "synth_s": round(self.synth_s, 3),
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> UtteranceScore:
        """The inverse of to_json (to reuse a previous run's scores)."""
        mos = data.get("dnsmos")
        return cls(
            str(data["id"]),
            str(data["text"]),
            str(data["heard"]),
            ErrorCount(int(data["pinyin_errors"]), int(data["pinyin_syllables"])),  # type: ignore[call-overload]
            ErrorCount(int(data["char_errors"]), int(data["chars"])),  # type: ignore[call-overload]
            Dnsmos(**mos) if isinstance(mos, dict) else None,
            float(data["audio_s"]),  # type: ignore[arg-type]
            float(data["synth_s"]),  # type: ignore[arg-type]
        )


def score_utterance(
    item_id: str,
    text: str,
    heard: str,
    mos: Dnsmos | None,
    audio_s: float,
    synth_s: float,
) -> UtteranceScore:
    return UtteranceScore(
        item_id,
        text,
        heard,
        pinyin_errors(text, heard),
        char_errors(text, heard),
        mos,
        audio_s,
        synth_s,
    )


@dataclass(frozen=True)
class Summary:
    """One system over a set of texts."""

    system: str
    utterances: int
    pinyin: ErrorCount
    chars: ErrorCount
    mos: dict[str, float] = field(default_factory=dict)  # mean per DNSMOS_KEYS entry
    audio_s: float = 0.0
    synth_s: float = 0.0

    @property
    def per(self) -> float:
        return self.pinyin.rate

    @property
    def cer(self) -> float:
        return self.chars.rate


def summarize(system: str, scores: Iterable[UtteranceScore]) -> Summary:
    items = list(scores)
    pinyin, chars = ErrorCount(0, 0), ErrorCount(0, 0)
    for score in items:
        pinyin, chars = pinyin + score.pinyin, chars + score.chars
    rated = [score.mos for score in items if score.mos is not None]
    mos = (
        {key: float(np.mean([getattr(m, key) for m in rated])) for key in DNSMOS_KEYS}
        if rated
        else {}
    )
    return Summary(
        system,
        len(items),
        pinyin,
        chars,
        mos,
        sum(score.audio_s for score in items),
        sum(score.synth_s for score in items),
    )


def _mos_cell(summary: Summary, key: str) -> str:
    return f"{summary.mos[key]:.2f}" if key in summary.mos else "-"


def markdown_table(
    summaries: Sequence[Summary], differences: Sequence[tuple[str, str]] = ()
) -> str:
    """One row per system, then one 'A - B' row per (A, B) in `differences` (PER/CER in
    percentage points, DNSMOS in MOS points)."""
    header = "| path | n | PER | CER | DNSMOS OVRL | SIG | BAK | P.808 | audio s | synth s |"
    lines = [header, "|" + "---|" * 10]
    for s in summaries:
        lines.append(
            f"| {s.system} | {s.utterances} | {s.per:.2%} | {s.cer:.2%} | "
            + " | ".join(_mos_cell(s, key) for key in DNSMOS_KEYS)
            + f" | {s.audio_s:.0f} | {s.synth_s:.0f} |"
        )
    by_name = {s.system: s for s in summaries}
    for first, second in differences:
        if first not in by_name or second not in by_name:
            continue
        a, b = by_name[first], by_name[second]
        mos = [
            f"{a.mos[k] - b.mos[k]:+.2f}" if k in a.mos and k in b.mos else "-" for k in DNSMOS_KEYS
        ]
        lines.append(
            f"| {first} - {second} | | {100 * (a.per - b.per):+.2f} pt | "
            f"{100 * (a.cer - b.cer):+.2f} pt | " + " | ".join(mos) + " | | |"
        )
    return "\n".join(lines) + "\n"


def group_table(rows: Sequence[tuple[str, Sequence[Summary]]], systems: Sequence[str]) -> str:
    """PER per group (e.g. category) and system: '| group | n | sys1 PER | sys2 PER | ...'."""
    lines = [
        "| group | n | " + " | ".join(f"{name} PER" for name in systems) + " |",
        "|" + "---|" * (2 + len(systems)),
    ]
    for group, summaries in rows:
        by_system = {s.system: s for s in summaries}
        count = max((s.utterances for s in summaries), default=0)
        cells = [f"{by_system[n].per:.2%}" if n in by_system else "-" for n in systems]
        lines.append(f"| {group} | {count} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
