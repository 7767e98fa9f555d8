// Streams the WAV from POST /v1/tts, shows progress, then plays and offers the file.
// Voices, their speakers and emotions come from GET /v1/voices.
"use strict";

const $ = (id) => document.getElementById(id);
const text = $("text"), speed = $("speed"), button = $("synthesize");
const progress = $("progress"), statusLine = $("status"), player = $("player"), download = $("download");
const BYTES_PER_SECOND = 2; // 16-bit mono, multiplied by the sample rate from the headers
const apiKey = $("api-key"), KEY_STORAGE = "mandarin-tts-api-key";
const voiceSelect = $("voice"), speakerSelect = $("speaker"), emotionSelect = $("emotion");
let objectUrl = null;
let voices = {}; // name -> the voice's public description

function fillSelect(select, values, chosen) {
  select.replaceChildren(...values.map((value) => new Option(value, value, false, value === chosen)));
  select.disabled = values.length < 2;
}

// Speakers, emotions and controls of the chosen voice.
function showVoice() {
  const voice = voices[voiceSelect.value];
  if (!voice) return;
  fillSelect(speakerSelect, voice.speakers, voice.default_speaker);
  fillSelect(emotionSelect, voice.emotions, voice.default_emotion);
  speed.disabled = !voice.controls.includes("speed");
  if (speed.disabled) { speed.value = "1.0"; $("speed-value").textContent = "1.0"; }
  $("voice-info").textContent = `${voice.description} · ${voice.sample_rate / 1000} kHz · ${voice.licence}`;
}

function loadVoices() {
  fetch("/v1/voices", { headers: authHeaders() }).then((r) => {
    if (r.status === 401) $("access").open = true;
    return r.ok ? r.json() : Promise.reject(new Error(String(r.status)));
  }).then((catalogue) => {
    voices = Object.fromEntries(catalogue.voices.map((v) => [v.name, v]));
    const chosen = voices[voiceSelect.value] ? voiceSelect.value : catalogue.default;
    voiceSelect.replaceChildren(...catalogue.voices.map(
      (v) => new Option(v.name === catalogue.default ? `${v.name} (默认 default)` : v.name, v.name, false, v.name === chosen)));
    showVoice();
  }).catch(() => {}); // without the list, requests name no voice: the server's default
}

// The chosen voice, speaker and emotion (nothing before /v1/voices answered).
function voiceFields() {
  if (!voices[voiceSelect.value]) return {};
  return { voice: voiceSelect.value, speaker: speakerSelect.value, emotion: emotionSelect.value };
}

// With API keys on, every /v1/* call carries the key the user typed in (kept in localStorage).
function authHeaders() {
  const key = apiKey.value.trim();
  return key ? { Authorization: `Bearer ${key}` } : {};
}

function setStatus(message, isError = false) {
  statusLine.textContent = message;
  statusLine.className = isError ? "error" : "";
}

function updateCount() { $("count").textContent = text.value.length; }

// The streamed header carries "unknown" sizes; write the real ones so every player accepts it.
function fixWavSizes(bytes) {
  const view = new DataView(bytes.buffer);
  view.setUint32(4, bytes.length - 8, true);
  view.setUint32(40, bytes.length - 44, true);
  return bytes;
}

async function synthesize() {
  button.disabled = true;
  download.hidden = true;
  progress.hidden = false;
  progress.value = 0;
  setStatus("合成中… Synthesizing…");
  const started = performance.now();
  try {
    const response = await fetch("/v1/tts", {
      method: "POST",
      headers: { "Content-Type": "application/json", ...authHeaders() },
      body: JSON.stringify({ text: text.value, ...voiceFields(), speed: Number(speed.value), format: "wav", stream: true }),
    });
    if (!response.ok) {
      const problem = await response.json().catch(() => ({}));
      const message = problem.error ? problem.error.message : response.statusText;
      if (response.status === 401) $("access").open = true;
      throw new Error(`${response.status}: ${message}`);
    }
    const rate = Number(response.headers.get("X-Sample-Rate")) || 16000;
    const estimate = Number(response.headers.get("X-Estimated-Audio-Seconds")) || 1;
    const chunks = response.headers.get("X-Chunks");
    const reader = response.body.getReader();
    const parts = [];
    let received = 0, firstAt = null;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (firstAt === null) firstAt = performance.now();
      parts.push(value);
      received += value.length;
      const seconds = Math.max(received - 44, 0) / (rate * BYTES_PER_SECOND);
      progress.value = Math.min(seconds / estimate, 0.99);
      setStatus(`已收到 ${seconds.toFixed(1)} 秒音频（${chunks} 段） · ${seconds.toFixed(1)} s of audio received (${chunks} chunks)`);
    }
    const bytes = new Uint8Array(received);
    let offset = 0;
    for (const part of parts) { bytes.set(part, offset); offset += part.length; }
    const blob = new Blob([fixWavSizes(bytes)], { type: "audio/wav" });
    if (objectUrl) URL.revokeObjectURL(objectUrl);
    objectUrl = URL.createObjectURL(blob);
    player.src = objectUrl;
    download.href = objectUrl;
    download.hidden = false;
    progress.value = 1;
    const total = (performance.now() - started) / 1000;
    const first = ((firstAt ?? performance.now()) - started) / 1000;
    const duration = (received - 44) / (rate * BYTES_PER_SECOND);
    setStatus(`完成 Done: ${duration.toFixed(1)} s audio, first bytes after ${first.toFixed(2)} s, total ${total.toFixed(2)} s`);
    player.play().catch(() => {}); // autoplay may be blocked; the controls remain
  } catch (error) {
    progress.hidden = true;
    setStatus(`错误 Error: ${error.message}`, true);
  } finally {
    button.disabled = false;
  }
}

speed.addEventListener("input", () => { $("speed-value").textContent = Number(speed.value).toFixed(1); });
text.addEventListener("input", updateCount);
button.addEventListener("click", synthesize);
voiceSelect.addEventListener("change", showVoice);
function loadLimits() {
  fetch("/v1/limits", { headers: authHeaders() }).then((r) => {
    if (r.status === 401) $("access").open = true;
    return r.ok ? r.json() : Promise.reject(new Error(String(r.status)));
  }).then((limits) => {
    $("max-chars").textContent = limits.max_text_chars;
    [speed.min, speed.max] = limits.speed;
  }).catch(() => {});
}
apiKey.value = localStorage.getItem(KEY_STORAGE) || "";
apiKey.addEventListener("change", () => {
  localStorage.setItem(KEY_STORAGE, apiKey.value.trim());
  loadLimits();
  loadVoices();
});
loadLimits();
loadVoices();
updateCount();
