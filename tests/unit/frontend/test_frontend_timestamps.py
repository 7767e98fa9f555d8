"""Timestamps: character times inside a chunk, placement on the assembled timeline, cues,
SRT/VTT text, request validation."""

from __future__ import annotations

import numpy as np
import pytest

from frontend.assembly import Assembler, PausePlan
from frontend.chunking import Chunk, Pause
from frontend.errors import InvalidParameter
from frontend.subtitles import clock, to_srt, to_vtt
from frontend.timestamps import ChunkAlignment, Segment, Timeline, char_times, place
from frontend.validation import parse_tts_request
from mandarin_tts.text import TextFrontend
from mandarin_tts.text.alignment import NO_CHAR

FRAME_S = 0.0125
SR = 16_000


def _alignment(chars: str, durations: list[int], owners: list[int]) -> ChunkAlignment:
    return ChunkAlignment(
        tuple(chars),
        tuple(f"p{i}" for i in range(len(chars))),
        np.array(owners),
        np.array(durations),
    )


def test_char_times_sum_their_symbols_frames_and_skip_pauses() -> None:
    # sil(8) a:(2,3) #3(10) b:(4,4) sil(6)
    al = _alignment("ab", [8, 2, 3, 10, 4, 4, 6], [-1, 0, 0, -1, 1, 1, -1])
    (a, b) = char_times(al, FRAME_S)
    assert (a.start, a.end) == pytest.approx((8 * FRAME_S, 13 * FRAME_S))
    assert (b.start, b.end) == pytest.approx((23 * FRAME_S, 31 * FRAME_S))
    assert a.pinyin == "p0"


def test_placement_follows_the_assembler_trim_lead_and_pause() -> None:
    # A chunk: 0.5 s of silence, 0.5 s of sound, 0.5 s of silence.
    audio = np.zeros(int(1.5 * SR), np.float32)
    audio[SR // 2 : SR] = 0.5
    plan = PausePlan(keep_ms=100.0)
    piece, layout = Assembler(SR, plan=plan).laid_out(audio, Pause.SENTENCE, False, lead_ms=200)
    assert layout.trim_start == SR // 2 - SR // 10
    assert layout.total == piece.size
    seg = Segment("a", "a1", 0.5, 1.0)
    (placed,) = place([seg], layout, offset_s=2.0)
    # lead 0.2 s, trimmed 0.4 s away: sound starts at 2.0 + 0.2 + 0.1 in the output.
    assert placed.start == pytest.approx(2.3)
    assert placed.end == pytest.approx(2.8)
    loud = np.flatnonzero(np.abs(piece) > 0.4)
    assert loud[0] / SR + 2.0 == pytest.approx(placed.start, abs=0.002)


def test_placement_clamps_to_the_kept_body() -> None:
    audio = np.zeros(SR, np.float32)
    audio[SR // 2 : SR // 2 + 100] = 0.5
    _, layout = Assembler(SR, plan=PausePlan(keep_ms=10.0)).laid_out(audio, Pause.NONE, True)
    (placed,) = place([Segment("x", "x1", 0.0, 1.0)], layout, 0.0)
    assert placed.start == 0.0
    assert placed.end == pytest.approx(layout.body / SR)


def test_timeline_is_monotone_across_chunks_and_cues_end_at_sentences() -> None:
    timeline = Timeline(FRAME_S)
    assembler = Assembler(SR, plan=PausePlan(keep_ms=50.0))
    chunks = [
        Chunk("你好，", Pause.CLAUSE),
        Chunk("世界。", Pause.SENTENCE),
        Chunk("再见", Pause.NONE),
    ]
    for i, chunk in enumerate(chunks):
        durations = [20, 10, 10, 12, 12, 20]
        audio = np.zeros(sum(durations) * 200, np.float32)
        audio[20 * 200 : 64 * 200] = 0.3
        _, layout = assembler.laid_out(audio, chunk.pause_after, i == len(chunks) - 1)
        timeline.add(chunk, _alignment(chunk.text[:2], durations, [-1, 0, 0, 1, 1, -1]), layout)
    timeline.close_sentence()
    starts = [s.start for s in timeline.segments]
    ends = [s.end for s in timeline.segments]
    assert len(timeline.segments) == 6
    assert all(a <= b for a, b in zip(starts, ends, strict=True))
    assert all(e <= s for e, s in zip(ends, starts[1:], strict=False))
    assert [c.text for c in timeline.sentences] == ["你好，世界。", "再见"]
    assert timeline.sentences[0].end == timeline.segments[3].end


def test_srt_and_vtt_format() -> None:
    cues = [Segment("你好。", "", 0.0, 1.2346), Segment("a --> b\n", "", 61.0, 3725.5)]
    assert clock(3725.5, ",") == "01:02:05,500"
    srt = to_srt(cues)
    assert srt.startswith("1\n00:00:00,000 --> 00:00:01,235\n你好。\n\n2\n")
    assert "a -> b" in srt
    vtt = to_vtt([Segment("<b>&", "", 0.0, 1.0)])
    assert vtt == "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\n&lt;b&gt;&amp;\n"


def test_frontend_alignment_maps_symbols_to_characters() -> None:
    result = TextFrontend().encode("你好，GPU花儿")
    al = result.alignment
    assert al.chars == ("你", "好", "G", "P", "U", "花")
    assert al.pinyin[-1] == "huar1"
    assert len(al.symbol_chars) == len(result.ids)
    symbols = result.phonemes.split()
    for symbol, owner in zip(symbols, al.symbol_chars, strict=True):
        if symbol.startswith("#") or symbol in ("sil", "eos"):
            assert owner == NO_CHAR
        else:
            assert owner != NO_CHAR
    owners = [o for o in al.symbol_chars if o != NO_CHAR]
    assert owners == sorted(owners)


def test_request_validation() -> None:
    ok = parse_tts_request({"text": "你好", "subtitles": "SRT"}, 100)
    assert ok.timestamps and ok.subtitles == "srt"
    with pytest.raises(InvalidParameter, match="not supported with streaming"):
        parse_tts_request({"text": "你好", "timestamps": True, "stream": True}, 100)
    with pytest.raises(InvalidParameter, match="'subtitles'"):
        parse_tts_request({"text": "你好", "subtitles": "ass"}, 100)
    with pytest.raises(InvalidParameter, match="true or false"):
        parse_tts_request({"text": "你好", "timestamps": "yes"}, 100)
