"""The web page's voice, speaker and emotion selectors in headless Chromium, against an
in-process frontend with a fake synthesizer and two installed voices (no Triton needed).
Skips where Debian's chromium + chromedriver or selenium are absent
(scripts/install_chromium.sh installs them)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web
from app_server_helpers import serve_in_thread
from browser_helpers import headless_chromium
from frontend_helpers import FakeSynthesizer, catalogue_with_voices

from frontend.app import create_app
from frontend.config import FrontendConfig

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def page_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, FakeSynthesizer]]:
    catalogue = catalogue_with_voices(tmp_path_factory.mktemp("page-voices"))
    synth = FakeSynthesizer(0.001)

    def make_app(port: int) -> web.Application:
        return create_app(FrontendConfig(port=port), lambda _c: synth, catalogue=catalogue)

    with serve_in_thread(make_app) as url:
        yield url, synth


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with headless_chromium() as driver:
        yield driver


def test_selectors_follow_the_voices_and_reach_the_request(
    browser: Any, page_server: tuple[str, FakeSynthesizer]
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    url, synth = page_server
    browser.get(url + "/")
    WebDriverWait(browser, 30).until(
        lambda d: len(Select(d.find_element(By.ID, "voice")).options) == 2
    )
    voice = Select(browser.find_element(By.ID, "voice"))
    assert voice.first_selected_option.get_attribute("value") == "baker"  # the default
    speaker = browser.find_element(By.ID, "speaker")
    assert [o.text for o in Select(speaker).options] == ["baker"]
    assert speaker.get_attribute("disabled")  # one speaker: nothing to choose

    voice.select_by_value("aishu")
    speakers, emotions = (Select(browser.find_element(By.ID, i)) for i in ("speaker", "emotion"))
    assert [o.text for o in speakers.options] == ["F7", "M1"]
    assert [o.text for o in emotions.options] == ["neutral", "happy", "sad"]
    assert speakers.first_selected_option.text == "F7"  # the voice's default
    assert "24 kHz" in browser.find_element(By.ID, "voice-info").text
    speakers.select_by_value("M1")
    emotions.select_by_value("sad")
    browser.find_element(By.ID, "synthesize").click()
    status = WebDriverWait(browser, 60).until(
        lambda d: (s := d.find_element(By.ID, "status").text).startswith(("完成", "错误")) and s
    )
    assert status.startswith("完成"), status
    _, params = synth.calls[-1]
    assert (params.voice, params.speaker, params.emotion) == ("aishu", "M1", "sad")
    duration = WebDriverWait(browser, 30).until(
        lambda d: d.execute_script(
            "const a = document.getElementById('player');"
            "return a.readyState >= 2 && isFinite(a.duration) ? a.duration : null;"
        )
    )
    # The fake speaks 100 samples per character; the page must read the WAV at 24 kHz.
    text = browser.find_element(By.ID, "text").get_attribute("value")
    assert duration == pytest.approx(100 * len(text) / 24000, abs=0.01)
