"""The incremental segmenter of the WebSocket route: cuts as soon as a boundary is certain,
never inside a clause (unless it exceeds the hard limit) or an atom."""

from __future__ import annotations

import random

import pytest

from frontend.chunking import CLAUSE_PUNCT, CLOSERS, HARD_MAX_CHARS, SENTENCE_PUNCT, Pause
from frontend.text_stream import Segment, TextSegmenter

MARKS = SENTENCE_PUNCT | CLAUSE_PUNCT

# Marks never followed by closers, so that every cut falls at the same place however the
# text is split into deltas.
TEXT = (
    "语音合成，又称文语转换，是一种将文字信息转化为可听的声音信息的技术。它涉及声学、语言学、"
    "数字信号处理和计算机科学等多个学科。会议将于2024年3月5日下午3:30在第2会议室举行，"
    "票价是12.50元，共有1,000人参加！详情请访问www.example.com/a?b=1，或者发邮件到"
    "info@example.com。Hello, world. This is version 3.14; thanks!\n\n第二段开始了。"
)


def feed_all(deltas: list[str], max_chars: int = HARD_MAX_CHARS) -> list[Segment]:
    segmenter = TextSegmenter(max_chars)
    out: list[Segment] = []
    for delta in deltas:
        out.extend(segmenter.feed(delta))
    return out + segmenter.flush()


def random_deltas(text: str, seed: int, low: int = 1, high: int = 5) -> list[str]:
    rng = random.Random(seed)
    deltas, i = [], 0
    while i < len(text):
        n = rng.randint(low, high)
        deltas.append(text[i : i + n])
        i += n
    return deltas


def test_a_clause_is_cut_as_soon_as_its_mark_arrives() -> None:
    segmenter = TextSegmenter()
    assert segmenter.feed("你好") == []
    assert segmenter.feed("，我") == [Segment("你好，", Pause.CLAUSE)]
    assert segmenter.feed("是小明") == []
    # A full-width mark is certain at once: no need to wait for the next character.
    assert segmenter.feed("。") == [Segment("我是小明。", Pause.SENTENCE)]
    assert segmenter.buffered == ""
    assert segmenter.flush() == []


def test_numbers_urls_and_words_are_not_cut_at_their_dots_and_commas() -> None:
    segmenter = TextSegmenter()
    assert segmenter.feed("价格是3.") == []  # "3." may become 3.14
    assert segmenter.feed("14元，") == [Segment("价格是3.14元，", Pause.CLAUSE)]
    assert segmenter.feed("共1,") == []
    assert segmenter.feed("000人：") == [Segment("共1,000人：", Pause.CLAUSE)]
    assert segmenter.feed("下午12:") == []
    assert segmenter.feed("30见。") == [Segment("下午12:30见。", Pause.SENTENCE)]
    assert segmenter.feed("访问www.example.") == []
    assert segmenter.feed("com，谢谢") == [Segment("访问www.example.com，", Pause.CLAUSE)]


def test_an_ascii_mark_counts_once_whitespace_or_chinese_follows() -> None:
    segmenter = TextSegmenter()
    assert segmenter.feed("Hello.") == []
    assert segmenter.feed(" World") == [Segment("Hello.", Pause.SENTENCE)]
    assert segmenter.feed("!") == []
    assert segmenter.feed("你好") == [Segment(" World!", Pause.SENTENCE)]
    assert segmenter.flush() == [Segment("你好", Pause.SENTENCE)]


def test_closers_and_repeated_marks_stay_with_their_boundary() -> None:
    assert feed_all(["他说：“你好。”然后", "走了。"]) == [
        Segment("他说：", Pause.CLAUSE),
        Segment("“你好。”", Pause.SENTENCE),
        Segment("然后走了。", Pause.SENTENCE),
    ]
    assert feed_all(["真的吗？！", "是的……好"]) == [
        Segment("真的吗？！", Pause.SENTENCE),
        Segment("是的……", Pause.SENTENCE),
        Segment("好", Pause.SENTENCE),
    ]
    # Arriving after the cut, a closer or repeated mark is dropped from the next segment
    # (it would only start it with an unspoken character).
    segmenter = TextSegmenter()
    assert segmenter.feed("好的。") == [Segment("好的。", Pause.SENTENCE)]
    assert segmenter.feed("”") == []
    assert segmenter.feed("！ 再见。") == [Segment(" 再见。", Pause.SENTENCE)]


def test_paragraph_breaks_and_unspeakable_pieces() -> None:
    # Line breaks after a mark start the next segment, however the deltas fall.
    for deltas in (["第一段。\n", "\n第二段。"], ["第一段。", "\n\n第二段。"], ["第一段。\n\n第二段。"]):  # fmt: skip
        assert feed_all(deltas) == [
            Segment("第一段。", Pause.SENTENCE),
            Segment("\n\n第二段。", Pause.SENTENCE),
        ]
    # A line break without a mark is a boundary of its own, once the run of them ends.
    segmenter = TextSegmenter()
    assert segmenter.feed("第一段\n") == []
    assert segmenter.feed("\n第二段") == [Segment("第一段\n\n", Pause.PARAGRAPH)]
    # Nothing speakable is ever a segment (the synthesizer would refuse it).
    assert feed_all(["……", "，。", "  \n"]) == []
    assert TextSegmenter().flush() == []


@pytest.mark.parametrize("seed", range(20))
def test_the_cuts_do_not_depend_on_how_the_text_is_split(seed: int) -> None:
    whole = feed_all([TEXT])
    assert feed_all(random_deltas(TEXT, seed)) == whole
    assert feed_all(list(TEXT)) == whole
    # Nothing lost, nothing reordered.
    assert "".join(s.text for s in whole) == TEXT


def test_every_cut_is_at_a_sentence_or_clause_mark_and_atoms_stay_whole() -> None:
    segments = feed_all(random_deltas(TEXT, 7))
    texts = [s.text for s in segments]
    for text in texts[:-1]:
        assert text.rstrip()[-1] in MARKS | CLOSERS, text
    joined = "|".join(texts)
    for atom in ("2024年3月5日", "3:30", "12.50", "1,000", "www.example.com/a?b=1", "3.14"):
        assert atom in joined and all(atom not in t or t.count(atom) == 1 for t in texts)
        assert any(atom in t for t in texts), atom
    assert [s.pause_after for s in segments][:3] == [Pause.CLAUSE, Pause.CLAUSE, Pause.SENTENCE]
    assert Segment("Hello,", Pause.CLAUSE) in segments
    assert segments[-1] == Segment("\n\n第二段开始了。", Pause.SENTENCE)


def test_a_clause_within_the_hard_limit_is_never_cut() -> None:
    clause = "这是一个没有任何标点符号但是仍然在硬性上限之内的相当长的从句" * 2
    assert len(clause) <= HARD_MAX_CHARS
    segmenter = TextSegmenter()
    for char in clause:
        assert segmenter.feed(char) == []
    assert segmenter.feed("。") == [Segment(clause + "。", Pause.SENTENCE)]


def test_a_clause_over_the_hard_limit_is_cut_at_word_boundaries() -> None:
    clause = "我们今天在这里讨论一个非常重要的问题就是如何让机器说话" * 6  # no marks at all
    segmenter = TextSegmenter()
    out: list[Segment] = []
    for char in clause:
        out.extend(segmenter.feed(char))
        assert len(segmenter.buffered) <= 2 * HARD_MAX_CHARS  # the buffer stays bounded
    out.extend(segmenter.flush())
    assert "".join(s.text for s in out) == clause
    assert len(out) >= 2 and all(len(s.text) <= HARD_MAX_CHARS for s in out)
    assert all(s.pause_after is Pause.NONE for s in out[:-1])
    assert out[-1].pause_after is Pause.SENTENCE
    # Cut between words: no segment starts with the second half of "机器" or "说话".
    assert not any(s.text.startswith(("器", "话", "题")) for s in out)


def test_a_long_atom_still_arriving_is_not_cut_until_it_exceeds_the_limit() -> None:
    url = "https://example.com/" + "a" * 60
    segmenter = TextSegmenter()
    assert segmenter.feed("请访问" + "字" * 30) == []
    # Over the limit: the Chinese before the URL goes, the URL (still growing) stays.
    assert segmenter.feed(url) == [Segment("请访问" + "字" * 30, Pause.NONE)]
    assert segmenter.feed("，好吗") == [Segment(url + "，", Pause.CLAUSE)]
    # An atom longer than the hard limit is cut hard, as the chunker does.
    out = feed_all(["x" * (HARD_MAX_CHARS * 2 + 10)])
    assert [len(s.text) for s in out] == [HARD_MAX_CHARS, HARD_MAX_CHARS, 10]


def test_flush_speaks_the_rest_with_the_pause_its_end_calls_for() -> None:
    segmenter = TextSegmenter()
    assert segmenter.feed("半句话") == []
    assert segmenter.flush() == [Segment("半句话", Pause.SENTENCE)]
    assert segmenter.feed("3.") == []
    assert segmenter.flush() == [Segment("3.", Pause.SENTENCE)]
    assert segmenter.feed("OK,") == []
    assert segmenter.flush() == [Segment("OK,", Pause.CLAUSE)]
    assert segmenter.feed("行\r\n") == []
    assert segmenter.flush() == [Segment("行\n", Pause.PARAGRAPH)]


def test_max_chars_is_checked() -> None:
    with pytest.raises(ValueError):
        TextSegmenter(0)
    with pytest.raises(ValueError):
        TextSegmenter(HARD_MAX_CHARS + 1)
