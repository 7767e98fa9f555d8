"""Small helpers for scripts/setup_env.sh around requirements/lock.txt (stdlib only).

python scripts/lock_tools.py stale LOCK [KEEP ...]   installed packages the lock does not name
python scripts/lock_tools.py constraints LOCK        the lock's pins without hashes (pip -c)
"""

from __future__ import annotations

import re
import sys
from importlib.metadata import distributions
from pathlib import Path

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", re.MULTILINE)


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_pins(lock_text: str) -> dict[str, str]:
    """{normalized name: version} of every `name==version` line of a pip-compile lock."""
    return {normalize(m.group(1)): m.group(2) for m in _PIN.finditer(lock_text)}


def stale(lock_text: str, keep: set[str]) -> list[str]:
    wanted = set(locked_pins(lock_text)) | {normalize(k) for k in keep}
    installed = {normalize(d.metadata["Name"]) for d in distributions() if d.metadata["Name"]}
    return sorted(installed - wanted)


def constraints(lock_text: str) -> str:
    return "".join(
        f"{name}=={version}\n" for name, version in sorted(locked_pins(lock_text).items())
    )


def main(argv: list[str]) -> int:
    command, lock = argv[0], Path(argv[1]).read_text(encoding="utf-8")
    if command == "stale":
        print(" ".join(stale(lock, set(argv[2:]))))
    elif command == "constraints":
        sys.stdout.write(constraints(lock))
    else:
        raise SystemExit(f"unknown command {command!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
