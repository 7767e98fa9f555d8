"""Random SSML (well-formed trees of real and made-up elements with random attribute values,
then random cuts and insertions): the parser raises nothing but InvalidSsml, and the HTTP app
never answers 5xx."""

from __future__ import annotations

import asyncio
from xml.sax.saxutils import escape, quoteattr

from aiohttp.test_utils import TestClient, TestServer
from frontend_helpers import FakeSynthesizer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from frontend.app import create_app
from frontend.config import FrontendConfig
from frontend.errors import InvalidSsml
from frontend.ssml import parse_ssml
from mandarin_tts.text.inline import split_inline

TAGS = ["p", "s", "break", "prosody", "phoneme", "sub", "say-as", "emphasis", "speak", "voice"]
ATTRS = {
    "break": ["time", "strength"],
    "prosody": ["rate", "pitch", "volume"],
    "phoneme": ["alphabet", "ph"],
    "sub": ["alias"],
    "say-as": ["interpret-as", "format"],
    "emphasis": ["level"],
}
VALUES = [
    "500ms", "1.5s", "x-strong", "none", "slow", "+20%", "-30%", "150%", "+2st", "loud",
    "-6dB", "50", "py", "zeng1", "zeng1 xian1", "ni3 hao3", "telephone", "date", "ymd",
    "cardinal", "ordinal", "digits", "time", "currency", "characters", "strong", "", "1e309",
    "99999999999999999999s", "\ue000", "&amp;",
]  # fmt: skip
_CHARS = "你好曾世界一二三 ，。！?0123456789-:/.$¥abcXYZ\n\t\ue000\ue001"
TEXT = st.one_of(
    st.text(alphabet=st.sampled_from(list(_CHARS)), max_size=12),
    st.text(max_size=8),  # any Unicode: controls, surrogates, marks, other scripts
)


@st.composite
def documents(draw: st.DrawFn, depth: int = 0) -> str:
    def node(level: int) -> str:
        if level > 3 or draw(st.booleans()):
            return escape(draw(TEXT))
        tag = draw(st.sampled_from(TAGS))
        names = draw(st.lists(st.sampled_from(ATTRS.get(tag, ["x"])), unique=True, max_size=3))
        attrs = "".join(f" {n}={quoteattr(draw(st.sampled_from(VALUES)))}" for n in names)
        children = "".join(node(level + 1) for _ in range(draw(st.integers(0, 3))))
        return f"<{tag}{attrs}>{children}</{tag}>" if children else f"<{tag}{attrs}/>"

    doc = "<speak>" + "".join(node(1) for _ in range(draw(st.integers(1, 4)))) + "</speak>"
    if draw(st.booleans()):  # damage it: a cut, and an inserted fragment
        cut = draw(st.integers(0, len(doc)))
        junk = draw(st.sampled_from(["<", "&", "<!DOCTYPE x>", "]]>", "<?pi?>", "</s>", "\x00"]))
        doc = doc[:cut] + junk + doc[cut:]
    return doc


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_the_parser_raises_only_invalid_ssml(doc: str) -> None:
    try:
        segments = parse_ssml(doc)
    except InvalidSsml as error:
        assert error.status == 400 and error.message
        return
    for segment in segments:
        split_inline(segment.text)  # markup we produce is always well-formed
        assert segment.volume >= 0.0 and segment.speed > 0 and segment.pitch > 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(documents(), min_size=1, max_size=1))
def test_the_app_never_answers_5xx(docs: list[str]) -> None:
    async def main() -> list[int]:
        synth = FakeSynthesizer(0.0)
        app = create_app(FrontendConfig(chunk_max_chars=20, max_text_chars=1000), lambda _: synth)
        statuses = []
        async with TestClient(TestServer(app)) as client:
            for doc in docs:
                resp = await client.post("/v1/tts", json={"ssml": doc})
                statuses.append(resp.status)
                if resp.status != 200:
                    assert (await resp.json())["error"]["code"] in (
                        "invalid_ssml",
                        "invalid_parameter",
                        "text_rejected",
                    )
        return statuses

    assert all(s in (200, 400) for s in asyncio.run(main()))
