"""Cleanup of the user's text before chunking: characters that cannot be spoken and only
cost work (or break the chunker's size estimates) go first.

* NFC, so a letter and its accent are one code point;
* combining marks beyond MAX_MARKS_PER_BASE on one base character (a character followed by
  5,000 marks is one character, not a 5,000-character chunk);
* zero-width, invisible and bidi controls, other format characters, variation selectors,
  tags; C0/C1 controls except tab and line breaks; lone surrogates (JSON can carry them and
  UTF-8 cannot); unassigned code points and noncharacters;
* private-use characters: the service's own inline markup (SSML spans) uses private-use
  code points and is inserted after this cleanup, so a user cannot forge it.

Letters no voice here reads (other scripts) are dropped here rather than inside one chunk,
so a sentence of Cyrillic between Chinese ones costs nothing instead of failing the request
as an unspeakable chunk; Latin letters with diacritics lose them (café -> cafe).

Very long digit runs and Latin words are written out here in the groups the normalizer
reads them in (幺二三四、五六七八、..., ABCD、EFGH、...): the chunker then cuts them at group
boundaries into chunks of ordinary length; left whole, a 400-digit run would be cut at
arbitrary digits into chunks with half again as much audio per character as Chinese text.

Line separators become newlines (the chunker treats them as paragraph breaks), and URLs
are shortened to what the URL policy reads (mandarin_tts.text.normalize.addresses), so
that a 300-character URL is not chunked into pieces that are read in full.
"""

from __future__ import annotations

import re
import unicodedata

from mandarin_tts.text.normalize.addresses import EMAIL_PATTERN, URL_PATTERN, shorten_urls
from mandarin_tts.text.normalize.latin import ALWAYS_PIECES_OVER, letter_pieces
from mandarin_tts.text.normalize.readings import GROUP_PAUSE, read_code

# Real text stacks at most two or three marks on a letter (Vietnamese, pinyin with tone).
MAX_MARKS_PER_BASE = 3

_KEPT_CONTROLS = frozenset("\t\n\r")
_LINE_SEPARATORS = {"\u2028": "\n", "\u2029": "\n", "\x85": "\n"}
# Categories that are never spoken: Cc control, Cf format (ZWSP, ZWJ, bidi, BOM, soft
# hyphen, tags), Cs surrogate, Co private use, Cn unassigned (incl. noncharacters).
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
_MARK_CATEGORIES = frozenset({"Mn", "Mc", "Me"})
# Variation selectors are marks (Mn) that only choose a glyph.
_VARIATION_SELECTORS = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef]")
# Invisible characters Unicode files as letters or spaces (Hangul fillers, braille blank).
_INVISIBLE_OTHER = frozenset("\u115f\u1160\u3164\uffa0\u2800\u180e")


def _dropped(char: str) -> bool:
    if char in _KEPT_CONTROLS:
        return False
    return unicodedata.category(char) in _DROPPED_CATEGORIES or char in _INVISIBLE_OTHER


# Runs at least this long are read as codes whatever their context (no phone, ID or bank
# card number is this long), so writing them out here cannot change their reading.
LONG_DIGIT_RUN = 20
_ADDRESS = re.compile(f"{URL_PATTERN}|{EMAIL_PATTERN}")
_LONG_DIGITS = re.compile(rf"(?<![\d.,:/@A-Za-z_%-])\d{{{LONG_DIGIT_RUN},}}(?![\d.,:/@A-Za-z_%-])")
_LONG_LETTERS = re.compile(
    rf"(?<![A-Za-z0-9._@%/-])[A-Za-z]{{{ALWAYS_PIECES_OVER + 1},}}(?![A-Za-z0-9._@%/-])"
)


def _write_out_long_runs(text: str) -> str:
    """Long digit runs and Latin words (outside URLs and e-mail addresses) in spoken groups."""
    out, start = [], 0
    for address in _ADDRESS.finditer(text):
        out += [_write_out(text[start : address.start()]), address.group(0)]
        start = address.end()
    out.append(_write_out(text[start:]))
    return "".join(out)


def _write_out(text: str) -> str:
    text = _LONG_DIGITS.sub(lambda m: read_code(m.group(0)), text)
    return _LONG_LETTERS.sub(lambda m: GROUP_PAUSE.join(letter_pieces(m.group(0))), text)


def _is_cjk(char: str) -> bool:
    return (
        "\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf" or "\uf900" <= char <= "\ufaff"
    )


def _readable_form(char: str) -> str:
    """A letter or number as the normalizer can read it: itself when ASCII or Chinese, its
    ASCII/Chinese decomposition (é -> e, ① -> 1, ＡＢ -> AB), '' for other scripts; other
    characters (punctuation, symbols, marks) unchanged, the normalizer judges them."""
    if char.isascii() or _is_cjk(char):
        return char
    if unicodedata.category(char)[0] not in "LN":
        return char
    folded = unicodedata.normalize("NFKD", char)
    kept = "".join(c for c in folded if (c.isascii() and c.isalnum()) or _is_cjk(c))
    return kept if kept else ""


def _without_surrogates(text: str) -> str:
    # unicodedata.normalize accepts lone surrogates, but drop them first to be safe.
    return "".join(c for c in text if not "\ud800" <= c <= "\udfff")


def clean_user_text(text: str) -> str:
    """The user's text without invisible, private and excess combining characters."""
    text = _without_surrogates(text)
    text = "".join(_LINE_SEPARATORS.get(c, c) for c in text)
    text = "".join(c for c in text if not _dropped(c))
    text = _VARIATION_SELECTORS.sub("", text)
    text = unicodedata.normalize("NFC", text)
    out: list[str] = []
    marks = 0
    # Marks of a dropped letter go with it; on ASCII (a folded Latin letter) they mean nothing.
    skip_marks = False
    for char in text:
        if unicodedata.category(char) in _MARK_CATEGORIES:
            marks += 1
            if skip_marks or marks > MAX_MARKS_PER_BASE:
                continue
            out.append(char)
            continue
        marks = 0
        readable = _readable_form(char)
        skip_marks = not readable or readable.isascii()
        out.append(readable)
    return _write_out_long_runs(shorten_urls("".join(out)))


# ------------------------------------------------------------- what a refusal may say publicly

# Triton's and the text step's wording: the ensemble prefix, request ids, tensor names.
_ENSEMBLE_PREFIX = re.compile(r"in ensemble '[^']*',\s*", re.IGNORECASE)
_REQUEST_ID = re.compile(r"\[request id: [^\]]*\]\s*", re.IGNORECASE)
_EXPANDS = re.compile(
    r"TEXT expands to (\d+) (?:symbols|linguistic units); the acoustic model takes at most "
    r"(\d+)[^.]*\.(?:\s*Split it into shorter sentences\.)?"
)
_TENSOR_NAMES = re.compile(r"\b(?:TEXT|SPEED|PITCH|ENERGY|SPEAKER|EMOTION|AUDIO|SAMPLE_RATE)\b")
_TENSOR_WORDS = {"TEXT": "the text", "SPEED": "speed", "PITCH": "pitch", "ENERGY": "energy",
                 "SPEAKER": "speaker", "EMOTION": "emotion", "AUDIO": "audio",
                 "SAMPLE_RATE": "sample rate"}  # fmt: skip


def public_reason(message: str) -> str:
    """A model's refusal in words for the client: no ensemble names, request ids or tensor
    names ('TEXT expands to 656 symbols' -> 'it reads as 656 sounds ...')."""
    message = _REQUEST_ID.sub("", _ENSEMBLE_PREFIX.sub("", message))
    message = _EXPANDS.sub(
        r"it reads as \1 speech sounds, more than one piece of speech holds (\2); "
        "shorten it or add punctuation",
        message,
    )
    return _TENSOR_NAMES.sub(lambda m: _TENSOR_WORDS[m.group(0)], message).strip()


def quoted(text: str, limit: int = 40) -> str:
    """The span a refusal names, as the client can find it in its text."""
    return repr(text if len(text) <= limit else text[:limit] + "…")
