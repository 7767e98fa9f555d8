"""The web page in headless Chromium (Debian's chromium + chromedriver, driven by Selenium):
type text, synthesize, and check that the audio element holds playable audio."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from browser_helpers import headless_chromium
from frontend_process_helpers import PROJECT_ROOT, FrontendProcess

pytestmark = pytest.mark.integration

SCREENSHOT = PROJECT_ROOT / "out" / "frontend_browser.png"
TEXT = "欢迎使用中文语音合成服务。这是一段用来测试网页的文字，合成以后应该可以直接播放。"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with headless_chromium() as driver:
        yield driver


def test_type_synthesize_and_play(browser: Any, frontend: FrontendProcess) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(frontend.url + "/")
    box = browser.find_element(By.ID, "text")
    box.clear()
    box.send_keys(TEXT)
    assert browser.find_element(By.ID, "count").text == str(len(TEXT))
    browser.find_element(By.ID, "synthesize").click()

    status = WebDriverWait(browser, 300).until(
        lambda d: (s := d.find_element(By.ID, "status").text).startswith(("完成", "错误")) and s
    )
    assert status.startswith("完成"), status
    # Wait until the element has decoded the audio's metadata and first data.
    state = WebDriverWait(browser, 30).until(
        lambda d: d.execute_script(
            "const a = document.getElementById('player');"
            "return a.readyState >= 2 && isFinite(a.duration) ? "
            "{ready: a.readyState, duration: a.duration, error: a.error && a.error.code, src: a.src} : null;"
        )
    )
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOT))
    print(f"\nbrowser: {status}\naudio element: {state}\nscreenshot: {SCREENSHOT}")
    assert state["error"] is None and state["src"].startswith("blob:")
    assert state["duration"] > 1.0
    assert browser.find_element(By.ID, "download").get_attribute("href").startswith("blob:")
