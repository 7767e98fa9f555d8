"""Headless Chromium for the page tests (unit: fake synthesizer; integration: the real
stack): Debian's chromium + chromedriver driven by Selenium, skipped where absent
(scripts/install_chromium.sh installs them)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
# No network side traffic, no first-run UI, autoplay allowed (the page plays what it gets).
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--autoplay-policy=no-user-gesture-required", "--window-size=1000,900",
)  # fmt: skip


@contextmanager
def headless_chromium() -> Iterator[Any]:
    """A Selenium driver with a throw-away profile; skips the test where Chromium, its
    driver or selenium are missing."""
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
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    # Every console message reaches driver.get_log("browser") (console_errors reads them).
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def console_errors(
    driver: Any, expected: tuple[str, ...] = (), levels: tuple[str, ...] = ("SEVERE", "WARNING")
) -> list[str]:
    """The browser console's errors and warnings since the last call (uncaught exceptions,
    console.error/warn, failed loads, the browser's own complaints), less those containing
    one of the `expected` strings (e.g. the 400 a test provokes on purpose)."""
    entries = driver.get_log("browser")
    return [
        f"{entry['level']}: {entry['message']}"
        for entry in entries
        if entry.get("level") in levels and not any(s in entry["message"] for s in expected)
    ]


def save_downloads_to(driver: Any, folder: Path) -> None:
    """Files the page downloads go to `folder` (headless Chromium asks nobody)."""
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(folder)}
    )
