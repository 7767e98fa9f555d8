"""Int8 vocoder variants on this CPU: `python -m benchmarks.micro.int8_variants`.

Quantizes each scheme of `mandarin_tts.vocoder.quantize.SCHEMES` (once, into
`.cache/vocoder_variants/`, from the same mask-free float export and calibration as the
build), then on real acoustic mels of held-out sentences (in none of eval/, nor the
calibration text) prints, for the float vocoder and each variant:

1. vocoder-alone speed in audio-seconds per second: one session at c=1 (2 threads), and
   the cpu-2 tier's throughput layout, 2 sessions (instances) fed concurrently at 1 and
   2 threads each. Rounds are interleaved across the variants; the median of `--rounds`.
2. sample-by-sample agreement with float: SNR (dB, float audio over the difference),
   max |difference|, and the floored log-mel distance (nats, as the int8 model test).
3. whether the conv weights can saturate AVX2's u8s8 kernels (`quantize.saturation_free`).

The machine (CPU model, ISA flags) is printed first: saturation depends on it.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mandarin_tts import contract as c
from mandarin_tts.paths import ACOUSTIC_ONNX, CACHE_DIR, VOCODER_ONNX
from mandarin_tts.serving.int8_support import cpu_flags

VARIANTS_DIR = CACHE_DIR / "vocoder_variants"
ISA_FLAGS = ("avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx_vnni", "amx_int8")
LOG_MEL_FLOOR_NATS = 8.0  # as tests/integration/models/test_vocoder_int8.py

# Held out from eval/ and from calibration_text.py (checked in main()).
HELD_OUT_SENTENCES = (
    "这家面馆每天早上六点开门，牛肉面十八块钱一碗。",
    "请把会议纪要整理好，下班之前发到我的邮箱里。",
    "地铁二号线今晚因为设备检修，提前一个小时停运。",
    "她在图书馆借了三本关于海洋生物的书，下周三到期。",
    "冰箱里还有半个西瓜，你渴了就切一块吃吧。",
    "如果明天下雨，运动会就改到体育馆里举行。",
)


@dataclass(frozen=True)
class Agreement:
    snr_db: float
    max_abs: float
    log_mel: float


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    for line in cpuinfo.read_text().splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name":
            return value.strip()
    return "unknown"


def variant_path(scheme_name: str) -> Path:
    return VARIANTS_DIR / f"vocoder_int8_{scheme_name}.onnx"


def build_variants(names: Sequence[str], acoustic_onnx: Path = ACOUSTIC_ONNX) -> None:
    """Quantize every named scheme whose file is missing, from one float export."""
    from mandarin_tts.vocoder.quantize import SCHEMES, build_vocoder_int8_onnx

    missing = {variant_path(n): SCHEMES[n] for n in names if not variant_path(n).exists()}
    if missing:
        start = time.monotonic()
        build_vocoder_int8_onnx(missing, acoustic_onnx)
        print(f"quantized {len(missing)} variant(s) in {time.monotonic() - start:.0f} s")


def session(path: Path, threads: int) -> Any:
    from mandarin_tts.serving.ort_session import OrtSettings, make_session

    return make_session(path, OrtSettings(intra_op_threads=threads))


def vocode(sess: Any, mel: np.ndarray) -> np.ndarray:
    from mandarin_tts.vocoder.calibration_data import vocoder_feed

    (audio,) = sess.run([c.VOC_OUT_AUDIO], vocoder_feed(mel))
    return np.asarray(audio, np.float32).ravel()


def audio_seconds(mels: Sequence[np.ndarray]) -> float:
    from mandarin_tts.vocoder.bridge import SAMPLES_PER_ACOUSTIC_FRAME

    frames = sum(len(mel) for mel in mels)
    return frames * SAMPLES_PER_ACOUSTIC_FRAME / c.OUTPUT_SAMPLE_RATE


def speed(sessions: Sequence[Any], mels: Sequence[np.ndarray]) -> float:
    """Audio-seconds per second with each session vocoding all `mels` concurrently."""

    def work(sess: Any) -> None:
        for mel in mels:
            vocode(sess, mel)

    threads = [threading.Thread(target=work, args=(s,)) for s in sessions]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(sessions) * audio_seconds(mels) / (time.perf_counter() - start)


def agreement(reference: np.ndarray, audio: np.ndarray) -> Agreement:
    """How close `audio` is to `reference`, sample by sample and spectrally."""
    from mandarin_tts.vocoder.mel import vocoder_mel

    n = min(len(reference), len(audio))
    ref, out = reference[:n].astype(np.float64), audio[:n].astype(np.float64)
    noise = float(np.sum((out - ref) ** 2))
    snr = float("inf") if noise == 0 else 10 * np.log10(float(np.sum(ref**2)) / noise)
    ref_mel, out_mel = vocoder_mel(reference[:n]), vocoder_mel(audio[:n])
    floor = ref_mel.max() - LOG_MEL_FLOOR_NATS
    distance = float(np.mean(np.abs(np.maximum(out_mel, floor) - np.maximum(ref_mel, floor))))
    return Agreement(snr, float(np.max(np.abs(out - ref))), distance)


def mean_agreement(items: Sequence[Agreement]) -> Agreement:
    return Agreement(
        statistics.mean(a.snr_db for a in items),
        max(a.max_abs for a in items),
        statistics.mean(a.log_mel for a in items),
    )


LAYOUTS = {"1x2 (c=1)": (1, 2), "2x1": (2, 1), "2x2 (cpu-2 tier)": (2, 2)}


def main(argv: list[str] | None = None) -> int:
    import onnx

    from mandarin_tts.paths import EVAL_DIR, PROJECT_ROOT
    from mandarin_tts.vocoder.calibration_data import acoustic_mels
    from mandarin_tts.vocoder.calibration_text import CALIBRATION_SENTENCES
    from mandarin_tts.vocoder.quantize import SCHEMES, saturation_free

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--schemes", default=",".join(SCHEMES))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--layouts", default=",".join(LAYOUTS))
    parser.add_argument("--speed-sentences", type=int, default=3, help="of the held-out ones")
    args = parser.parse_args(argv)
    names = [n for n in args.schemes.split(",") if n]

    eval_text = "".join(
        p.read_text()
        for d in (EVAL_DIR, PROJECT_ROOT / "eval")
        for p in d.rglob("*")
        if p.is_file()
    )
    for sentence in HELD_OUT_SENTENCES:
        if sentence in eval_text or sentence in CALIBRATION_SENTENCES:
            raise SystemExit(f"held-out sentence found in eval/ or calibration: {sentence}")
    flags = cpu_flags()
    print(f"CPU: {cpu_model()}; ISA: {' '.join(f for f in ISA_FLAGS if f in flags) or '-'}")

    build_variants(names)
    mels = acoustic_mels(ACOUSTIC_ONNX, HELD_OUT_SENTENCES)
    print(
        f"{len(mels)} held-out sentences, {audio_seconds(mels):.1f} s of audio "
        f"(speed: the first {args.speed_sentences}, {audio_seconds(mels[: args.speed_sentences]):.1f} s)"
    )
    files = {"float": VOCODER_ONNX, **{n: variant_path(n) for n in names}}

    one = {name: session(path, 2) for name, path in files.items()}
    reference = [vocode(one["float"], mel) for mel in mels]
    quality = {
        name: mean_agreement(
            [agreement(r, vocode(s, m)) for r, m in zip(reference, mels, strict=True)]
        )
        for name, s in one.items()
    }
    # u8 weights run u8u8 kernels, not the saturating u8s8 ones: not applicable there.
    safe = {
        n: saturation_free(onnx.load(str(p))) if SCHEMES[n].signed_weights else "n/a (u8u8)"
        for n, p in files.items()
        if n != "float"
    }
    layouts = [name for name in args.layouts.split(",") if name]
    results: dict[tuple[str, str], list[float]] = {}
    for round_index in range(args.rounds):
        for layout in layouts:
            count, threads = LAYOUTS[layout]
            for name, path in files.items():
                sessions = [session(path, threads) for _ in range(count)]
                vocode(sessions[0], mels[0])  # warm-up
                timed = mels[: args.speed_sentences]
                results.setdefault((name, layout), []).append(speed(sessions, timed))
        print(f"round {round_index + 1}/{args.rounds} done", flush=True)

    header = "| variant | " + " | ".join(f"{lay} a-s/s" for lay in layouts)
    print(header + " | vs float (2x2) | SNR dB | max abs | log-mel | saturation-free |")
    print("|---" * (len(layouts) + 6) + "|")
    base = statistics.median(results[("float", layouts[-1])])
    for name in files:
        medians = [statistics.median(results[(name, lay)]) for lay in layouts]
        q = quality[name]
        print(
            f"| {name} | "
            + " | ".join(f"{m:.2f}" for m in medians)
            + f" | {medians[-1] / base:.2f}x | {q.snr_db:.1f} | {q.max_abs:.4f} | "
            f"{q.log_mel:.3f} | {safe.get(name, '-')} |"
        )
    print("raw:", {f"{k[0]}/{k[1]}": [round(v, 2) for v in vals] for k, vals in results.items()})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
