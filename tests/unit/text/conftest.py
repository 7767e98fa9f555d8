from __future__ import annotations

import pytest

from mandarin_tts.text import TextFrontend


@pytest.fixture(scope="session")
def frontend() -> TextFrontend:
    return TextFrontend()  # jieba's dictionary loads once for the whole session
