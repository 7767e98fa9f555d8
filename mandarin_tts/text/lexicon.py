"""Pronunciation lexicons: word -> toned pinyin, applied as inline spans before G2P.

File format (UTF-8), one entry a line, `#` starts a comment:

    曾先生   zeng1 xian1 sheng5
    Tesla	te4 si1 la1

The word is everything before the first tab, or before the first space when the line has
no tab; the rest is the reading. A deployment names its file with MANDARIN_TTS_LEXICON; the
text frontend loads it at start and reloads it when its mtime changes (checked at most once
a second). A bad line is logged with its number and skipped; the other entries still apply.

Triton's response cache is keyed by the request, not by the file: a caller that reads the
same file sends its `file_version` (LEXICON_VERSION), so an edited file is a new cache key,
and the text frontend reloads at once when a request names a version it has not loaded.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

from mandarin_tts.text.inline import (
    InlineMarkupError,
    check_span,
    map_plain,
    mark,
    parse_syllables,
    strip_markup,
)

log = logging.getLogger(__name__)

LEXICON_ENV = "MANDARIN_TTS_LEXICON"
MAX_WORD_CHARS = 32
RELOAD_CHECK_S = 1.0


class LexiconError(ValueError):
    """A lexicon entry is malformed; the message names the entry (or line)."""


class Lexicon:
    """Word -> syllables; `apply` marks the words it finds, longest match first."""

    def __init__(self, entries: Mapping[str, tuple[str, ...]] | None = None) -> None:
        self.entries: dict[str, tuple[str, ...]] = dict(entries or {})
        words = sorted(self.entries, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, words))) if words else None

    def __len__(self) -> int:
        return len(self.entries)

    def apply(self, text: str) -> str:
        """Matched words in the plain runs of `text` become spans (existing spans win)."""
        pattern = self._pattern
        if pattern is None:
            return text

        def replace(run: str) -> str:
            return pattern.sub(lambda m: mark(m.group(0), self.entries[m.group(0)]), run)

        return map_plain(text, replace)


def parse_entry(word: str, pinyin: str, where: str) -> tuple[str, tuple[str, ...]]:
    """One checked entry; raises LexiconError naming `where`."""
    word = word.strip()
    if not word:
        raise LexiconError(f"{where}: the word is empty")
    if len(word) > MAX_WORD_CHARS:
        raise LexiconError(
            f"{where}: the word has {len(word)} characters; at most {MAX_WORD_CHARS}"
        )
    if any(c.isspace() for c in word):
        raise LexiconError(f"{where}: the word {word[:20]!r} contains whitespace")
    if strip_markup(word) != word:
        raise LexiconError(f"{where}: the word contains private-use characters")
    try:
        syllables = parse_syllables(pinyin, where)
        check_span(word, syllables, where)
    except InlineMarkupError as error:
        raise LexiconError(str(error)) from None
    return word, syllables


def from_mapping(items: Iterable[tuple[str, str]], source: str = "lexicon") -> Lexicon:
    """Strict: the first bad entry raises (per-request lexicons)."""
    entries: dict[str, tuple[str, ...]] = {}
    for word, pinyin in items:
        key, syllables = parse_entry(word, pinyin, f"{source} entry {word[:20]!r}")
        entries[key] = syllables
    return Lexicon(entries)


def parse_lexicon_text(text: str, source: str) -> tuple[Lexicon, list[str]]:
    """Lenient: (the good entries, one message per bad line)."""
    entries: dict[str, tuple[str, ...]] = {}
    errors: list[str] = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        sep = "\t" if "\t" in line else " "
        word, _, pinyin = line.partition(sep)
        try:
            key, syllables = parse_entry(word, pinyin, f"{source}:{n}")
        except LexiconError as error:
            errors.append(str(error))
            continue
        entries[key] = syllables
    return Lexicon(entries), errors


def _version_of(stat: os.stat_result) -> str:
    return f"{stat.st_mtime_ns}-{stat.st_size}"


def file_version(path: Path) -> str:
    """What a reader of `path` sees, as mtime and size ("" when it cannot be stat'ed).

    The HTTP frontend and the text frontend compute it alike from the same file."""
    try:
        return _version_of(path.stat())
    except OSError:
        return ""


class LexiconFile:
    """A lexicon file kept current: `current()` reloads it after its mtime or size changed."""

    def __init__(self, path: Path, check_s: float = RELOAD_CHECK_S) -> None:
        self.path = path
        self.check_s = check_s
        self._lock = threading.Lock()
        self._version = ""  # file_version of what is loaded; "" until a read succeeds
        self._checked = float("-inf")
        self._lexicon = Lexicon()
        self._load()

    def _load(self) -> None:
        try:
            version = _version_of(self.path.stat())
            if version == self._version:
                return
            text = self.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            if self._version or self._checked == float("-inf"):
                log.error("lexicon %s cannot be read (%s); no file entries apply", self.path, error)
            self._version, self._lexicon = "", Lexicon()
            return
        lexicon, errors = parse_lexicon_text(text, str(self.path))
        for message in errors:
            log.error("lexicon entry skipped: %s", message)
        log.info("lexicon %s: %d entries loaded", self.path, len(lexicon))
        self._version, self._lexicon = version, lexicon

    @property
    def version(self) -> str:
        """The file_version of what is loaded ("" when nothing could be read)."""
        return self._version

    def current(self) -> Lexicon:
        now = time.monotonic()
        with self._lock:
            if now - self._checked >= self.check_s:
                self._load()
                self._checked = now
            return self._lexicon

    def catch_up(self, seen_version: str) -> None:
        """A caller saw the file at `seen_version`: reload now if that is not what is loaded,
        so the audio cached under that version is made with that file."""
        with self._lock:
            if seen_version != self._version:
                self._load()
                self._checked = time.monotonic()


# One LexiconFile per path and process, shared by every text frontend of a stub, so that
# catch_up_lexicon reaches it without going through the voice's frontend.
_SHARED: dict[Path, LexiconFile] = {}
_SHARED_LOCK = threading.Lock()


def lexicon_path_from_env(environ: Mapping[str, str] | None = None) -> Path | None:
    path = (os.environ if environ is None else environ).get(LEXICON_ENV, "").strip()
    return Path(path) if path else None


def lexicon_from_env(environ: Mapping[str, str] | None = None) -> LexiconFile | None:
    path = lexicon_path_from_env(environ)
    if path is None:
        return None
    with _SHARED_LOCK:
        if path not in _SHARED:
            _SHARED[path] = LexiconFile(path)
        return _SHARED[path]


def catch_up_lexicon(seen_version: str, environ: Mapping[str, str] | None = None) -> None:
    """The deployment lexicon (if any) catches up with the version a request names."""
    lexicon = lexicon_from_env(environ)
    if lexicon is not None:
        lexicon.catch_up(seen_version)
