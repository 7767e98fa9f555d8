"""What each voice family costs on this CPU: GFLOP per audio second and audio-s/s per core.

`make bench` prints this table after the deployment tables (`--no-voice-cost` skips it):

- (a) the bundled voice (FastSpeech2 + bridged HiFi-GAN) in the files this machine's tier
  serves (`benchmarks._synthesis.served_onnx_paths`; the vocoder may be the int8 one);
- (b) a full-size Sambert-HiFiGAN 16 kHz voice (KAN-TTS's sambert_16k + hifigan_v1_16k
  sizes) and, unless skipped, (c) the 24 kHz pair (sambert_24k + hifigan_v1_24k).

No Sambert weights are reachable here, so (b) and (c) have random weights (bench_voices.py
builds and caches them). Their speed does not depend on the weights' values, only on the
shapes; the one thing random weights change is how many frames the duration predictor asks
for, so its output bias is raised (`SambertSpec.dur_bias`) and the table prints audio
seconds per character so a reader can check the lengths are realistic (the bundled,
trained voice is the yardstick).

FLOPs are counted from the ONNX graphs the product runs with the shapes of real runs
(onnx_flops.py): the first sentences (2 in quick mode) at batch 1, 2 FLOPs per multiply-add
of every MatMul, Gemm, Conv, ConvTranspose and LSTM execution, every step of the
autoregressive loops included; element-wise ops left out (a lower bound, like flops.py,
whose torch count of the bundled voice this matches).

Speed: in-process, one onnxruntime thread per session (so audio-s/s is per core), batch 1,
the same evaluation sentences for every voice; one warm-up sentence outside the clock, then
2 timed passes (3 in full mode) of which each sentence and stage keeps its best. Wall
time and the thread's CPU time are both recorded: with one intra-op thread onnxruntime runs
on the calling thread, so CPU time is all the work, and it is not inflated by other jobs
sharing the cores (wall time is). The Sambert acoustic model is also run on batches of 4
different sentences, where its stepped duration predictor and decoder run all items per
step (the shorter items' padding steps included).
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from benchmarks.system.bench_voices import (
    BENCH_VOICES_DIR,
    SAMBERT_16K,
    SAMBERT_24K,
    SambertSpec,
    ensure_voice,
)
from benchmarks.system.onnx_flops import counted, session_path, session_slots

QUICK_SENTENCES = 4
QUICK_PASSES, FULL_PASSES = 2, 3  # timed passes; each sentence and stage keeps its best
QUICK_COUNTED_SENTENCES = 2  # FLOPs per audio second hardly depend on the sentence
FULL_SENTENCES = 25
BATCH = 4
COUNTED_OPS = ("MatMul", "Gemm", "Conv", "ConvTranspose", "LSTM")


@dataclass
class VoiceCost:
    key: str
    label: str
    sample_rate: int
    files: dict[str, str]  # stage -> ONNX file(s)
    sentences: int = 0
    characters: int = 0
    audio_s: float = 0.0  # of the timed sentences
    acoustic_gflop_per_audio_s: float = math.nan
    vocoder_gflop_per_audio_s: float = math.nan
    gflop_breakdown: dict[str, float] = field(default_factory=dict)  # file -> GFLOP/audio-s
    passes: int = 0  # timed passes over the sentences; each stage keeps its best per sentence
    frontend_s: float = 0.0  # wall seconds per stage over the timed sentences
    acoustic_s: float = 0.0
    vocoder_s: float = 0.0
    # The thread's CPU seconds per stage (what other jobs on the cores cannot inflate).
    frontend_cpu_s: float = 0.0
    acoustic_cpu_s: float = 0.0
    vocoder_cpu_s: float = 0.0
    seconds: float = 0.0  # this voice's part of the run (a first build included)
    # "b1"/"b4" -> acoustic audio-s per wall second; "b1_cpu"/"b4_cpu" per CPU second
    acoustic_batched: dict[str, float] = field(default_factory=dict)
    error: str = ""

    def _rate(self, seconds: float) -> float:
        return self.audio_s / seconds if seconds > 0 else math.nan

    @property
    def audio_s_per_char(self) -> float:
        return self.audio_s / self.characters if self.characters else math.nan

    @property
    def acoustic_rate(self) -> float:
        return self._rate(self.acoustic_s)

    @property
    def vocoder_rate(self) -> float:
        return self._rate(self.vocoder_s)

    @property
    def pipeline_rate(self) -> float:
        """Text to audio, one thread: audio seconds per wall second per core."""
        return self._rate(self.frontend_s + self.acoustic_s + self.vocoder_s)

    @property
    def acoustic_cpu_rate(self) -> float:
        return self._rate(self.acoustic_cpu_s)

    @property
    def vocoder_cpu_rate(self) -> float:
        return self._rate(self.vocoder_cpu_s)

    @property
    def pipeline_cpu_rate(self) -> float:
        """Audio seconds per CPU second of the one thread doing all the work."""
        return self._rate(self.frontend_cpu_s + self.acoustic_cpu_s + self.vocoder_cpu_s)

    @property
    def total_gflop_per_audio_s(self) -> float:
        return self.acoustic_gflop_per_audio_s + self.vocoder_gflop_per_audio_s

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "audio_s_per_char": self.audio_s_per_char,
            "acoustic_audio_s_per_s": self.acoustic_rate,
            "vocoder_audio_s_per_s": self.vocoder_rate,
            "pipeline_audio_s_per_s": self.pipeline_rate,
            "acoustic_audio_s_per_cpu_s": self.acoustic_cpu_rate,
            "vocoder_audio_s_per_cpu_s": self.vocoder_cpu_rate,
            "pipeline_audio_s_per_cpu_s": self.pipeline_cpu_rate,
            "total_gflop_per_audio_s": self.total_gflop_per_audio_s,
        }


@dataclass(frozen=True)
class CpuInfo:
    model: str
    avx512: bool
    vnni: bool
    cores: int

    @property
    def text(self) -> str:
        flags = "AVX-512" if self.avx512 else "no AVX-512"
        flags += ", VNNI" if self.vnni else ", no VNNI"
        return f"{self.model} ({flags}; {self.cores} cores)"


def cpu_info() -> CpuInfo:
    import os

    model = "unknown CPU"
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        found = re.search(r"^Model name:\s*(.+)$", out, re.M)
        model = found.group(1).strip() if found else model
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        flags = set(Path("/proc/cpuinfo").read_text().split())
    except OSError:
        flags = set()
    return CpuInfo(
        model,
        "avx512f" in flags,
        bool({"avx512_vnni", "avx_vnni"} & flags),
        os.cpu_count() or 1,
    )


def characters(text: str) -> int:
    """Characters that are read aloud: letters and digits (Han included), no punctuation."""
    return sum(1 for ch in text if ch.isalnum())


def bundled_pipeline() -> Any:
    from benchmarks._synthesis import served_pipeline

    return served_pipeline(threads=1)


def bundled_float_pipeline() -> Any:
    """The bundled voice with its float vocoder: like for like with the (float) Sambert
    vocoders when this tier serves the int8 one."""
    from benchmarks._synthesis import served_onnx_paths
    from mandarin_tts.paths import VOCODER_ONNX
    from mandarin_tts.pipeline import VoicePipeline
    from mandarin_tts.pipeline.voice_pipeline import StageOptions
    from mandarin_tts.serving.ort_session import OrtSettings
    from mandarin_tts.voices.registry import BUNDLED_VOICE, load_voice

    one = OrtSettings(intra_op_threads=1)
    return VoicePipeline.load(
        load_voice(BUNDLED_VOICE),
        acoustic=StageOptions(one, onnx_file=served_onnx_paths()[0].name),
        vocoder=StageOptions(one, onnx_file=VOCODER_ONNX.name),
    )


def voice_pipeline(folder: Path) -> Any:
    from mandarin_tts.pipeline import VoicePipeline
    from mandarin_tts.pipeline.voice_pipeline import StageOptions
    from mandarin_tts.serving.ort_session import OrtSettings
    from mandarin_tts.voices.manifest import load_manifest

    one = StageOptions(OrtSettings(intra_op_threads=1))
    return VoicePipeline.load(load_manifest(folder), acoustic=one, vocoder=one)


def measure_pipeline(
    key: str,
    label: str,
    pipeline: Any,
    texts: Sequence[str],
    batched: bool,
    counted_texts: int | None = None,
    passes: int = 1,
) -> VoiceCost:
    """Count FLOPs on one pass over the first `counted_texts` texts (all by default; the
    profiled pass runs unoptimized graphs, slowly), then time frontend / acoustic / vocoder
    over all of them in `passes` passes (the best per sentence and stage counts)."""
    slots = session_slots(pipeline)
    cost = VoiceCost(
        key,
        label,
        pipeline.sample_rate,
        {
            stage: ", ".join(session_path(getattr(o, a)).name for o, a in pairs)
            for stage, pairs in slots.items()
        },
    )
    requests = [pipeline.request(text) for text in texts]
    counted_audio = 0
    with counted(pipeline) as macs:
        for request in requests[: counted_texts or len(requests)]:
            counted_audio += sum(a.size for a in pipeline.synthesize_batch([request]))
    counted_s = counted_audio / pipeline.sample_rate
    for stage in ("acoustic", "vocoder"):
        gflop = {file: 2 * m / 1e9 / counted_s for file, m in macs[stage].items()}
        cost.gflop_breakdown.update(gflop)
        setattr(cost, f"{stage}_gflop_per_audio_s", sum(gflop.values()))

    pipeline.synthesize(texts[0])  # warm-up outside the clock
    # Best of `passes` per sentence and stage: a load spike from another job hits one pass.
    best: dict[tuple[int, str], float] = {}
    audio = [0.0] * len(texts)
    for _ in range(passes):
        for i, text in enumerate(texts):
            laps, audio[i] = time_sentence(pipeline, text)
            for key, value in laps.items():
                best[i, key] = min(best.get((i, key), math.inf), value)
    for (_, key), value in best.items():
        setattr(cost, key, getattr(cost, key) + value)
    cost.passes, cost.sentences = passes, len(texts)
    cost.audio_s = sum(audio)
    cost.characters = sum(characters(text) for text in texts)
    if batched:
        cost.acoustic_batched = batched_acoustic(pipeline, requests, cost.sample_rate)
    return cost


def time_sentence(pipeline: Any, text: str) -> tuple[dict[str, float], float]:
    """Wall and CPU seconds of each stage for one text (VoiceCost field names), and its
    audio seconds."""
    laps: dict[str, float] = {}
    clock = (time.perf_counter(), time.thread_time())

    def lap(stage: str) -> None:
        nonlocal clock
        now = (time.perf_counter(), time.thread_time())
        laps[f"{stage}_s"], laps[f"{stage}_cpu_s"] = now[0] - clock[0], now[1] - clock[1]
        clock = now

    request = pipeline.request(text)
    lap("frontend")
    (mel,) = pipeline.mels([request])
    lap("acoustic")
    (audio,) = pipeline.audio([mel])
    lap("vocoder")
    return laps, audio.size / pipeline.sample_rate


def batched_acoustic(pipeline: Any, requests: Sequence[Any], rate: int) -> dict[str, float]:
    """Acoustic audio-s/s on the same requests one at a time and in batches of BATCH."""
    hop = _hop(pipeline)
    out: dict[str, float] = {}
    for label, size in (("b1", 1), (f"b{BATCH}", BATCH)):
        frames, cpu, start = 0, time.thread_time(), time.perf_counter()
        for i in range(0, len(requests), size):
            frames += sum(m.shape[0] for m in pipeline.mels(list(requests[i : i + size])))
        audio_s = frames * hop / rate
        out[label] = audio_s / (time.perf_counter() - start)
        out[f"{label}_cpu"] = audio_s / max(time.thread_time() - cpu, 1e-9)
    return out


def _hop(pipeline: Any) -> int:
    return int(pipeline.manifest.extra.get("hop", 0)) or _bundled_hop()


def _bundled_hop() -> int:
    from mandarin_tts import contract as c

    # The bundled acoustic mel is in 24 kHz / hop 300 time (12.5 ms) whatever rate comes out.
    return c.ACOUSTIC_HOP * c.OUTPUT_SAMPLE_RATE // c.ACOUSTIC_SAMPLE_RATE


@dataclass
class VoiceCostReport:
    cpu: CpuInfo
    load_average_before: str
    load_average_after: str
    mode: str
    voices: list[VoiceCost]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "cpu": {**asdict(self.cpu), "text": self.cpu.text},
            "load_average_before": self.load_average_before,
            "load_average_after": self.load_average_after,
            "mode": self.mode,
            "seconds": self.seconds,
            "voices": [v.to_dict() for v in self.voices],
        }


def _load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def eval_texts(count: int) -> list[str]:
    from benchmarks.micro.intelligibility import read_sentences
    from mandarin_tts.paths import EVAL_SENTENCES

    return read_sentences(EVAL_SENTENCES)[:count]


def _sambert_pipeline(spec: SambertSpec, root: Path, full: bool) -> Any:
    return voice_pipeline(ensure_voice(spec, root, full))


def measure_voice_cost(
    quick: bool = True,
    specs: Sequence[SambertSpec] = (SAMBERT_16K, SAMBERT_24K),
    bundled: bool = True,
    root: Path = BENCH_VOICES_DIR,
    full: bool = True,
    texts: Sequence[str] | None = None,
) -> VoiceCostReport:
    """Every voice on the same sentences; a voice that fails is reported, not fatal."""
    started, before = time.time(), _load_average()
    texts = list(texts or eval_texts(QUICK_SENTENCES if quick else FULL_SENTENCES))
    voices: list[VoiceCost] = []
    jobs: list[tuple[str, str, Any]] = []
    if bundled:
        from benchmarks._synthesis import served_onnx_paths

        served = served_onnx_paths()[1].name
        # FastSpeech2 + bridged HiFi-GAN, as this tier serves it (maybe the int8 vocoder)
        jobs.append(("bundled", f"bundled ({served})", bundled_pipeline))
        if "int8" in served:
            jobs.append(("bundled_float", "bundled (vocoder.onnx, float)", bundled_float_pipeline))
    for spec in specs:
        jobs.append((spec.name, spec.label, partial(_sambert_pipeline, spec, root, full)))
    for key, label, load in jobs:
        print(f"== voice cost: {label} (load average {_load_average()})", flush=True)
        voice_started = time.time()
        try:
            pipeline = load()
            batched = not key.startswith("bundled")
            counted_texts = QUICK_COUNTED_SENTENCES if quick else None
            passes = QUICK_PASSES if quick else FULL_PASSES
            voices.append(
                measure_pipeline(key, label, pipeline, texts, batched, counted_texts, passes)
            )
            voices[-1].seconds = time.time() - voice_started
        except Exception as exc:  # noqa: BLE001 - one voice failing leaves the others
            voices.append(VoiceCost(key, label, 0, {}, error=f"{type(exc).__name__}: {exc}"))
    return VoiceCostReport(
        cpu_info(),
        before,
        _load_average(),
        "quick" if quick else "full",
        voices,
        time.time() - started,
    )


def _f(value: float, digits: int = 2) -> str:
    return "-" if math.isnan(value) else f"{value:.{digits}f}"


def _pair(wall: float, cpu: float) -> str:
    return f"{_f(wall)} / {_f(cpu)}"


def voice_cost_text(report: VoiceCostReport) -> str:
    first = report.voices[0] if report.voices else VoiceCost("", "", 0, {})
    lines = [
        f"voice cost on {report.cpu.text}; {report.mode} mode: {first.sentences} eval sentences,"
        f" best of {first.passes} passes, batch 1, one onnxruntime thread; load average "
        f"{report.load_average_before} -> {report.load_average_after}; {report.seconds:.0f} s",
        "GFLOP: MatMul/Gemm/Conv/ConvTranspose/LSTM multiply-adds x2, shapes from onnxruntime"
        " profiles of real runs (element-wise ops left out)",
        "audio-s/s per core: audio seconds per wall second / per CPU second of the one thread"
        " (CPU time is what other jobs on the cores cannot inflate)",
        "",
        f"{'voice':31s} {'rate':>4s} {'s/char':>6s} {'GFLOP per audio-s':>17s}  "
        f"{'audio-s/s per core, wall / CPU':^50s}  {'acoustic b1 -> b' + str(BATCH):>17s}",
        f"{'':31s} {'':>4s} {'':>6s} {'acoust':>8s} {'vocod':>8s}  "
        f"{'acoustic':>15s} {'vocoder':>15s} {'total':>15s}  {'(CPU time)':>17s}",
        "-" * 124,
    ]
    for v in report.voices:
        if v.error:
            lines.append(f"{v.label:31s} error: {v.error}")
            continue
        batched = v.acoustic_batched
        batch = (
            f"{_f(batched.get('b1_cpu', math.nan))} -> {_f(batched.get(f'b{BATCH}_cpu', math.nan))}"
            if batched
            else "-"
        )
        lines.append(
            f"{v.label:31s} {v.sample_rate // 1000:>3d}k {_f(v.audio_s_per_char, 3):>6s} "
            f"{_f(v.acoustic_gflop_per_audio_s):>8s} {_f(v.vocoder_gflop_per_audio_s):>8s}  "
            f"{_pair(v.acoustic_rate, v.acoustic_cpu_rate):>15s} "
            f"{_pair(v.vocoder_rate, v.vocoder_cpu_rate):>15s} "
            f"{_pair(v.pipeline_rate, v.pipeline_cpu_rate):>15s}  {batch:>17s}"
        )
    for v in report.voices:
        if len(v.gflop_breakdown) > 2:
            parts = ", ".join(
                f"{k.removesuffix('.onnx')} {g:.2f}" for k, g in v.gflop_breakdown.items()
            )
            lines.append(f"  {v.label} GFLOP per audio-s by file: {parts}")
    lines.append(
        "  The Sambert voices have random weights (speed does not depend on their values); their"
        " duration bias is raised so that s/char is realistic: compare with the trained bundled"
        " voice"
    )
    return "\n".join(lines)


def _sig(value: float) -> float:
    """4 significant digits: enough for a table, however small the figure."""
    return value if math.isnan(value) else float(f"{value:.4g}")


def csv_rows(report: VoiceCostReport) -> list[dict[str, Any]]:
    rows = []
    for v in report.voices:
        row: dict[str, Any] = {
            "voice": v.key,
            "sample_rate": v.sample_rate,
            "sentences": v.sentences,
            "audio_s": _sig(v.audio_s),
            "audio_s_per_char": _sig(v.audio_s_per_char),
            "acoustic_gflop_per_audio_s": _sig(v.acoustic_gflop_per_audio_s),
            "vocoder_gflop_per_audio_s": _sig(v.vocoder_gflop_per_audio_s),
            "acoustic_audio_s_per_s": _sig(v.acoustic_rate),
            "vocoder_audio_s_per_s": _sig(v.vocoder_rate),
            "pipeline_audio_s_per_s": _sig(v.pipeline_rate),
            "acoustic_audio_s_per_cpu_s": _sig(v.acoustic_cpu_rate),
            "vocoder_audio_s_per_cpu_s": _sig(v.vocoder_cpu_rate),
            "pipeline_audio_s_per_cpu_s": _sig(v.pipeline_cpu_rate),
        }
        for size in (1, BATCH):
            for suffix, unit in (("", "s"), ("_cpu", "cpu_s")):
                value = v.acoustic_batched.get(f"b{size}{suffix}", math.nan)
                row[f"acoustic_b{size}_audio_s_per_{unit}"] = _sig(value)
        row |= {
            "cpu": report.cpu.model,
            "avx512": report.cpu.avx512,
            "vnni": report.cpu.vnni,
            "error": v.error,
        }
        rows.append(row)
    return rows


def write_outputs(report: VoiceCostReport, out: Path) -> tuple[Path, Path]:
    import csv

    out.mkdir(parents=True, exist_ok=True)
    json_path, csv_path = out / "voice_cost.json", out / "voice_cost.csv"
    json_path.write_text(json.dumps(report.to_dict(), indent=2))
    rows = csv_rows(report)
    with csv_path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else ["voice"])
        writer.writeheader()
        writer.writerows(rows)
    return json_path, csv_path


def main(argv: list[str] | None = None) -> int:
    import argparse

    from mandarin_tts.paths import PROJECT_ROOT

    parser = argparse.ArgumentParser(prog="python -m benchmarks.system.voice_cost")
    parser.add_argument("--full", action="store_true", help=f"all {FULL_SENTENCES} sentences")
    parser.add_argument("--no-24k", action="store_true", help="skip the 24 kHz Sambert pair")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "out" / "bench")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached voices")
    args = parser.parse_args(argv)
    specs = (SAMBERT_16K,) if args.no_24k else (SAMBERT_16K, SAMBERT_24K)
    if args.rebuild:
        for spec in specs:
            shutil.rmtree(BENCH_VOICES_DIR / spec.name, ignore_errors=True)
    report = measure_voice_cost(quick=not args.full, specs=specs)
    print(voice_cost_text(report))
    paths = write_outputs(report, args.out)
    print(f"wrote {paths[0]} and {paths[1]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
