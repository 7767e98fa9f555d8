"""The web page in headless Chromium (Debian's chromium + chromedriver, driven by Selenium):
type text, synthesize, and check that the audio element holds playable audio."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _frontend_process import PROJECT_ROOT, FrontendProcess

pytestmark = pytest.mark.integration

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
SCREENSHOT = PROJECT_ROOT / "out" / "frontend_browser.png"
TEXT = "欢迎使用中文语音合成服务。这是一段用来测试网页的文字，合成以后应该可以直接播放。"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.skip(
            "Debian chromium + chromium-driver are not installed (scripts/install_chromium.sh)"
        )
    webdriver = pytest.importorskip(
        "selenium.webdriver", reason="selenium is not installed (extra 'dev')"
    )
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--autoplay-policy=no-user-gesture-required", "--window-size=1000,900",
        f"--user-data-dir={profile}",
    ):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


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
