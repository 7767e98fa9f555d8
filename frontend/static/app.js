// The web page: streams raw PCM from POST /v1/tts and plays it while it arrives (Web Audio),
// keeps the whole file for replay and download, and downloads other formats and rates.
// Voices, speakers and emotions come from GET /v1/voices, slider ranges and formats from
// GET /v1/limits.  No external resources: everything is served from /static.
import { CharHighlighter } from "./highlight.js";
import { Pcm16Decoder, StreamScheduler } from "./pcm_player.js";

const $ = (id) => document.getElementById(id);
const text = $("text"), ssml = $("ssml"), button = $("synthesize"), stopButton = $("stop");
const progress = $("progress"), statusLine = $("status"), player = $("player"), download = $("download");
const apiKey = $("api-key"), KEY_STORAGE = "mandarin-tts-api-key";
const voiceSelect = $("voice"), speakerSelect = $("speaker"), emotionSelect = $("emotion");
const formatSelect = $("format"), rateSelect = $("sample-rate"), downloadButton = $("download-as");
const downloadFile = $("download-file");
const sliders = { speed: $("speed"), pitch: $("pitch"), volume: $("volume") };
const highlightToggle = $("highlight-toggle"), highlighter = new CharHighlighter($("highlight"));

// Used where GET /v1/limits does not list them (a service older than these fields).
const FALLBACK_FORMATS = ["wav", "mp3", "ogg_opus", "flac", "mulaw", "alaw", "pcm"];
const FALLBACK_RATES = [8000, 16000, 22050, 24000, 44100, 48000];
const FORMAT_NAMES = {
  wav: "WAV (PCM 16-bit)", mp3: "MP3", ogg_opus: "Ogg Opus", opus: "Ogg Opus", ogg: "Ogg Vorbis",
  flac: "FLAC", aac: "AAC (ADTS)", mulaw: "μ-law (G.711, WAV)", alaw: "A-law (G.711, WAV)", pcm: "PCM (raw s16le)",
};
const EXTENSIONS = { ogg_opus: "opus", mulaw: "wav", alaw: "wav" }; // otherwise the format's name
const WAV_HEADER_BYTES = 44; // a streamed WAV: header first, then the same samples as pcm

let voices = {}; // name -> the voice's public description
let limits = {};
let current = null; // { controller, scheduler } of the request being played
let context = null; // one AudioContext, at the rate of the audio it plays
let playedUrl = null, fileUrl = null;

// For tests and tools: timings of the last synthesis and download, the decoder and scheduler.
const page = { last: null, lastDownload: null, errors: [], timestamps: false, Pcm16Decoder, StreamScheduler };
window.ttsPage = page;
window.addEventListener("error", (event) => page.errors.push(String(event.message)));
window.addEventListener("unhandledrejection", (event) => page.errors.push(String(event.reason)));

function fillSelect(select, values, chosen, label = (v) => v) {
  select.replaceChildren(...values.map((v) => new Option(label(v), v, false, String(v) === String(chosen))));
  select.disabled = values.length < 2;
}

function setSlider(name, value) {
  sliders[name].value = String(value);
  $(`${name}-value`).textContent = Number(value).toFixed(2);
}

// Speakers, emotions and controls of the chosen voice.
function showVoice() {
  const voice = voices[voiceSelect.value];
  if (!voice) return;
  fillSelect(speakerSelect, voice.speakers, voice.default_speaker);
  fillSelect(emotionSelect, voice.emotions, voice.default_emotion);
  for (const control of ["speed", "pitch"]) {
    sliders[control].disabled = !voice.controls.includes(control);
    if (sliders[control].disabled) setSlider(control, 1); // the server refuses anything else
  }
  $("voice-info").textContent = `${voice.description} · ${voice.sample_rate / 1000} kHz · ${voice.licence}`;
  fillRates();
}

// With API keys on, every /v1/* call carries the key the user typed in (kept in localStorage).
function authHeaders() {
  const key = apiKey.value.trim();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

async function getJson(path) {
  const response = await fetch(path, { headers: authHeaders() });
  if (!response.ok) throw await apiError(response);
  return response.json();
}

function loadVoices() {
  return getJson("/v1/voices").then((catalogue) => {
    voices = Object.fromEntries(catalogue.voices.map((v) => [v.name, v]));
    const chosen = voices[voiceSelect.value] ? voiceSelect.value : catalogue.default;
    voiceSelect.replaceChildren(...catalogue.voices.map(
      (v) => new Option(v.name === catalogue.default ? `${v.name} (默认 default)` : v.name, v.name, false, v.name === chosen)));
    showVoice();
  }).catch((error) => { // without the list, requests name no voice: the server's default
    setStatus(`声音列表不可用 Voices unavailable: ${error.message}`, true);
  });
}

// The rates the chosen format takes (Opus fewer), else all the service offers.
function fillRates() {
  const perFormat = limits.format_sample_rates && limits.format_sample_rates[formatSelect.value];
  const all = Array.isArray(limits.sample_rates) ? limits.sample_rates : FALLBACK_RATES;
  const rates = Array.isArray(perFormat) ? perFormat : all;
  const voice = voices[voiceSelect.value];
  const native = voice ? `${voice.sample_rate / 1000} kHz` : "";
  const chosen = rates.map(String).includes(rateSelect.value) ? rateSelect.value : "";
  fillSelect(rateSelect, ["", ...rates], chosen,
    (r) => (r === "" ? `原始 native ${native}`.trim() : `${r / 1000} kHz`));
}

function loadLimits() {
  return getJson("/v1/limits").then((answer) => {
    limits = answer;
    showMaxChars();
    if (limits.ssml && Array.isArray(limits.ssml.elements)) {
      $("ssml-elements").textContent = limits.ssml.elements.map((e) => `<${e}>`).join(" ");
    }
    for (const name of Object.keys(sliders)) {
      if (Array.isArray(limits[name])) [sliders[name].min, sliders[name].max] = limits[name];
    }
    const formats = Array.isArray(limits.formats) ? limits.formats : FALLBACK_FORMATS;
    fillSelect(formatSelect, formats, formatSelect.value || "wav", (f) => FORMAT_NAMES[f] || f);
    fillRates();
    // Character highlighting needs the service's per-character times (/v1/limits says so).
    page.timestamps = Boolean(limits.timestamps);
    return limits;
  }).catch(() => {
    fillSelect(formatSelect, FALLBACK_FORMATS, "wav", (f) => FORMAT_NAMES[f] || f);
    fillRates();
    return limits;
  });
}

// The playback stream: raw PCM where /v1/tts offers it, else the streamed WAV minus its header.
function streamFormat() {
  return Array.isArray(limits.formats) && limits.formats.includes("pcm") ? "pcm" : "wav";
}

// The chosen voice, speaker and emotion (nothing before /v1/voices answered).
function voiceFields() {
  if (!voices[voiceSelect.value]) return {};
  return { voice: voiceSelect.value, speaker: speakerSelect.value, emotion: emotionSelect.value };
}

// The pronunciations box: "word pinyin" a line (a tab or the first space splits them).
function lexiconEntries() {
  const entries = {};
  for (const raw of $("lexicon").value.split("\n")) {
    const line = raw.split("#")[0].trim();
    if (!line) continue;
    const cut = line.includes("\t") ? line.indexOf("\t") : line.indexOf(" ");
    if (cut < 1) throw new Error(`pronunciation line "${line}": write the word, a space, then its pinyin`);
    entries[line.slice(0, cut).trim()] = line.slice(cut + 1).trim();
  }
  return entries;
}

function requestBody(extra) {
  const body = { ...voiceFields(), ...extra };
  for (const [name, slider] of Object.entries(sliders)) body[name] = Number(slider.value);
  body[ssml.checked ? "ssml" : "text"] = text.value;
  const lexicon = lexiconEntries();
  if (Object.keys(lexicon).length) body.lexicon = lexicon;
  return body;
}

// The server's JSON error ({"error": {"code", "message"}}) as an Error with that message.
async function apiError(response) {
  const problem = await response.json().catch(() => null);
  const error = problem && typeof problem.error === "object" ? problem.error : {};
  if (response.status === 401) $("access").open = true;
  const code = error.code || error.type || "";
  const message = error.message || response.statusText || "request failed";
  return new Error(`${response.status}${code ? ` ${code}` : ""}: ${message}`);
}

function setStatus(message, isError = false) {
  statusLine.textContent = message;
  statusLine.className = isError ? "error" : "";
}

function updateCount() { $("count").textContent = text.value.length; }

// SSML documents may be longer than plain text (their markup); /v1/limits says by how much.
function showMaxChars() {
  const documentMax = limits.ssml && limits.ssml.max_document_chars;
  const max = ssml.checked && documentMax ? documentMax : limits.max_text_chars;
  if (max) $("max-chars").textContent = max;
}

// The service reads a text that starts with <speak as SSML: the toggle follows it.
function isSsml(value) { return /^[\ufeff\s]*<(speak|\?xml)/.test(value); }

// Browsers let audio start only from a user gesture: the context is made (or resumed) in the
// click, at the chosen voice's rate, so that blocks need no resampling between them.
function audioContextAt(rate) {
  if (context && context.sampleRate !== rate) { context.close(); context = null; }
  if (!context) context = new AudioContext({ sampleRate: rate, latencyHint: "interactive" });
  if (context.state === "suspended") context.resume();
  return context;
}

// Character timings for what was just streamed: the same request with "timestamps": true.
// Asked once the stream has ended, so it takes no compute from the stream itself, and its
// chunks come from Triton's response cache (the same symbols and mels as the stream's).
async function fetchTimestamps(request) {
  const body = { ...request, stream: false, timestamps: true, format: "wav" };
  const response = await fetch("/v1/tts", {
    method: "POST",
    headers: { "Content-Type": "application/json", ...authHeaders() },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw await apiError(response);
  const result = await response.json();
  return Array.isArray(result.segments) ? result.segments : [];
}

// Follows playback: the live stream while it plays, else the <audio> player.
function followPlayback(run, mine) {
  const tick = () => {
    if (page.last !== run) return;
    let seconds = null;
    if (!player.paused) seconds = player.currentTime;
    else if (mine && current === mine && mine.scheduler && !mine.scheduler.stopped) seconds = mine.scheduler.playedSeconds;
    if (seconds === null) { highlighter.update(-1); return; }
    const index = highlighter.update(seconds);
    if (index >= 0 && run.highlighted[run.highlighted.length - 1] !== index) run.highlighted.push(index);
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}

async function startHighlight(run, mine) {
  run.highlighted = [];
  try {
    const segments = await fetchTimestamps(run.request);
    if (page.last !== run) return;
    run.segments = segments.length;
    highlighter.show(segments);
    followPlayback(run, mine);
  } catch (error) {
    if (page.last !== run) return;
    run.highlightError = error.message; // e.g. a voice without durations: play without it
    setStatus(`${statusLine.textContent} (no character timings: ${error.message})`);
  }
}

function stopPlayback() {
  if (!current) return;
  current.controller.abort();
  if (current.scheduler) current.scheduler.stop();
  current = null;
  stopButton.disabled = true;
}

async function synthesize() {
  stopPlayback();
  const run = { clickedAt: performance.now() };
  page.last = run;
  const controller = new AbortController();
  const mine = { controller, scheduler: null };
  current = mine;
  button.disabled = true;
  stopButton.disabled = false;
  download.hidden = true;
  progress.hidden = false;
  progress.value = 0;
  highlighter.clear();
  setStatus("合成中… Synthesizing…");
  const voice = voices[voiceSelect.value];
  let ctx = audioContextAt(voice ? voice.sample_rate : limits.sample_rate || 16000);
  let received = 0, decoder = null;
  try {
    await limitsReady;
    const format = streamFormat();
    run.format = format;
    run.request = requestBody({ format, stream: true });
    const response = await fetch("/v1/tts", {
      method: "POST",
      headers: { "Content-Type": "application/json", ...authHeaders() },
      body: JSON.stringify(run.request),
      signal: controller.signal,
    });
    run.responseAt = performance.now();
    if (!response.ok) throw await apiError(response);
    const rate = Number(response.headers.get("X-Sample-Rate")) || ctx.sampleRate;
    if (rate !== ctx.sampleRate) ctx = audioContextAt(rate);
    const estimate = Number(response.headers.get("X-Estimated-Audio-Seconds")) || 1;
    const chunks = response.headers.get("X-Chunks");
    run.chunks = Number(chunks);
    const scheduler = new StreamScheduler(ctx, rate);
    mine.scheduler = scheduler;
    scheduler.onended = () => {
      run.playedOutAt = performance.now();
      if (current === mine) { current = null; stopButton.disabled = true; }
    };
    decoder = new Pcm16Decoder(format === "wav" ? WAV_HEADER_BYTES : 0);
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (run.firstChunkAt === undefined) run.firstChunkAt = performance.now();
      scheduler.schedule(decoder.push(value));
      if (run.firstScheduledAt === undefined && scheduler.firstScheduledAt !== null) {
        run.firstScheduledAt = scheduler.firstScheduledAt;
        run.firstStart = scheduler.firstStart;
      }
      received = decoder.bytes / (2 * rate);
      progress.value = Math.min(received / estimate, 0.99);
      setStatus(`播放中 Playing · 已收到 ${received.toFixed(1)} 秒音频（${chunks} 段） · ${received.toFixed(1)} s of audio received (${chunks} chunks)`);
    }
    run.streamEndAt = performance.now();
    run.contextTimeAtEnd = ctx.currentTime;
    run.contextState = ctx.state;
    run.underruns = scheduler.underruns;
    run.blocks = scheduler.blocks;
    run.sampleRate = rate;
    run.bytes = decoder.bytes;
    if (decoder.bytes === 0) throw new Error("the response held no audio");
    scheduler.close();
    if (playedUrl) URL.revokeObjectURL(playedUrl);
    playedUrl = URL.createObjectURL(decoder.wav(rate));
    player.src = playedUrl;
    download.href = playedUrl;
    download.hidden = false;
    progress.value = 1;
    const total = (run.streamEndAt - run.clickedAt) / 1000;
    const first = (run.firstScheduledAt - run.clickedAt) / 1000;
    setStatus(`完成 Done: ${received.toFixed(1)} s audio, first audio after ${first.toFixed(2)} s, total ${total.toFixed(2)} s` +
      (scheduler.underruns ? ` (${scheduler.underruns} gap(s): synthesis fell behind playback)` : ""));
    if (highlightToggle.checked && page.timestamps) startHighlight(run, mine);
  } catch (error) {
    if (page.last !== run) return; // a newer request owns the page now
    progress.hidden = true;
    if (error.name === "AbortError") {
      setStatus("已停止 Stopped");
    } else {
      if (mine.scheduler) mine.scheduler.close(); // what arrived still plays out
      run.error = error.message;
      // A stream that breaks off after its headers has no JSON error left to show.
      const where = decoder && decoder.bytes ? ` after ${received.toFixed(1)} s of audio` : "";
      const message = error instanceof TypeError ? `the connection broke off${where} (${error.message})` : error.message;
      setStatus(`错误 Error: ${message}`, true);
    }
    if (current === mine) { current = null; stopButton.disabled = true; }
  } finally {
    button.disabled = false;
  }
}

// A whole file in the chosen format and rate (not streamed), saved through a link.
async function downloadAs() {
  const format = formatSelect.value || "wav";
  const extra = { format, stream: false };
  if (rateSelect.value) extra.sample_rate = Number(rateSelect.value);
  downloadButton.disabled = true;
  setStatus("准备下载… Preparing the download…");
  try {
    await limitsReady;
    const response = await fetch("/v1/tts", {
      method: "POST",
      headers: { "Content-Type": "application/json", ...authHeaders() },
      body: JSON.stringify(requestBody(extra)),
    });
    if (!response.ok) throw await apiError(response);
    const blob = await response.blob();
    const rate = Number(response.headers.get("X-Sample-Rate"));
    const name = `speech.${EXTENSIONS[format] || format}`;
    if (fileUrl) URL.revokeObjectURL(fileUrl);
    fileUrl = URL.createObjectURL(blob);
    downloadFile.href = fileUrl;
    downloadFile.download = name;
    const size = `${(blob.size / 1024).toFixed(1)} KB${rate ? `, ${rate / 1000} kHz` : ""}`;
    downloadFile.textContent = `保存 Save ${name} (${size})`;
    downloadFile.hidden = false;
    page.lastDownload = { format, name, bytes: blob.size, type: blob.type, sampleRate: rate };
    downloadFile.click();
    setStatus(`已下载 Downloaded ${name} (${size})`);
  } catch (error) {
    setStatus(`错误 Error: ${error instanceof TypeError ? `the connection broke off (${error.message})` : error.message}`, true);
  } finally {
    downloadButton.disabled = false;
  }
}

// Sentence subtitles (SubRip) of the text as it is now: "subtitles": "srt" on /v1/tts.
async function downloadSubtitles() {
  const button = $("download-subtitles");
  button.disabled = true;
  setStatus("准备字幕… Preparing subtitles…");
  try {
    await limitsReady;
    const response = await fetch("/v1/tts", {
      method: "POST",
      headers: { "Content-Type": "application/json", ...authHeaders() },
      body: JSON.stringify(requestBody({ format: "wav", stream: false, subtitles: "srt" })),
    });
    if (!response.ok) throw await apiError(response);
    const result = await response.json();
    const blob = new Blob([result.subtitles], { type: "application/x-subrip" });
    if (fileUrl) URL.revokeObjectURL(fileUrl);
    fileUrl = URL.createObjectURL(blob);
    downloadFile.href = fileUrl;
    downloadFile.download = "speech.srt";
    downloadFile.textContent = `保存 Save speech.srt (${result.sentences.length} cues)`;
    downloadFile.hidden = false;
    page.lastDownload = { format: "srt", name: "speech.srt", bytes: blob.size, cues: result.sentences.length };
    downloadFile.click();
    setStatus(`已下载 Downloaded speech.srt (${result.sentences.length} cues, ${result.duration.toFixed(1)} s)`);
  } catch (error) {
    setStatus(`错误 Error: ${error.message}`, true);
  } finally {
    button.disabled = false;
  }
}

// SSML on: plain text is wrapped in <speak> (escaped); off: markup is reduced to its text.
function toggleSsml() {
  const value = text.value.trim();
  if (ssml.checked && !isSsml(value)) {
    const escaped = value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
    text.value = `<speak>${escaped}</speak>`;
  } else if (!ssml.checked && isSsml(value)) {
    const doc = new DOMParser().parseFromString(value, "application/xml");
    if (!doc.querySelector("parsererror")) text.value = doc.documentElement.textContent;
  }
  showSsmlMode();
}

function showSsmlMode() {
  $("ssml-note").hidden = !ssml.checked;
  showMaxChars();
  updateCount();
}

for (const name of Object.keys(sliders)) {
  sliders[name].addEventListener("input", () => setSlider(name, sliders[name].value));
}
text.addEventListener("input", () => {
  if (!ssml.checked && isSsml(text.value)) { ssml.checked = true; showSsmlMode(); }
  updateCount();
});
formatSelect.addEventListener("change", fillRates);
ssml.addEventListener("change", toggleSsml);
button.addEventListener("click", synthesize);
stopButton.addEventListener("click", () => { stopPlayback(); player.pause(); setStatus("已停止 Stopped"); });
downloadButton.addEventListener("click", downloadAs);
$("download-subtitles").addEventListener("click", downloadSubtitles);
voiceSelect.addEventListener("change", showVoice);
// Replaying the kept file stops the live playback (never two voices at once).
player.addEventListener("play", () => {
  if (current && current.scheduler) current.scheduler.stop();
  if (page.last && page.last.segments) followPlayback(page.last, null);
});
// The key field sits in a form (browsers expect password fields in one); Enter must not
// reload the page.
$("access-form").addEventListener("submit", (event) => { event.preventDefault(); apiKey.blur(); });
apiKey.value = localStorage.getItem(KEY_STORAGE) || "";
apiKey.addEventListener("change", () => {
  localStorage.setItem(KEY_STORAGE, apiKey.value.trim());
  limitsReady = loadLimits();
  loadVoices();
});
for (const name of Object.keys(sliders)) setSlider(name, sliders[name].value);
let limitsReady = loadLimits(); // after the stored key is back in its field
loadVoices();
updateCount();
