"""URLs and e-mail addresses read by their parts: host words, 点 for dots, 艾特 for @,
斜杠 for slashes, digits one by one.

How much of a URL is read is a deployment policy (env MANDARIN_TTS_URL_POLICY):
  full  every part (scheme omitted: 'https://' tells a listener nothing);
  host  the host only (www.example.com);
  auto  (default) full up to URL_FULL_MAX_CHARS characters, the host beyond.
The HTTP frontend applies the policy before chunking (`shorten_urls`), so a long URL is
never chunked into pieces that would each be read in full.
"""

from __future__ import annotations

import os
import re

from mandarin_tts.text.normalize.readings import read_code
from mandarin_tts.text.normalize.rules import Rule, rule

URL_POLICY_ENV = "MANDARIN_TTS_URL_POLICY"
URL_POLICIES = ("auto", "full", "host")
# Beyond this a full reading is more noise than help (and costs seconds of audio).
URL_FULL_MAX_CHARS = 48

# The same characters the chunker keeps inside one URL atom (frontend/chunking.py).
URL_PATTERN = (
    r"(?:(?:https?|ftp)://|www\.)[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*[A-Za-z0-9/#=_\-~%&]"
)
EMAIL_PATTERN = r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"
_URL = re.compile(URL_PATTERN)
_SCHEME = re.compile(r"^(?:(?:https?|ftp)://)", re.IGNORECASE)
_PART = re.compile(r"[A-Za-z]+|\d+|%[0-9A-Fa-f]{2}|.", re.DOTALL)

_SYMBOL_WORDS = {
    ".": "点", "/": "斜杠", ":": "冒号", "?": "问号", "=": "等于", "&": "和", "#": "井号",
    "-": "杠", "_": "下划线", "~": "波浪线", "+": "加", "@": "艾特", "%": "百分号",
}  # fmt: skip


def url_policy() -> str:
    """The configured policy; an unknown value falls back to the default."""
    value = os.environ.get(URL_POLICY_ENV, "auto").strip().lower()
    return value if value in URL_POLICIES else "auto"


def _split_url(url: str) -> tuple[str, str]:
    """(scheme + host, the rest) of a URL."""
    scheme = _SCHEME.match(url)
    start = scheme.end() if scheme else 0
    end = start
    while end < len(url) and url[end] not in "/?#":
        end += 1
    return url[:end], url[end:]


def _reads_host_only(url: str, policy: str) -> bool:
    return policy == "host" or (policy == "auto" and len(url) > URL_FULL_MAX_CHARS)


def shorten_url(url: str, policy: str | None = None) -> str:
    """The part of `url` the policy reads (still a URL, so the chunker keeps it whole)."""
    if _reads_host_only(url, policy or url_policy()):
        return _split_url(url)[0]
    return url


def shorten_urls(text: str, policy: str | None = None) -> str:
    chosen = policy or url_policy()
    return _URL.sub(lambda m: shorten_url(m.group(0), chosen), text)


def spell_parts(text: str) -> str:
    """'www.abc-1.com/x' -> '三W点ABC杠幺点COM斜杠X' (letters stay letters for the G2P)."""
    out: list[str] = []
    for part in _PART.findall(text):
        if part.lower() == "www":
            out.append("三W")  # how 'www' is said in Mandarin
        elif part.isascii() and part.isalpha():
            out.append(f" {part} ")  # kept apart so neighbouring words are not merged
        elif part.isdigit():
            out.append(read_code(part))
        elif part.startswith("%") and len(part) == 3:
            continue  # percent-encoded bytes are not read
        else:
            out.append(_SYMBOL_WORDS.get(part, ""))
    return "".join(out)


def read_url(url: str, policy: str | None = None) -> str:
    spoken = _SCHEME.sub("", shorten_url(url, policy)).rstrip("/")
    return spell_parts(spoken)


@rule("url", URL_PATTERN)
def _url(m: re.Match[str]) -> str:
    return read_url(m.group(0))


@rule("email", EMAIL_PATTERN)
def _email(m: re.Match[str]) -> str:
    return spell_parts(m.group(0))


RULES: list[Rule] = [_url, _email]
