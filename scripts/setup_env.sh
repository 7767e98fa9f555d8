#!/usr/bin/env bash
# Create the venv ($VENV, default .venv) and install exactly what requirements/lock.txt pins
# (runtime + build + dev extras, sha256-checked), then the project itself (editable).
# Optional argument: more extras (e.g. `bench`), installed within the lock's versions.
# Re-runs are fast: a stamp of the lock + pyproject.toml skips unchanged installs.
# Regenerate the lock with `make lock` after editing the dependencies in pyproject.toml.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
EXTRAS="${1:-}"
PY="${PYTHON:-python3}"
LOCK=requirements/lock.txt
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
stamp="$VENV/.installed-$(cat "$LOCK" pyproject.toml | sha256sum | cut -c1-16)-${EXTRAS//,/_}"
if [ -f "$stamp" ]; then
  exit 0
fi
# This machine's pip config lists optional local indexes that may be absent: hide that noise.
pip() {
  "$VENV/bin/python" -m pip --quiet "$@" 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }
}
# The lock is complete: --no-deps keeps pip from fetching anything it does not name.
pip install --require-hashes --no-deps -r "$LOCK"
pip install --no-deps --no-build-isolation -e .
# Drop what an older setup left behind (e.g. tensorflow, nvidia-pytriton): they pin numpy<2.
stale=$("$VENV/bin/python" scripts/lock_tools.py stale "$LOCK" mandarin-tts-serving)
if [ -n "$stale" ]; then
  echo "removing packages that the lock does not name: $stale"
  # shellcheck disable=SC2086
  pip uninstall -y $stale
fi
if [ -n "$EXTRAS" ]; then
  constraints=$(mktemp)
  trap 'rm -f "$constraints"' EXIT
  "$VENV/bin/python" scripts/lock_tools.py constraints "$LOCK" >"$constraints"
  pip install -c "$constraints" -e ".[${EXTRAS}]"
fi
"$VENV/bin/python" -m pip check
rm -f "$VENV"/.installed-*
touch "$stamp"
# Which lock this venv holds (tests/unit/test_dependencies.py compares it with the packages).
sha256sum "$LOCK" | cut -d' ' -f1 >"$VENV/.lock-installed"
