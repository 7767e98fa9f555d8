"""Shared by the unit tests: none of them needs the built models (`make test-unit` only
needs the venv); the tests of the real models are in tests/integration/models.

pytest puts this folder on sys.path, so helpers shared by unit folders live here as
`<subject>_helpers.py` (server_helpers)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mandarin_tts.voices.registry import MODELS_DIR_ENV, VOICES_DIR_ENV

# Unit folders whose tests see no installed voice unless a test installs one: the catalogue
# then falls back to the built-in description of the bundled voice, whatever .cache holds.
NO_INSTALLED_VOICES_IN = frozenset({"client", "frontend"})


@pytest.fixture(autouse=True, scope="module")
def no_installed_voices(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path | None]:
    if request.path.parent.name not in NO_INSTALLED_VOICES_IN:
        yield None
        return
    empty = tmp_path_factory.mktemp("no-voices")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(MODELS_DIR_ENV, str(empty / "models"))
        patch.setenv(VOICES_DIR_ENV, str(empty / "voices"))
        yield empty
