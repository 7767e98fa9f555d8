// Live playback of a raw s16le mono stream: bytes as they arrive -> float samples ->
// AudioBuffers scheduled back to back on an AudioContext, so the first chunk is heard
// while the rest is still being synthesized.
"use strict";

// Network chunks split the stream anywhere, also inside a 2-byte sample: an odd trailing
// byte is kept and joined to the next chunk.
export class Pcm16Decoder {
  constructor(skipBytes = 0) {
    this.skip = skipBytes; // a header in front of the samples (a streamed WAV's 44 bytes)
    this.carry = null; // the low byte of a sample whose high byte has not arrived
    this.bytes = 0; // sample bytes decoded so far (header and carry excluded)
    this.kept = []; // the sample bytes as received, for the file offered after the stream
  }

  // A Uint8Array of any length -> a Float32Array of the whole samples it completes.
  push(chunk) {
    let data = chunk;
    if (this.skip > 0) {
      const dropped = Math.min(this.skip, data.length);
      this.skip -= dropped;
      data = data.subarray(dropped);
    }
    if (data.length > 0) this.kept.push(data);
    if (this.carry !== null && data.length > 0) {
      const joined = new Uint8Array(data.length + 1);
      joined[0] = this.carry;
      joined.set(data, 1);
      data = joined;
      this.carry = null;
    }
    const whole = data.length & ~1;
    if (whole < data.length) this.carry = data[data.length - 1];
    const view = new DataView(data.buffer, data.byteOffset, whole);
    const samples = new Float32Array(whole / 2);
    for (let i = 0; i < samples.length; i++) samples[i] = view.getInt16(2 * i, true) / 32768;
    this.bytes += whole;
    return samples;
  }

  // True when the stream ended inside a sample (a truncated stream).
  get pending() { return this.carry !== null; }

  // Everything decoded so far as a WAV file (a dangling half sample left out).
  wav(sampleRate) {
    return new Blob([wavHeader(this.bytes, sampleRate), ...this.kept], { type: "audio/wav" })
      .slice(0, 44 + this.bytes, "audio/wav");
  }
}

// Start the first buffer a little ahead of "now", so that its start is not already past
// when the audio thread picks it up.
const LEAD_S = 0.05;

// Schedules sample blocks gaplessly: each starts exactly where the previous one ends (in the
// context's clock, counted in whole samples so that no rounding builds up), unless the
// network fell behind playback (an underrun: counted, and playback resumes a little later).
export class StreamScheduler {
  constructor(context, sampleRate, destination = context.destination) {
    this.context = context;
    this.sampleRate = sampleRate;
    this.destination = destination;
    this.base = null; // context time of the first block since the start or the last underrun
    this.offset = 0; // samples scheduled since `base`
    this.samples = 0; // samples scheduled in all
    this.firstStart = null; // context time where the first block starts
    this.firstScheduledAt = null; // performance.now() when the first block was scheduled
    this.underruns = 0;
    this.blocks = []; // [start, duration, after a gap] per block, in context seconds
    this.sources = new Set();
    this.onended = null; // called when the last scheduled block has played out
    this.closed = false; // no more blocks will come
    this.stopped = false; // stopped by the listener: later blocks are dropped
  }

  schedule(samples) {
    if (samples.length === 0 || this.stopped) return;
    const ctx = this.context;
    const buffer = ctx.createBuffer(1, samples.length, this.sampleRate);
    buffer.copyToChannel(samples, 0);
    const source = ctx.createBufferSource();
    source.buffer = buffer;
    source.connect(this.destination);
    const now = ctx.currentTime;
    let gap = false;
    if (this.base === null) {
      this.base = this.aligned(now + LEAD_S);
      this.firstStart = this.base;
      this.firstScheduledAt = performance.now();
    } else if (this.nextStart < now) {
      this.underruns += 1; // the audio ran out before this block arrived
      gap = true;
      this.base = this.aligned(now + LEAD_S);
      this.offset = 0;
    }
    const start = this.nextStart;
    source.start(start);
    this.blocks.push([start, buffer.duration, gap]);
    this.offset += samples.length;
    this.samples += samples.length;
    this.sources.add(source);
    source.onended = () => {
      this.sources.delete(source);
      if (this.closed && this.sources.size === 0 && this.onended) this.onended();
    };
  }

  // On a sample of the context's clock: blocks then start on whole frames, never between two.
  aligned(time) {
    const rate = this.context.sampleRate;
    return Math.ceil(time * rate) / rate;
  }

  // Context time where the next block would start.
  get nextStart() { return this.base + this.offset / this.sampleRate; }

  // The stream is over: onended fires once the scheduled audio has played.
  close() {
    this.closed = true;
    if (this.sources.size === 0 && this.onended) this.onended();
  }

  stop() {
    this.closed = this.stopped = true;
    const handler = this.onended;
    this.onended = null;
    for (const source of this.sources) source.stop();
    this.sources.clear();
    if (handler) handler();
  }

  // Seconds of audio scheduled so far.
  get scheduledSeconds() { return this.samples / this.sampleRate; }

  // Seconds already played (for progress and, once the service returns timestamps, the
  // character highlight); gaps after underruns are not counted as audio.
  get playedSeconds() {
    if (this.firstStart === null) return 0;
    let played = 0;
    const now = this.context.currentTime;
    for (const [start, duration] of this.blocks) played += Math.min(Math.max(now - start, 0), duration);
    return played;
  }
}

// A 44-byte mono 16-bit PCM WAV header with real sizes, for the file kept after streaming.
export function wavHeader(dataBytes, sampleRate) {
  const header = new DataView(new ArrayBuffer(44));
  const ascii = (offset, s) => { for (let i = 0; i < 4; i++) header.setUint8(offset + i, s.charCodeAt(i)); };
  ascii(0, "RIFF");
  header.setUint32(4, 36 + dataBytes, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  header.setUint32(16, 16, true); // fmt chunk size
  header.setUint16(20, 1, true); // PCM
  header.setUint16(22, 1, true); // mono
  header.setUint32(24, sampleRate, true);
  header.setUint32(28, sampleRate * 2, true); // byte rate
  header.setUint16(32, 2, true); // block align
  header.setUint16(34, 16, true); // bits per sample
  ascii(36, "data");
  header.setUint32(40, dataBytes, true);
  return new Uint8Array(header.buffer);
}
