"""The web page in headless Chromium (Debian's chromium + chromedriver, driven by Selenium)
against the real stack (tritonserver + `python -m frontend`): live playback while the
response streams, the selectors from /v1/voices and /v1/limits, the server's error
message, downloads in another format, API keys, and a console without errors."""

from __future__ import annotations

import base64
import io
import json
import random
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from browser_helpers import console_errors, headless_chromium, save_downloads_to
from frontend_process_helpers import PROJECT_ROOT, FrontendProcess

pytestmark = pytest.mark.integration

SCREENSHOT = PROJECT_ROOT / "out" / "frontend_browser.png"
# Three or more chunks (the first at most 15 characters, the others up to 30), none of them
# synthesized by other tests (the response cache would answer at once): the first part plays
# while the rest is still being synthesized.
TEXT = (
    "网页播放测试现在开始。这是一段用来测试网页的文字，合成以后应该可以直接播放。"
    "我们一边合成一边播放，第一段声音很快就能听到。"
)
SHORT_TEXT = "请稍等一下。"
# Requests this module provokes on purpose log a failed load in the console; nothing else may.
BAD_REQUEST_LOG = "status of 400"
UNAUTHORIZED_LOG = "status of 401"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with headless_chromium() as driver:
        driver.set_script_timeout(30)
        yield driver


def get_json(url: str, headers: dict[str, str] | None = None) -> Any:
    with urllib.request.urlopen(
        urllib.request.Request(url, headers=headers or {}), timeout=30
    ) as r:
        return json.load(r)


def post(url: str, body: dict[str, Any]) -> tuple[int, bytes]:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as error:
        return int(error.code), error.read()


def open_page(browser: Any, url: str, *, drain: bool = True) -> None:
    """Load the page, wait until /v1/voices and /v1/limits have filled its selects, and clear
    the console log of earlier tests (with `drain`: also of this page's loading)."""
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(url + "/")
    WebDriverWait(browser, 30).until(
        lambda d: d.execute_script(
            "return document.getElementById('voice').options[0].value !== '' &&"
            " document.getElementById('format').options.length > 0"
        )
    )
    if drain:
        console_errors(browser)


def enter_text(browser: Any, text: str) -> None:
    from selenium.webdriver.common.by import By

    box = browser.find_element(By.ID, "text")
    box.clear()
    box.send_keys(text)


def click_and_wait(browser: Any, button: str, prefixes: tuple[str, ...]) -> str:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.find_element(By.ID, button).click()
    status: str = WebDriverWait(browser, 120).until(
        lambda d: (s := d.find_element(By.ID, "status").text).startswith(prefixes) and s
    )
    return status


def page_errors(browser: Any, *expected: str) -> list[str]:
    """Console errors plus exceptions the page itself caught (window error events)."""
    return console_errors(browser, expected) + browser.execute_script(
        "return window.ttsPage.errors"
    )


def test_playback_starts_while_the_response_streams(
    browser: Any, frontend: FrontendProcess
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    open_page(browser, frontend.url)
    enter_text(browser, TEXT)
    assert browser.find_element(By.ID, "count").text == str(len(TEXT))
    status = click_and_wait(browser, "synthesize", ("完成", "错误"))
    assert status.startswith("完成"), status
    run = browser.execute_script("return window.ttsPage.last")
    print(
        f"\nbrowser: {status}\nchunks {run['chunks']}, format {run['format']}, "
        f"first chunk {run['firstChunkAt'] - run['clickedAt']:.0f} ms, first block scheduled "
        f"{run['firstScheduledAt'] - run['clickedAt']:.0f} ms, stream end "
        f"{run['streamEndAt'] - run['clickedAt']:.0f} ms after the click; "
        f"{len(run['blocks'])} blocks, {run['underruns']} underruns"
    )
    assert run["chunks"] >= 3
    limits = get_json(frontend.url + "/v1/limits")
    assert run["format"] == ("pcm" if "pcm" in limits["formats"] else "wav")
    # The first block was scheduled before the response ended, and the audio clock had
    # passed its start by then: it was playing while the rest was still arriving.
    assert run["firstScheduledAt"] < run["streamEndAt"]
    assert run["firstScheduledAt"] - run["firstChunkAt"] < 200  # ms: at first-chunk latency
    assert run["contextState"] == "running"
    assert run["contextTimeAtEnd"] > run["firstStart"]
    assert len(run["blocks"]) >= 2
    # Gapless: every block starts where the one before it ends, except after an underrun
    # (the network behind playback, as on a machine whose cores are busy elsewhere).
    rate = run["sampleRate"]
    starts, durations, gaps = np.array(run["blocks"], dtype=float).T
    joined = ~gaps[1:].astype(bool)
    np.testing.assert_allclose(
        starts[1:][joined], (starts[:-1] + durations[:-1])[joined], atol=1e-6
    )
    assert int(gaps.sum()) == run["underruns"]
    assert durations.sum() == pytest.approx(run["bytes"] / 2 / rate, abs=1e-6)

    # The WAV kept for replay and download is what a plain (not streamed) request returns.
    kept = base64.b64decode(
        browser.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "fetch(document.getElementById('download').href).then((r) => r.arrayBuffer())"
            ".then((b) => { const u = new Uint8Array(b); let s = '';"
            " for (let i = 0; i < u.length; i += 32768)"
            "   s += String.fromCharCode.apply(null, u.subarray(i, i + 32768));"
            " done(btoa(s)); });"
        )
    )
    code, plain = post(
        frontend.url + "/v1/tts", {**run["request"], "format": "wav", "stream": False}
    )
    assert code == 200
    kept_audio, kept_rate = sf.read(io.BytesIO(kept), dtype="float32")
    plain_audio, plain_rate = sf.read(io.BytesIO(plain), dtype="float32")
    assert kept_rate == plain_rate == rate
    assert kept_audio.shape == plain_audio.shape
    assert float(np.abs(kept_audio - plain_audio).max()) < 1e-3

    state = WebDriverWait(browser, 30).until(
        lambda d: d.execute_script(
            "const a = document.getElementById('player');"
            "return a.readyState >= 2 && isFinite(a.duration) ? "
            "{duration: a.duration, error: a.error && a.error.code, src: a.src} : null;"
        )
    )
    assert state["error"] is None and state["src"].startswith("blob:")
    assert state["duration"] == pytest.approx(len(kept_audio) / rate, abs=0.01)
    # Everything the page loaded came from the service itself (no CDN, no fonts elsewhere).
    loaded = browser.execute_script(
        "return performance.getEntriesByType('resource').map((e) => e.name)"
    )
    assert loaded and all(u.startswith((frontend.url, "blob:", "data:")) for u in loaded), loaded
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOT))
    assert page_errors(browser) == []


HIGHLIGHT_TEXT = "高亮测试开始，每个字读到的时候都会变色。"


def test_the_character_being_read_is_highlighted(browser: Any, frontend: FrontendProcess) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    open_page(browser, frontend.url)
    assert browser.find_element(By.ID, "highlight-toggle").is_selected()  # on by default
    enter_text(browser, HIGHLIGHT_TEXT)
    status = click_and_wait(browser, "synthesize", ("完成", "错误"))
    assert status.startswith("完成"), status
    # The timings arrive after the stream; the spans follow the live playback (or a replay).
    run = WebDriverWait(browser, 60).until(
        lambda d: (
            (r := d.execute_script("return window.ttsPage.last"))
            and (r.get("highlightError") or len(r.get("highlighted") or []) >= 3)
            and r
        )
    )
    assert not run.get("highlightError"), run.get("highlightError")
    spans = browser.find_elements(By.CSS_SELECTOR, "#highlight span")
    spoken = [ch for ch in HIGHLIGHT_TEXT if ch.isalnum()]
    assert "".join(s.text for s in spans) == "".join(spoken)
    assert run["segments"] == len(spans)
    # Characters light up in reading order while the audio plays.
    order = run["highlighted"]
    assert order == sorted(order) and len(set(order)) == len(order)
    assert page_errors(browser) == []


def test_pronunciations_and_subtitles_from_the_page(
    browser: Any, frontend: FrontendProcess
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    open_page(browser, frontend.url)
    enter_text(browser, "字幕测试：我姓曾。下一句也有字幕。")
    browser.find_element(By.CSS_SELECTOR, "#lexicon-box summary").click()
    box = browser.find_element(By.ID, "lexicon")
    box.send_keys("曾 zeng1  # surname")
    status = click_and_wait(browser, "synthesize", ("完成", "错误"))
    assert status.startswith("完成"), status
    run = browser.execute_script("return window.ttsPage.last")
    assert run["request"]["lexicon"] == {"曾": "zeng1"}
    # Sentence subtitles of the same request, saved as speech.srt.
    browser.find_element(By.ID, "download-subtitles").click()
    done = WebDriverWait(browser, 120).until(
        lambda d: (t := d.find_element(By.ID, "status").text).startswith(("已下载", "错误")) and t
    )
    assert done.startswith("已下载"), done
    download = browser.execute_script("return window.ttsPage.lastDownload")
    assert download["name"] == "speech.srt" and download["cues"] == 2 and download["bytes"] > 40
    # A line without a reading is the page's own clear error, before anything is sent.
    box.send_keys("\n曾先生")
    status = click_and_wait(browser, "synthesize", ("完成", "错误"))
    assert status.startswith("错误") and "曾先生" in status, status
    assert page_errors(browser) == []


def test_pcm_decoder_joins_samples_split_between_chunks(
    browser: Any, frontend: FrontendProcess
) -> None:
    """Network chunks end anywhere, also inside a sample or inside the WAV header."""
    open_page(browser, frontend.url)
    samples = 1001
    cuts = sorted(random.Random(15).sample(range(1, 44 + 2 * samples), 60) + [1, 2, 43, 45, 47])
    result = browser.execute_script(
        "const [n, cuts] = arguments;"
        "const bytes = new Uint8Array(44 + 2 * n), view = new DataView(bytes.buffer);"
        "for (let i = 0; i < n; i++) view.setInt16(44 + 2 * i, (i * 653) % 65536 - 32768, true);"
        "const decoder = new window.ttsPage.Pcm16Decoder(44), out = [];"
        "let from = 0;"
        "for (const to of [...cuts, bytes.length]) {"
        "  for (const x of decoder.push(bytes.subarray(from, to))) out.push(Math.round(x * 32768));"
        "  from = to; }"
        "return {out, pending: decoder.pending, bytes: decoder.bytes,"
        "  wav: decoder.wav(16000).size};",
        samples,
        cuts,
    )
    expected = [(i * 653) % 65536 - 32768 for i in range(samples)]
    assert result["out"] == expected
    assert not result["pending"]
    assert result["bytes"] == 2 * samples and result["wav"] == 44 + 2 * samples
    assert page_errors(browser) == []


def test_scheduled_blocks_play_back_to_back(browser: Any, frontend: FrontendProcess) -> None:
    """Blocks of any size, rendered offline: the output is the input, sample for sample."""
    open_page(browser, frontend.url)
    sizes = [random.Random(7).randint(1, 3000) for _ in range(40)]
    result = browser.execute_async_script(
        "const [sizes, done] = arguments, rate = 16000;"
        "const total = sizes.reduce((a, b) => a + b, 0);"
        "const ctx = new OfflineAudioContext(1, total + rate, rate);"
        "const scheduler = new window.ttsPage.StreamScheduler(ctx, rate);"
        "const input = new Float32Array(total);"
        "for (let i = 0; i < total; i++) input[i] = 0.5 * Math.sin(i * 0.05) + 0.01;"
        "let at = 0;"
        "for (const n of sizes) { scheduler.schedule(input.slice(at, at + n)); at += n; }"
        "ctx.startRendering().then((rendered) => {"
        "  const out = rendered.getChannelData(0), first = Math.round(scheduler.firstStart * rate);"
        "  let error = 0, before = 0, after = 0;"
        "  for (let i = 0; i < total; i++) error = Math.max(error, Math.abs(out[first + i] - input[i]));"
        "  for (let i = 0; i < first; i++) before = Math.max(before, Math.abs(out[i]));"
        "  for (let i = first + total; i < out.length; i++) after = Math.max(after, Math.abs(out[i]));"
        "  done({error, before, after, first, underruns: scheduler.underruns,"
        "        seconds: scheduler.scheduledSeconds, total}); });",
        sizes,
    )
    assert result["underruns"] == 0
    assert result["first"] > 0 and result["before"] == 0 and result["after"] == 0
    assert result["error"] < 1e-6, result
    assert result["seconds"] == pytest.approx(sum(sizes) / 16000)
    assert page_errors(browser) == []


def test_selects_follow_voices_and_limits(browser: Any, frontend: FrontendProcess) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    catalogue = get_json(frontend.url + "/v1/voices")
    limits = get_json(frontend.url + "/v1/limits")
    open_page(browser, frontend.url)
    voice = Select(browser.find_element(By.ID, "voice"))
    assert [o.get_attribute("value") for o in voice.options] == [
        v["name"] for v in catalogue["voices"]
    ]
    assert voice.first_selected_option.get_attribute("value") == catalogue["default"]
    for described in catalogue["voices"]:
        voice.select_by_value(described["name"])
        for name, key in (("speaker", "speakers"), ("emotion", "emotions")):
            select = Select(browser.find_element(By.ID, name))
            assert [o.get_attribute("value") for o in select.options] == described[key]
            assert (
                select.first_selected_option.get_attribute("value")
                == described[f"default_{key[:-1]}"]
            )
        pitch = browser.find_element(By.ID, "pitch")
        assert (pitch.get_attribute("disabled") is not None) == (
            "pitch" not in described["controls"]
        )
    for name in ("speed", "pitch", "volume"):
        slider = browser.find_element(By.ID, name)
        bounds = [float(slider.get_attribute("min")), float(slider.get_attribute("max"))]
        assert bounds == [float(x) for x in limits[name]]
    formats = [
        o.get_attribute("value") for o in Select(browser.find_element(By.ID, "format")).options
    ]
    assert formats == limits["formats"]
    rates = [
        o.get_attribute("value") for o in Select(browser.find_element(By.ID, "sample-rate")).options
    ]
    assert rates[0] == ""  # the voice's own rate: no sample_rate sent
    # The service's list where /v1/limits has one, else the rates.
    offered = limits.get("sample_rates", [8000, 16000, 22050, 24000, 44100, 48000])
    assert rates[1:] == [str(r) for r in offered]
    # A format that takes fewer rates (Opus) offers only those.
    for fmt, fmt_rates in limits.get("format_sample_rates", {}).items():
        Select(browser.find_element(By.ID, "format")).select_by_value(fmt)
        rates = [
            o.get_attribute("value")
            for o in Select(browser.find_element(By.ID, "sample-rate")).options
        ]
        assert rates == ["", *map(str, fmt_rates)], fmt
    assert page_errors(browser) == []


def test_a_bad_request_shows_the_servers_message(browser: Any, frontend: FrontendProcess) -> None:
    from selenium.webdriver.common.by import By

    open_page(browser, frontend.url)
    enter_text(browser, "   ")
    status = click_and_wait(browser, "synthesize", ("完成", "错误"))
    code, body = post(frontend.url + "/v1/tts", {"text": "   "})
    error = json.loads(body)["error"]
    assert code == 400
    assert status == f"错误 Error: 400 {error['code']}: {error['message']}"
    assert "error" in browser.find_element(By.ID, "status").get_attribute("class")
    assert browser.find_element(By.ID, "download").get_attribute("hidden") is not None
    # The console has the failed load of this request (so the log is read) and nothing else.
    errors = page_errors(browser)
    assert len(errors) == 1 and BAD_REQUEST_LOG in errors[0], errors


def test_ssml_mode_sends_the_document_as_ssml(browser: Any, frontend: FrontendProcess) -> None:
    from selenium.webdriver.common.by import By

    limits = get_json(frontend.url + "/v1/limits")
    if "ssml" not in limits:
        pytest.skip("this service has no SSML on /v1/tts")
    open_page(browser, frontend.url)
    enter_text(browser, "你好<世界>")
    browser.find_element(By.ID, "ssml").click()
    box = browser.find_element(By.ID, "text")
    assert box.get_attribute("value") == "<speak>你好&lt;世界&gt;</speak>"  # wrapped, escaped
    assert browser.find_element(By.ID, "max-chars").text == str(
        limits["ssml"]["max_document_chars"]
    )
    document = '<speak>网页测试<break time="300ms"/>标记语言。</speak>'
    enter_text(browser, document)
    status = click_and_wait(browser, "synthesize", ("完成", "错误"))
    assert status.startswith("完成"), status
    request = browser.execute_script("return window.ttsPage.last.request")
    assert request["ssml"] == document and "text" not in request

    enter_text(browser, "<speak>网页<nonsense/></speak>")
    status = click_and_wait(browser, "synthesize", ("完成", "错误"))
    code, body = post(frontend.url + "/v1/tts", {"ssml": "<speak>网页<nonsense/></speak>"})
    assert code == 400
    assert status.endswith(json.loads(body)["error"]["message"]), status
    # Off: the markup goes, the text stays.
    enter_text(browser, document)
    browser.find_element(By.ID, "ssml").click()
    assert box.get_attribute("value") == "网页测试标记语言。"
    errors = page_errors(browser)
    assert len(errors) == 1 and BAD_REQUEST_LOG in errors[0], errors


def test_download_in_another_format(
    browser: Any, frontend: FrontendProcess, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    limits = get_json(frontend.url + "/v1/limits")
    preferred = [f for f in ("mp3", "ogg_opus", "flac", "ogg") if f in limits["formats"]]
    assert preferred, limits["formats"]
    fmt = preferred[0]
    open_page(browser, frontend.url)
    save_downloads_to(browser, tmp_path)
    enter_text(browser, SHORT_TEXT)
    Select(browser.find_element(By.ID, "format")).select_by_value(fmt)
    rate = None
    if 8000 in limits.get("sample_rates", []):  # a service that resamples
        rate = 8000
        Select(browser.find_element(By.ID, "sample-rate")).select_by_value("8000")
    status = click_and_wait(browser, "download-as", ("已下载", "错误"))
    assert status.startswith("已下载"), status
    meta = browser.execute_script("return window.ttsPage.lastDownload")
    deadline = time.monotonic() + 20
    saved = tmp_path / meta["name"]
    while not saved.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert saved.exists(), list(tmp_path.iterdir())
    audio, file_rate = sf.read(saved, dtype="float32")
    print(f"\ndownload: {meta}, decoded {len(audio) / file_rate:.2f} s at {file_rate} Hz")
    assert saved.stat().st_size == meta["bytes"]
    assert file_rate == meta["sampleRate"] == (rate or file_rate)
    code, plain = post(frontend.url + "/v1/tts", {"text": SHORT_TEXT})
    reference, reference_rate = sf.read(io.BytesIO(plain), dtype="float32")
    assert len(audio) / file_rate == pytest.approx(
        len(reference) / reference_rate, rel=0.02, abs=0.03
    )
    assert page_errors(browser) == []


def test_api_key_from_the_page(browser: Any, triton_server: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    key = "page-test-key-15"
    keys_file = tmp_path / "keys.txt"
    keys_file.write_text(key + "\n", encoding="utf-8")
    proc = FrontendProcess(
        triton_server.grpc_url, "--api-keys-file", str(keys_file), log_dir=tmp_path
    )
    try:
        proc.start()
        browser.get(proc.url + "/")
        status = WebDriverWait(browser, 30).until(
            lambda d: (s := d.find_element(By.ID, "status").text).startswith("声音列表") and s
        )
        assert "401" in status and "API key" in status, status
        assert browser.find_element(By.ID, "access").get_attribute("open") is not None
        browser.find_element(By.ID, "api-key").send_keys(key + Keys.TAB)
        WebDriverWait(browser, 30).until(
            lambda d: d.execute_script("return document.getElementById('voice').options[0].value")
        )
        enter_text(browser, SHORT_TEXT)
        status = click_and_wait(browser, "synthesize", ("完成", "错误"))
        assert status.startswith("完成"), status
        assert page_errors(browser, UNAUTHORIZED_LOG) == []
        # Kept in this browser: a reload sends it from the start, with no 401 at all.
        console_errors(browser)
        open_page(browser, proc.url, drain=False)
        assert browser.execute_script("return window.ttsPage.last") is None
        enter_text(browser, SHORT_TEXT)
        status = click_and_wait(browser, "synthesize", ("完成", "错误"))
        assert status.startswith("完成"), status
        assert page_errors(browser) == []
    finally:
        proc.stop()
