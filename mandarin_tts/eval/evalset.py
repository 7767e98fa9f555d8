"""The held-out evaluation set: source texts -> a fixed dev/test split (eval/README.md).

The texts live in eval/sentences/source/ (written for this project); this module checks
them and writes eval/sentences/{dev,test}.jsonl. The split is stratified by (kind,
category) and ordered by a hash of each id, so it never depends on file order or a seed,
and adding a text later does not move the existing ones between splits.

    python -m mandarin_tts.eval.evalset --check   # the committed jsonl match the sources
    python -m mandarin_tts.eval.evalset --write   # (re)write them (only when adding texts)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from mandarin_tts.paths import EVAL_SENTENCES, PROJECT_ROOT

EVAL_SET_DIR = PROJECT_ROOT / "eval" / "sentences"
SOURCE_DIR = EVAL_SET_DIR / "source"
SPLITS = ("dev", "test")
Kind = Literal["sentence", "paragraph"]
# (min, max) characters per kind, as the issue specifies the set.
LENGTHS: dict[str, tuple[int, int]] = {"sentence": (5, 80), "paragraph": (150, 500)}
_SOURCES: dict[str, str] = {"sentence": "sentences.txt", "paragraph": "paragraphs.txt"}
_PREFIX = {"sentence": "s", "paragraph": "p"}


@dataclass(frozen=True)
class EvalItem:
    id: str
    category: str
    text: str
    kind: Kind


def parse_source(lines: Iterable[str], kind: Kind) -> list[EvalItem]:
    """'## category' headers, one text per line, '#' comments; ids are category-numbered."""
    items: list[EvalItem] = []
    category: str | None = None
    counts: dict[str, int] = defaultdict(int)
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if line.startswith("## "):
            category = line[3:].strip()
            continue
        if not line or line.startswith("#"):
            continue
        if category is None:
            raise ValueError(f"line {number}: text before the first '## category' header")
        counts[category] += 1
        item_id = f"{_PREFIX[kind]}-{category}-{counts[category]:02d}"
        items.append(EvalItem(item_id, category, line, kind))
    return items


def validate(items: Sequence[EvalItem], smoke: Iterable[str] = ()) -> list[str]:
    """Problems with the set (empty when it is fine): lengths, duplicates, smoke-set overlap."""
    problems: list[str] = []
    seen: dict[str, str] = {}
    smoke_texts = {text.strip() for text in smoke}
    for item in items:
        low, high = LENGTHS[item.kind]
        if not low <= len(item.text) <= high:
            problems.append(f"{item.id}: {len(item.text)} characters, expected {low}-{high}")
        if item.text in seen:
            problems.append(f"{item.id}: same text as {seen[item.text]}")
        seen.setdefault(item.text, item.id)
        if item.text in smoke_texts:
            problems.append(f"{item.id}: copied from the smoke set")
    if len({item.id for item in items}) != len(items):
        problems.append("duplicate ids")
    return problems


def _rank(item_id: str) -> str:
    return hashlib.sha256(item_id.encode()).hexdigest()


def split(items: Sequence[EvalItem]) -> dict[str, list[EvalItem]]:
    """Half of each (kind, category) group to dev, half to test (odd: the extra to test)."""
    groups: dict[tuple[str, str], list[EvalItem]] = defaultdict(list)
    for item in items:
        groups[(item.kind, item.category)].append(item)
    chosen: dict[str, set[str]] = {"dev": set(), "test": set()}
    for group in groups.values():
        ranked = sorted(group, key=lambda item: _rank(item.id))
        half = len(ranked) // 2
        chosen["dev"].update(item.id for item in ranked[:half])
        chosen["test"].update(item.id for item in ranked[half:])
    # Keep source order inside each split so the files read naturally.
    return {name: [item for item in items if item.id in chosen[name]] for name in SPLITS}


def load_sources(source_dir: Path = SOURCE_DIR) -> list[EvalItem]:
    items: list[EvalItem] = []
    for kind, filename in _SOURCES.items():
        lines = (source_dir / filename).read_text(encoding="utf-8").splitlines()
        items.extend(parse_source(lines, kind))  # type: ignore[arg-type]
    return items


def render_jsonl(items: Sequence[EvalItem]) -> str:
    return "".join(json.dumps(asdict(item), ensure_ascii=False) + "\n" for item in items)


def load_split(name: str, directory: Path = EVAL_SET_DIR) -> list[EvalItem]:
    """The items of 'dev' or 'test' as written in eval/sentences/<name>.jsonl."""
    if name not in SPLITS:
        raise ValueError(f"unknown split {name!r}; use one of {', '.join(SPLITS)}")
    items = []
    for line in (directory / f"{name}.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            data = json.loads(line)
            items.append(EvalItem(data["id"], data["category"], data["text"], data["kind"]))
    return items


def _smoke_texts() -> list[str]:
    return (
        EVAL_SENTENCES.read_text(encoding="utf-8").splitlines() if EVAL_SENTENCES.exists() else []
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--check", action="store_true", help="verify the jsonl files")
    action.add_argument("--write", action="store_true", help="write the jsonl files")
    args = parser.parse_args(argv)
    items = load_sources()
    problems = validate(items, _smoke_texts())
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    for name, members in split(items).items():
        path = EVAL_SET_DIR / f"{name}.jsonl"
        text = render_jsonl(members)
        if args.write:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path} ({len(members)} items)")
        elif not path.exists() or path.read_text(encoding="utf-8") != text:
            print(f"{path} does not match the sources; run --write", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
