"""Arbitrary unicode gives valid symbol ids or the documented TextFrontendError."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mandarin_tts.contract import AC_MAX_SYMBOLS
from mandarin_tts.text import TextFrontendError
from mandarin_tts.text.symbols import symbol_to_id

_N_SYMBOLS = len(symbol_to_id())
_EOS = symbol_to_id()["eos"]
_SIL = symbol_to_id()["sil"]

# Mix fully random code points with text shaped like real requests (digits, CJK, symbols).
_pieces = st.sampled_from(
    list("0123456789.,:-/%¥$°年月日号点第个元万一二不行长还的了儿 abcXYZ，。！？、")
    + ["km", "kg", "°C", "GB", "😀", "\u200b", "１", "Ａ", "語", "2024-03-05", "14:30"]
)
_realistic = st.lists(_pieces, max_size=40).map("".join)
_texts = st.one_of(st.text(max_size=250), _realistic)


def _check(frontend, text: str) -> None:
    try:
        result = frontend.encode(text)
    except TextFrontendError as exc:
        assert str(exc)
        return
    ids = result.ids
    assert ids.dtype.kind == "i" and ids.ndim == 1
    assert 4 <= len(ids) <= AC_MAX_SYMBOLS
    assert ((ids >= 0) & (ids < _N_SYMBOLS)).all()
    assert ids[0] == _SIL and ids[-2] == _SIL and ids[-1] == _EOS
    assert len(result.phonemes.split()) == len(ids)


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=_texts)
def test_any_unicode_gives_ids_or_documented_error(frontend, text):
    _check(frontend, text)
