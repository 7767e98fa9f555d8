"""Mandarin text frontend: normalization, G2P with tone sandhi, prosody, symbol ids.

fe = TextFrontend()
res = fe.encode("今天是2024年3月5日。")
res.ids, res.normalized, res.phonemes, res.pinyin
"""

from mandarin_tts.text.frontend import (
    FrontendLimits,
    FrontendResult,
    TextFrontend,
    TextFrontendError,
    decode_request_text,
)
from mandarin_tts.text.normalize import normalize_text

__all__ = [
    "FrontendLimits",
    "FrontendResult",
    "TextFrontend",
    "TextFrontendError",
    "decode_request_text",
    "normalize_text",
]
