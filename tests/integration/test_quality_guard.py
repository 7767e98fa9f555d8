"""Regression guard on what users hear: eight `dev` sentences through POST /v1/tts and
straight to Triton's `tts`, transcribed with Whisper base (`make quality` is the full run).

The frontend's chunking and assembly must not cost intelligibility: its toneless pinyin
error rate may exceed the direct path's by at most MAX_GAP_POINTS, and both stay under
MAX_PER. Skips only when the Whisper model cannot be obtained (no PyPI access, first run).
"""

from __future__ import annotations

import importlib.util

import pytest
from frontend_process_helpers import FrontendProcess

from benchmarks.quality.systems import DirectTriton, HttpTts
from mandarin_tts.eval.evalset import EvalItem, load_split
from mandarin_tts.eval.pinyin_error import ErrorCount, pinyin_errors

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# One dev sentence from each category where chunking and text handling go wrong first.
CATEGORIES = (
    "codes",
    "numbers",
    "datetime",
    "neutral_tone",
    "polyphone",
    "call_centre",
    "english",
    "announcement",
)
# ~170 syllables: one syllable is ~0.6 points, so +2 points is three extra errors.
MAX_GAP_POINTS = 2.0
MAX_PER = 0.15


def guard_sentences() -> list[EvalItem]:
    dev = [item for item in load_split("dev") if item.kind == "sentence"]
    return [next(item for item in dev if item.category == name) for name in CATEGORIES]


@pytest.fixture(scope="module")
def transcriber():
    if importlib.util.find_spec("faster_whisper") is None:
        pytest.skip("faster-whisper is not installed (the 'bench' extra)")
    from mandarin_tts.eval.whisper_asr import WhisperTranscriber, ensure_whisper_model

    try:
        ensure_whisper_model()
    except Exception as error:  # noqa: BLE001 - any failure to fetch means: cannot obtain it
        pytest.skip(f"the Whisper base model cannot be obtained ({type(error).__name__}: {error})")
    return WhisperTranscriber()


def _per(synthesize, items: list[EvalItem], transcriber) -> tuple[ErrorCount, list[str]]:
    total, heard = ErrorCount(0, 0), []
    for item in items:
        text = transcriber.transcribe(synthesize(item.text))
        heard.append(f"{item.id}: {item.text} -> {text}")
        total = total + pinyin_errors(item.text, text)
    return total, heard


def test_frontend_costs_no_intelligibility(
    triton_server, frontend: FrontendProcess, transcriber
) -> None:
    items = guard_sentences()
    served, served_heard = _per(HttpTts(frontend.url, timeout_s=120), items, transcriber)
    direct, direct_heard = _per(DirectTriton(triton_server.http_url, 120), items, transcriber)
    gap = 100 * (served.rate - direct.rate)
    detail = "\n".join(["/v1/tts:", *served_heard, "direct:", *direct_heard])
    print(f"PER /v1/tts {served.rate:.2%}, direct {direct.rate:.2%}, gap {gap:+.2f} points")
    assert gap <= MAX_GAP_POINTS, (
        f"/v1/tts PER {served.rate:.2%} is {gap:+.2f} points above direct {direct.rate:.2%}"
        f"\n{detail}"
    )
    assert direct.rate < MAX_PER, f"direct PER {direct.rate:.2%}\n{detail}"
    assert served.rate < MAX_PER, f"/v1/tts PER {served.rate:.2%}\n{detail}"
