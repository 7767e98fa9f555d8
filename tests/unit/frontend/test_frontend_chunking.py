"""Table-driven tests of sentence chunking."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from frontend.chunking import HARD_MAX_CHARS, Chunk, Pause, UnencodableText, split_text

S, C, SH, N, P = Pause.SENTENCE, Pause.CLAUSE, Pause.SHORT, Pause.NONE, Pause.PARAGRAPH

EXACT_CASES = [
    # (text, max_chars, expected [(chunk text, pause after)])
    ("你好。", 50, [("你好。", S)]),
    ("你好。再见！", 50, [("你好。", S), ("再见！", S)]),
    ("没有句号结尾", 50, [("没有句号结尾", S)]),
    ("真的吗？！是的……", 50, [("真的吗？！", S), ("是的……", S)]),
    ("他说：“走吧。”然后走了。", 50, [("他说：“走吧。”", S), ("然后走了。", S)]),
    ("第一段。\n\n第二段。", 50, [("第一段。", P), ("第二段。", S)]),
    ("第一行\n第二行", 50, [("第一行", P), ("第二行", S)]),
    ("Hello world. How are you?", 50, [("Hello world.", S), ("How are you?", S)]),
    # Over the limit: cut at clause punctuation, keeping each clause's pause type.
    (
        "春天来了，花开了，鸟儿在歌唱。",
        6,
        [("春天来了，", C), ("花开了，", C), ("鸟儿在歌唱。", S)],
    ),
    # A clause over the soft limit stays whole (within the hard limit): no cut inside it.
    ("苹果、香蕉、橘子和葡萄都很好吃。", 6, [("苹果、香蕉、", SH), ("橘子和葡萄都很好吃。", S)]),
    ("没有标点的一句很长的话也不会被切开", 6, [("没有标点的一句很长的话也不会被切开", S)]),
    ("第一项；第二项：内容。", 5, [("第一项；", C), ("第二项：", C), ("内容。", S)]),
    # Clauses are packed greedily up to the limit.
    ("一，二，三，四。", 4, [("一，二，", C), ("三，四。", S)]),
    # Numbers, dates, times and decimals are never split, even at their '.' or ':'.
    ("价格是3.14元。", 50, [("价格是3.14元。", S)]),
    # Leading punctuation-only text vanishes; trailing punctuation-only units join the last chunk.
    ("。。。好的", 50, [("好的", S)]),
    ("好的。\n……", 50, [("好的。……", P)]),
]


@pytest.mark.parametrize(("text", "max_chars", "expected"), EXACT_CASES)
def test_exact_chunks(text: str, max_chars: int, expected: list[tuple[str, Pause]]) -> None:
    assert split_text(text, max_chars) == [Chunk(t, p) for t, p in expected]


INSIDE_CLAUSE_CASES = [
    # (text, hard limit, expected): only a clause over the hard limit is cut inside, at word
    # boundaries, into as few and as even pieces as the words allow.
    (
        "会议在2023年5月1日下午3:30开始",
        8,
        [("会议在", N), ("2023年5月1日", N), ("下午3:30开始", S)],
    ),
    ("人口是1,234,567人", 6, [("人口是", N), ("1,234,567", N), ("人", S)]),
    ("我们明天上午一起去公园散步吧", 10, [("我们明天上午一起", N), ("去公园散步吧", S)]),
]


@pytest.mark.parametrize(("text", "hard", "expected"), INSIDE_CLAUSE_CASES)
def test_cuts_inside_a_clause_only_over_the_hard_limit(
    text: str, hard: int, expected: list[tuple[str, Pause]]
) -> None:
    assert split_text(text, hard, hard_max_chars=hard) == [Chunk(t, p) for t, p in expected]


def test_no_chunk_of_a_punctuated_text_ends_inside_a_clause() -> None:
    from pathlib import Path

    text = (Path(__file__).parents[3] / ".." / "shared" / "eval" / "long_zh.txt").resolve()
    if not text.exists():
        pytest.skip(f"{text} is not on this machine")
    chunks = split_text(text.read_text(encoding="utf-8"))
    assert len(chunks) > 10
    assert all(c.pause_after in (C, SH, S, P) for c in chunks), chunks
    assert len(chunks[0].text) <= 15  # the first clauses give a natural short first chunk


def test_short_first_chunk_only_at_a_natural_boundary() -> None:
    no_comma = "这一句话的开头没有任何可以停顿的地方所以第一块就是整句。"
    assert split_text(no_comma, 30, first_max_chars=8) == [Chunk(no_comma, S)]
    with_comma = "你好，这一句话的开头有一个逗号所以第一块很短。"
    assert split_text(with_comma, 30, first_max_chars=8)[0] == Chunk("你好，", C)


def test_a_clause_over_the_hard_limit_is_cut_evenly() -> None:
    chunks = split_text(NO_PUNCTUATION, 30, hard_max_chars=30)
    lengths = [len(c.text) for c in chunks]
    assert len(chunks) == -(-len(NO_PUNCTUATION) // 30)
    assert max(lengths) - min(lengths) <= 6, lengths  # no short tail read on its own


NOTHING_TO_SAY = ["", "   ", "\n\n", "。。。", "，、！？"]


@pytest.mark.parametrize("text", NOTHING_TO_SAY)
def test_nothing_speakable_gives_no_chunks(text: str) -> None:
    assert split_text(text) == []


NO_PUNCTUATION = (
    "这是一段完全没有标点符号的很长的文字它会一直持续下去直到超过最大长度限制"
    "所以切分器只能在词语的边界处把它切开而不能在词语中间切开否则读起来就会很奇怪"
)

PROPERTY_CASES = [
    # (text, max_chars, spans that must survive intact inside one chunk)
    (NO_PUNCTUATION, 20, []),
    (NO_PUNCTUATION * 3, 40, []),
    (
        "请访问https://example.com/docs/index.html?lang=zh获取更多信息和帮助文档",
        10,
        ["https://example.com/docs/index.html?lang=zh"],
    ),
    (
        "我的邮箱是someone.name@example.org有问题请发邮件给我谢谢你们的支持",
        8,
        ["someone.name@example.org"],
    ),
    (
        "我们使用TensorFlow和PyTorch训练了COVID-19的模型并在2024-03-15发布了结果",
        8,
        ["TensorFlow", "PyTorch", "COVID-19", "2024-03-15"],
    ),
    (
        "The quick brown fox jumps over the lazy dog and keeps running far away",
        12,
        ["quick", "brown", "jumps"],
    ),
    (
        "温度是-3.5度湿度是87.5%风速是12.25米每秒气压是1013.25百帕今天是12月25日",
        6,
        ["3.5", "87.5%", "12.25", "1013.25", "12月25日"],
    ),
]


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize(("text", "max_chars", "atoms"), PROPERTY_CASES)
def test_long_text_properties(text: str, max_chars: int, atoms: list[str]) -> None:
    chunks = split_text(text, max_chars, hard_max_chars=max_chars)
    assert len(chunks) > 1
    # Nothing lost, nothing reordered, nothing over the limit.
    assert _squash("".join(c.text for c in chunks)) == _squash(text)
    for chunk in chunks:
        assert 0 < len(chunk.text) <= max_chars or any(a in chunk.text for a in atoms), chunk
    for atom in atoms:
        assert any(atom in c.text for c in chunks), f"{atom!r} was split"
    # Only the final chunk carries the sentence pause; word-level cuts carry none.
    assert [c.pause_after for c in chunks[:-1]] == [Pause.NONE] * (len(chunks) - 1)


def test_no_punctuation_cuts_at_word_boundaries() -> None:
    chunks = split_text(NO_PUNCTUATION, 12, hard_max_chars=12)
    import jieba

    words = jieba.lcut(NO_PUNCTUATION)
    boundaries = {sum(len(w) for w in words[:i]) for i in range(len(words) + 1)}
    position = 0
    for chunk in chunks[:-1]:
        position += len(chunk.text)
        assert position in boundaries, f"cut inside a word after {chunk.text!r}"


def test_first_chunk_limit_is_shorter() -> None:
    text = "近年来，随着深度学习的发展，端到端的神经网络语音合成逐渐成为主流。" * 3
    chunks = split_text(text, 40, first_max_chars=8)
    assert chunks[0].text == "近年来，"
    assert all(len(c.text) <= 40 for c in chunks)
    assert _squash("".join(c.text for c in chunks)) == _squash(text)


def test_atom_longer_than_hard_limit_is_cut() -> None:
    url = "https://example.com/" + "a" * (HARD_MAX_CHARS * 2)
    chunks = split_text(f"看{url}", 20)
    assert all(len(c.text) <= HARD_MAX_CHARS for c in chunks)
    assert "".join(c.text for c in chunks) == f"看{url}"


def test_invalid_limits() -> None:
    with pytest.raises(ValueError):
        split_text("你好", 0)
    with pytest.raises(ValueError):
        split_text("你好", HARD_MAX_CHARS + 1)


def test_paragraph_packs_clauses_and_keeps_pause_types() -> None:
    paragraph = (
        "早期的语音合成系统主要采用拼接的方法，从录好的语音库中挑选合适的片段拼接起来，"
        "这种方法音质较好，但是需要很大的语音库，而且灵活性不足。后来出现了基于统计参数的方法。"
    )
    chunks = split_text(paragraph, 30)
    assert [c.pause_after for c in chunks] == [C, C, S, S]
    assert all(len(c.text) <= 30 for c in chunks)


ALPHABET = (
    list("我们的语音合成服务很好用了")
    + list("，。！？、；：")
    + list("0123456789.,:-%")
    + list("abcXYZ ")
)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=300), st.integers(min_value=4, max_value=60))
def test_random_text_never_exceeds_limit_and_keeps_content(text: str, max_chars: int) -> None:
    chunks = split_text(text, max_chars, hard_max_chars=max_chars)
    for chunk in chunks:
        assert chunk.text == chunk.text.strip() and chunk.text
        # Trailing punctuation may ride along; the speakable part is over the limit only when
        # it is one unbreakable word or atom.
        core = chunk.text.rstrip("，。！？、；：.,:-% ")
        assert len(core) <= max_chars or len(split_text(core, 1)) == 1, chunk
        assert len(chunk.text) <= HARD_MAX_CHARS
    # Speakable content is preserved in order (leading punctuation-only text may be dropped).
    kept = "".join(ch for ch in _squash("".join(c.text for c in chunks)) if ch.isalnum())
    assert kept == "".join(ch for ch in _squash(text) if ch.isalnum())


# ---------------------------------------------------------------- the model's real input count


@pytest.fixture(scope="module")
def baker() -> tuple[Callable[[str], int], int]:
    """The bundled voice's text frontend, as the frontend gives it to the chunker."""
    from frontend.voices import BUILTIN_VOICE, VoiceCatalogue, VoiceChoice

    catalogue = VoiceCatalogue({"baker": BUILTIN_VOICE})
    measured = catalogue.measure(VoiceChoice(BUILTIN_VOICE, "baker", "neutral"))
    assert measured is not None
    return measured


def _units_or_error(measure: Callable[[str], int], text: str) -> int | str:
    try:
        return measure(text)
    except ValueError as error:
        return str(error)


# Texts whose character-based chunks the model refused (measured before the fix: each has a
# chunk of 70-85 characters expanding to 257-758 symbols, the limit being 256).
REFUSED_BEFORE = {
    "long digit string": "电话号码是" + "8" * 200,
    "long Latin token": "这个单词是" + "x" * 84 + "，很长。",
    "long upper-case token": "单词" + "W" * 70,
    "long URL": "请看https://example.com/" + "abcdefgh" * 9 + "谢谢",
    "decimal": "圆周率是" + "0." + "5" * 83,
}


@pytest.mark.parametrize("name", list(REFUSED_BEFORE))
def test_every_chunk_fits_the_models_real_input_limit(
    baker: tuple[Callable[[str], int], int], name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MANDARIN_TTS_URL_POLICY", "full")  # the default reads long URLs' host only
    measure, max_units = baker
    text = REFUSED_BEFORE[name]
    old = split_text(text)
    assert any(
        not isinstance(u := _units_or_error(measure, c.text), int) or u > max_units for c in old
    ), "the case no longer reproduces the defect"
    chunks = split_text(text, measure=measure, max_units=max_units)
    for chunk in chunks:
        units = _units_or_error(measure, chunk.text)
        assert isinstance(units, int) and units <= max_units, (chunk, units)
    assert _squash("".join(c.text for c in chunks)) == _squash(text)
    # The pause after the text's last chunk is kept.
    assert chunks[-1].pause_after == old[-1].pause_after


def test_a_long_unpunctuated_run_is_split_at_smaller_boundaries_first() -> None:
    """A fake measure: 10 units per character, 60 at most: chunks of up to 30 characters must
    become chunks of at most 6, cut at word boundaries where the words allow it."""
    chunks = split_text(NO_PUNCTUATION, 30, measure=lambda t: 10 * len(t), max_units=60)
    assert all(len(c.text) <= 6 for c in chunks)
    assert "".join(c.text for c in chunks) == NO_PUNCTUATION
    import jieba

    words = jieba.lcut(NO_PUNCTUATION)
    boundaries = {sum(len(w) for w in words[:i]) for i in range(len(words) + 1)}
    long_words = [w for w in words if len(w) > 6]
    position, inside = 0, 0
    for chunk in chunks[:-1]:
        position += len(chunk.text)
        inside += position not in boundaries
    assert inside <= sum(len(w) // 6 for w in long_words)  # mid-word only inside long words


def test_chunks_that_fit_are_left_alone() -> None:
    text = "春天来了，花开了，鸟儿在歌唱。"
    assert split_text(text, 6, measure=len, max_units=100) == split_text(text, 6)


def test_a_chunk_the_voice_cannot_encode_is_named() -> None:
    def measure(text: str) -> int:
        if "Ж" in text:
            raise ValueError("TEXT has nothing speakable")
        return len(text)

    with pytest.raises(UnencodableText) as raised:
        split_text("你好。ЖЖЖ ЖЖ。再见。", 50, measure=measure, max_units=100)
    assert raised.value.text == "ЖЖЖ ЖЖ。" and "nothing speakable" in raised.value.reason


def test_an_unencodable_chunk_is_a_400_naming_it() -> None:
    """A chunk the voice refuses even in its smallest pieces (here: a fake measure that
    refuses one word; no real text is left that the bundled voice cannot encode) -> 400
    quoting the chunk, and nothing is sent to Triton."""
    import asyncio

    from aiohttp.test_utils import TestClient, TestServer
    from frontend_helpers import FakeSynthesizer

    from frontend.app import create_app
    from frontend.config import FrontendConfig
    from frontend.voices import BUILTIN_VOICE, VoiceCatalogue

    def refuse(text: str) -> int:
        if any(ch in text for ch in "天书"):
            raise ValueError("it has nothing speakable")
        return len(text)

    catalogue = VoiceCatalogue({"baker": BUILTIN_VOICE})
    catalogue.measure = lambda _choice: (refuse, 100)  # type: ignore[method-assign]

    async def main() -> tuple[int, dict[str, str], int]:
        synth = FakeSynthesizer(0.001)
        app = create_app(FrontendConfig(), lambda _cfg: synth, catalogue=catalogue)
        async with TestClient(TestServer(app)) as client:
            resp = await client.post("/v1/tts", json={"text": "你好。天书。"})
            return resp.status, (await resp.json())["error"], len(synth.calls)

    status, error, calls = asyncio.run(main())
    assert status == 400 and error["code"] == "text_rejected"
    assert "'天书。'" in error["message"] and "baker" in error["message"]
    assert calls == 0


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=200), st.integers(min_value=4, max_value=40))
def test_random_text_with_a_measure_fits_and_keeps_content(text: str, max_chars: int) -> None:
    def measure(chunk: str) -> int:  # digits and Latin letters cost 8, the rest 3
        return sum(8 if ch.isascii() and ch.isalnum() else 3 for ch in chunk)

    chunks = split_text(text, max_chars, measure=measure, max_units=40)
    assert all(measure(c.text) <= 40 for c in chunks)
    kept = "".join(ch for ch in _squash("".join(c.text for c in chunks)) if ch.isalnum())
    assert kept == "".join(ch for ch in _squash(text) if ch.isalnum())


def test_a_request_with_a_long_token_is_served_not_refused(
    baker: tuple[Callable[[str], int], int],
) -> None:
    """Through the app, with a fake backend that refuses what Triton's text model refuses
    (more than 256 symbols): every chunk now fits, so the request succeeds."""
    import asyncio

    import numpy as np
    from aiohttp.test_utils import TestClient, TestServer
    from frontend_helpers import FakeSynthesizer

    from frontend.app import create_app
    from frontend.config import FrontendConfig
    from frontend.errors import TextRejected
    from frontend.synthesis import VoiceParams

    measure, max_units = baker

    class StrictSynthesizer(FakeSynthesizer):
        async def synthesize(self, text: str, params: VoiceParams) -> np.ndarray:
            units = _units_or_error(measure, text)
            if not isinstance(units, int) or units > max_units:
                raise TextRejected(f"the text model rejected a chunk: {units}")
            return await super().synthesize(text, params)

    async def main() -> tuple[int, list[str]]:
        synth = StrictSynthesizer(0.001)
        app = create_app(FrontendConfig(), lambda _cfg: synth)
        async with TestClient(TestServer(app)) as client:
            resp = await client.post("/v1/tts", json={"text": REFUSED_BEFORE["long digit string"]})
            # (the service writes a long digit run out in spoken groups before chunking)
            return resp.status, [text for text, _ in synth.calls]

    status, calls = asyncio.run(main())
    assert status == 200 and len(calls) >= 4
    from frontend.text_cleanup import clean_user_text

    assert "".join(calls) == clean_user_text(REFUSED_BEFORE["long digit string"])


def test_inline_reading_spans_count_as_their_characters_and_are_never_cut() -> None:
    from mandarin_tts.text.inline import mark, visible_text

    span = mark("曾先生", ("zeng1", "xian1", "sheng5"))
    # 24 visible characters: one chunk, though the markup makes the raw text much longer.
    text = "您好" + span + "，欢迎致电客户服务中心，请问有什么可以帮您"
    assert len(visible_text(text)) <= 30 < len(text)
    assert [c.text for c in split_text(text, 30)] == [text]
    # The longest span there is (8 characters, 16 syllables) is kept whole even where the
    # limits would cut its raw text, and so is every span under the voice's measure.
    long_span = mark("八个汉字八个汉字", ("ba1", "ge4", "han4", "zi4") * 2)
    clause = "开始" + long_span + "结束" * 30
    chunks = split_text(clause, 30, hard_max_chars=40)
    assert sum(long_span in c.text for c in chunks) == 1
    measured = split_text(clause, measure=lambda t: len(visible_text(t)), max_units=12)
    assert sum(long_span in c.text for c in measured) == 1
