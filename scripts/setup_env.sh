#!/usr/bin/env bash
# Create .venv and install the project with the extras given as arguments (default: build,ref,dev).
# Re-runs are fast: pip's wheel cache plus a stamp of pyproject.toml skip unchanged installs.
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRAS="${1:-build,ref,dev}"
PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip wheel setuptools
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)-${EXTRAS//,/_}
if [ ! -f "$stamp" ]; then
  # This machine's pip config lists optional local indexes that may be absent: hide that noise.
  .venv/bin/python -m pip install --quiet -e ".[${EXTRAS}]" 2>&1 \
    | { grep -v "is ignored: it is neither a file nor a directory" || true; }
  touch "$stamp"
fi
