"""parse_ssml: every element, the value forms, errors naming element and position, and the
hostile documents refused fast."""

from __future__ import annotations

import pytest

from frontend.errors import InvalidSsml
from frontend.ssml import is_ssml, parse_ssml
from mandarin_tts.text.inline import Span, split_inline


def one_text(doc: str) -> str:
    segments = parse_ssml(doc)
    assert len(segments) == 1, segments
    return segments[0].text


def test_the_issue_example_is_two_segments_and_a_break() -> None:
    first, second = parse_ssml("<speak>你好<break time='500ms'/>世界</speak>")
    assert (first.text, first.break_after_ms) == ("你好", 500.0)
    assert (second.text, second.break_after_ms) == ("世界", None)


@pytest.mark.parametrize(
    ("attrs", "ms"),
    [
        ("time='1.5s'", 1500.0),
        ("time='250ms'", 250.0),
        ("strength='none'", 0.0),
        ("strength='x-strong'", 1000.0),
        ("", 400.0),  # medium
        ("time='300ms' strength='x-strong'", 300.0),  # time wins
    ],
)
def test_break_values(attrs: str, ms: float) -> None:
    assert parse_ssml(f"<speak>一<break {attrs}/>二</speak>")[0].break_after_ms == ms


def test_consecutive_breaks_add_up_and_a_leading_break_is_an_empty_segment() -> None:
    segments = parse_ssml(
        "<speak><break time='1s'/>一<break time='200ms'/><break time='300ms'/>二</speak>"
    )
    assert [(s.text, s.break_after_ms) for s in segments] == [
        ("", 1000.0),  # the service makes it silence before the first speech
        ("一", 500.0),
        ("二", None),
    ]


def test_speak_p_s_mark_sentences_and_paragraphs() -> None:
    doc = (
        '<?xml version="1.0"?><speak version="1.1" xmlns="http://www.w3.org/2001/10/synthesis" '
        'xml:lang="zh-CN"><p><s>今天</s><s>明天！</s></p><p>后天</p></speak>'
    )
    assert one_text(doc) == "今天。明天！\n后天。\n"


def test_prosody_applies_to_its_span_only_and_nests() -> None:
    doc = (
        "<speak>前<prosody rate='slow' volume='loud'>慢<prosody rate='50%' pitch='+10%'>更慢"
        "</prosody></prosody>后</speak>"
    )
    segments = parse_ssml(doc)
    assert [s.text for s in segments] == ["前", "慢", "更慢", "后"]
    assert [round(s.speed, 3) for s in segments] == [1.0, 0.8, 0.4, 1.0]
    assert [round(s.pitch, 3) for s in segments] == [1.0, 1.0, 1.1, 1.0]
    assert [round(s.volume, 3) for s in segments] == [1.0, 1.4, 1.4, 1.0]


@pytest.mark.parametrize(
    ("attr", "value", "expected"),
    [
        ("rate", "x-fast", 1.6),
        ("rate", "+20%", 1.2),
        ("rate", "120%", 1.2),
        ("rate", "1.5", 1.5),
        ("pitch", "x-low", 0.8),
        ("pitch", "-10%", 0.9),
        ("pitch", "+12st", 2.0),
        ("volume", "silent", 0.0),
        ("volume", "-6dB", 0.501),
        ("volume", "50", 0.5),
        ("volume", "+50%", 1.5),
    ],
)
def test_prosody_value_forms(attr: str, value: str, expected: float) -> None:
    segment = parse_ssml(f"<speak><prosody {attr}='{value}'>字</prosody></speak>")[0]
    got = {"rate": segment.speed, "pitch": segment.pitch, "volume": segment.volume}[attr]
    assert got == pytest.approx(expected, abs=1e-3)


def test_emphasis_is_slower_and_louder() -> None:
    segment = parse_ssml("<speak><emphasis level='strong'>重要</emphasis></speak>")[0]
    assert segment.speed < 1.0 and segment.volume > 1.0
    reduced = parse_ssml("<speak><emphasis level='reduced'>次要</emphasis></speak>")[0]
    assert reduced.speed > 1.0 and reduced.volume < 1.0


def test_phoneme_becomes_an_inline_span() -> None:
    text = one_text("<speak>我姓<phoneme alphabet='py' ph='zeng1'>曾</phoneme>。</speak>")
    assert split_inline(text) == ["我姓", Span("曾", ("zeng1",)), "。"]


def test_sub_reads_the_alias() -> None:
    assert one_text("<speak><sub alias='世界卫生组织'>WHO</sub>成立</speak>") == "世界卫生组织成立"


@pytest.mark.parametrize(
    ("kind", "extra", "content", "reading"),
    [
        ("telephone", "", "138-0013-8000", "幺三八、零零幺三、八零零零"),
        ("digits", "", "2024", "二零二四"),
        ("cardinal", "", "1,234", "一千二百三十四"),
        ("cardinal", "", "-3.5", "负三点五"),
        ("ordinal", "", "3", "第三"),
        ("date", "format='ymd'", "2024-03-05", "二零二四年三月五日"),
        ("date", "format='mdy'", "03/05/2024", "二零二四年三月五日"),
        ("date", "format='md'", "3/5", "三月五日"),
        ("date", "", "2024/3/5", "二零二四年三月五日"),
        ("time", "", "9:05", "九点零五分"),
        ("time", "", "14:30:15", "十四点三十分十五秒"),
        ("time", "", "3:30pm", "下午三点三十分"),
        ("currency", "", "¥12.50", "十二元五角"),
        ("currency", "", "$3", "三美元"),
        ("currency", "", "5 EUR", "五欧元"),
        ("characters", "", "AB12", " A  B 一二"),
    ],
)
def test_say_as_readings(kind: str, extra: str, content: str, reading: str) -> None:
    doc = f"<speak><say-as interpret-as='{kind}' {extra}>{content}</say-as></speak>"
    assert one_text(doc).strip() == reading.strip()


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (
            "<speak><voice name='x'>a</voice></speak>",
            "unsupported element <voice> at line 1, column 8",
        ),
        ("<speak>\n  <audio src='x'/></speak>", "<audio> at line 2, column 3"),
        ("<speak>a<b</speak>", "not well-formed XML: not well-formed (invalid token) at line 1"),
        ("<speak>a", "not well-formed XML: no element found at line 1"),
        ("<p>a</p>", "SSML starts with <speak>"),
        ("<speak><speak>a</speak></speak>", "<speak> may only be the root"),
        ("<speak><break time='2 hours'/></speak>", "<break> at line 1, column 8: time="),
        ("<speak><break time='11s'/></speak>", "longer than 10000 ms"),
        ("<speak><break strength='huge'/></speak>", "x-strong"),
        ("<speak><break>x</break></speak>", "<break> must be empty"),
        ("<speak><prosody rate='5'>a</prosody></speak>", "within 0.5..2 times"),
        ("<speak><prosody pitch='200Hz'>a</prosody></speak>", "'+2st'"),
        ("<speak><prosody>a</prosody></speak>", "needs rate, pitch or volume"),
        ("<speak><prosody contour='x'>a</prosody></speak>", "attribute 'contour' is not supported"),
        ("<speak><phoneme ph='zeng1 xian1'>曾</phoneme></speak>", "1 characters but 2 pinyin"),
        ("<speak><phoneme alphabet='ipa' ph='x'>曾</phoneme></speak>", "alphabet='ipa'"),
        ("<speak><phoneme>曾</phoneme></speak>", "needs a ph attribute"),
        ("<speak><phoneme ph='zeng1'><s>曾</s></phoneme></speak>", "may contain only text"),
        ("<speak><sub>WHO</sub></speak>", "needs an alias"),
        ("<speak><say-as>1</say-as></speak>", "needs an interpret-as"),
        ("<speak><say-as interpret-as='x'>1</say-as></speak>", "interpret-as='x' is not supported"),
        ("<speak><say-as interpret-as='cardinal'>abc</say-as></speak>", "cannot read 'abc'"),
        ("<speak><say-as interpret-as='date'>03/05/2024</say-as></speak>", "ambiguous"),
        ("<speak><say-as interpret-as='date' format='ymd'>2024-13-05</say-as></speak>", "month 13"),
        ("<speak><emphasis level='max'>a</emphasis></speak>", "level='max'"),
        ("<speak>&nbsp;</speak>", "undefined entity"),
        ("<speak><?php x ?></speak>", "processing instructions"),
    ],
)
def test_errors_name_the_problem_and_where(doc: str, message: str) -> None:
    with pytest.raises(InvalidSsml) as raised:
        parse_ssml(doc)
    assert message in raised.value.message
    assert raised.value.status == 400


BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'
        for i in range(1, 10)
    )
    + "]><speak>&lol9;</speak>"
)
EXTERNAL = (
    '<?xml version="1.0"?><!DOCTYPE s [<!ENTITY x SYSTEM "file:///etc/passwd">]><speak>&x;</speak>'
)
PARAMETER = '<!DOCTYPE s [<!ENTITY % p SYSTEM "http://example.com/x.dtd"> %p;]><speak>a</speak>'
DEEP = "<speak>" + "<s>" * 100_000 + "a" + "</s>" * 100_000 + "</speak>"
DEEP_SMALL = "<speak>" + "<p>" * 10_000 + "a" + "</p>" * 10_000 + "</speak>"
MANY = "<speak>" + "<break time='1ms'/>" * 3_000 + "</speak>"


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (BILLION_LAUGHS, "DTD"),
        (EXTERNAL, "DTD"),
        (PARAMETER, "DTD"),
        (DEEP, "characters; the maximum is"),
        (DEEP_SMALL, "nested deeper than 32"),
        (MANY, "more than 2000 elements"),
        ("<speak>" + "字" * 20_001 + "</speak>", "more than 20000 characters"),
    ],
)
def test_hostile_documents_are_refused(doc: str, message: str) -> None:
    # (How fast: tests/integration/test_ssml.py times them through the real service.)
    with pytest.raises(InvalidSsml, match=message):
        parse_ssml(doc)


def test_is_ssml() -> None:
    assert is_ssml("  <speak>x</speak>") and is_ssml('<?xml version="1.0"?><speak/>')
    assert not is_ssml("你好 <speak>") and not is_ssml("<speakers>")
