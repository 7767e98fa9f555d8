"""By-hand fidelity check of our Sambert ONNX path against KAN-TTS's own code (not a unit test).

Run with the KAN-TTS reference venv (see /work/main/.cache/kantts_ref/README.txt):

    .cache/kantts_ref/venv/bin/python scripts/verify_kantts_sambert.py [--quick] [--out FILE]

For sambert_16k.yaml and sambert_24k.yaml (default; --configs adds others; full size, speaker_list widened to 3 speakers):
  1. KAN-TTS's KanTtsLinguisticUnit gives the unit table sizes; ours must be equal.
  2. KAN-TTS's model_builder builds KanTtsSAMBERT, its optimizer and NoamLR scheduler; random
     weights (seeded), duration bias raised; saved as KAN-TTS's trainer saves a checkpoint,
     with the config.yaml as the trainer dumps it, into a voice folder.
  3. Our loader reads that folder (strict key/shape check), exports our five ONNX files, and
     SambertOnnxRunner runs every sentence alone and all of them as one padded batch.
  4. KAN-TTS's own `am_synthesis` (kantts/bin/infer_sambert.py: encode_symbol_sequence, then
     the model on ling[:, :-1], ...) is the reference: frame counts must be equal, and the
     mel max abs difference is reported (target <= 1e-3).
Two weight settings per config: "kantts-init" (KAN-TTS's default init, duration bias
log(7)) and "spread" (LayerNorms perturbed, duration fc weight x15, bias 1.5) for more
varied durations and band widths.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REF_ROOT = Path("/work/main/.cache/kantts_ref")
PROJECT = Path(__file__).resolve().parent.parent
SPEAKERS = "F7,M7,xiaoyu"

sys.path.insert(0, str(REF_ROOT))
import kantts_import  # noqa: E402,F401  (dummy ttsfrd, scipy shim, KAN-TTS on sys.path)

sys.path.insert(0, str(PROJECT))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import yaml  # noqa: E402
from kantts.bin.infer_sambert import am_synthesis  # noqa: E402
from kantts.models import model_builder  # noqa: E402
from kantts.utils.ling_unit.ling_unit import KanTtsLinguisticUnit  # noqa: E402

from mandarin_tts.sambert.checkpoint import load_voice_am  # noqa: E402
from mandarin_tts.sambert.export import export_sambert_onnx  # noqa: E402
from mandarin_tts.sambert.framing import SambertItem  # noqa: E402
from mandarin_tts.sambert.model import synthesize_torch  # noqa: E402
from mandarin_tts.sambert.runner import SambertOnnxRunner  # noqa: E402

# 你好，欢迎使用。 in KAN-TTS units (py2phoneMap: ni -> n_c i_c, ying -> y_c ing_c, ...).
HELLO = [
    ("n_c", "tone3", "s_begin", "word_begin"),
    ("i_c", "tone3", "s_end", "word_middle"),
    ("h_c", "tone3", "s_begin", "word_middle"),
    ("ao_c", "tone3", "s_end", "word_end"),
    ("#3", "tone_none", "s_none", "word_none"),
    ("h_c", "tone1", "s_begin", "word_begin"),
    ("uan_c", "tone1", "s_end", "word_middle"),
    ("y_c", "tone2", "s_begin", "word_middle"),
    ("ing_c", "tone2", "s_end", "word_end"),
    ("sh_c", "tone3", "s_begin", "word_begin"),
    ("ih_c", "tone3", "s_end", "word_middle"),
    ("y_c", "tone4", "s_begin", "word_middle"),
    ("ong_c", "tone4", "s_end", "word_end"),
    ("#4", "tone_none", "s_none", "word_none"),
]


def symbol_sequence(
    units: list[tuple[str, str, str, str]], emotions: list[str], speakers: list[str]
) -> str:
    return " ".join(
        f"{{{sy}${tone}${flag}${ws}${emo}${spk}}}"
        for (sy, tone, flag, ws), emo, spk in zip(units, emotions, speakers, strict=True)
    )


def random_units(
    ling_unit: KanTtsLinguisticUnit, n: int, rng: np.random.Generator
) -> list[tuple[str, str, str, str]]:
    phones = [s[1:] for s in ling_unit.sy if s.startswith("@")]
    tones = [s for s in ling_unit.tone if s.startswith("tone")]
    flags = ["s_begin", "s_end", "s_none", "s_both", "s_middle"]
    segments = ["word_begin", "word_end", "word_middle", "word_both", "word_none"]
    return [
        (
            str(rng.choice(phones)),
            str(rng.choice(tones)),
            str(rng.choice(flags)),
            str(rng.choice(segments)),
        )
        for _ in range(n)
    ]


def sentences(ling_unit: KanTtsLinguisticUnit, quick: bool) -> list[tuple[str, str]]:
    rng = np.random.default_rng(0)
    out = [
        (
            "hello/F7/neutral",
            symbol_sequence(HELLO, ["emotion_neutral"] * len(HELLO), ["F7"] * len(HELLO)),
        ),
        (
            "hello/M7/happy",
            symbol_sequence(HELLO, ["emotion_happy"] * len(HELLO), ["M7"] * len(HELLO)),
        ),
    ]
    sizes = [(6, "xiaoyu", "emotion_sad"), (33, "F7", "emotion_angry")]
    if not quick:
        sizes += [(80, "M7", "emotion_neutral"), (150, "xiaoyu", "emotion_surprise")]
    for n, spk, emo in sizes:
        units = random_units(ling_unit, n, rng)
        out.append((f"random{n}/{spk}/{emo[8:]}", symbol_sequence(units, [emo] * n, [spk] * n)))
    # Emotion changing inside one sentence.
    units = random_units(ling_unit, 20, rng)
    emos = [str(rng.choice(["emotion_neutral", "emotion_happy", "emotion_fear"])) for _ in units]
    out.append(("random20/M7/mixed", symbol_sequence(units, emos, ["M7"] * 20)))
    return out


def kantts_voice(
    config_path: Path, voice: Path, variant: str, seed: int, audio_config: Path | None = None
) -> tuple[dict[str, Any], Any, KanTtsLinguisticUnit]:
    """Build, randomize and save a KAN-TTS voice; return (config, KAN-TTS model, ling unit).
    With `audio_config`, config.yaml starts from it as train_sambert.py's dump does."""
    with open(config_path) as f:
        config = yaml.load(f, Loader=yaml.Loader)
    if audio_config is not None:
        with open(audio_config) as f:
            config = {**yaml.load(f, Loader=yaml.Loader), **config}
    config["linguistic_unit"]["speaker_list"] = SPEAKERS
    dumped = copy.deepcopy(config)  # the trainer dumps config.yaml before adding unit sizes
    ling_unit = KanTtsLinguisticUnit(config)
    config["Model"]["KanTtsSAMBERT"]["params"].update(ling_unit.get_unit_size())
    torch.manual_seed(seed)
    models, optimizers, schedulers = model_builder(config, torch.device("cpu"))
    model = models["KanTtsSAMBERT"]
    with torch.no_grad():
        dp = model.variance_adaptor.duration_predictor
        if variant == "kantts-init":
            dp.fc.bias.fill_(math.log(7.0))
        else:
            dp.fc.bias.fill_(1.5)
            dp.fc.weight.mul_(15.0)
            for module in model.modules():
                if isinstance(module, torch.nn.LayerNorm):
                    module.weight.add_(0.1 * torch.randn_like(module.weight))
                    module.bias.copy_(0.1 * torch.randn_like(module.bias))
    am = voice / "am"
    (am / "ckpt").mkdir(parents=True, exist_ok=True)
    with open(am / "config.yaml", "w") as f:
        yaml.dump(dumped, f, Dumper=yaml.Dumper, default_flow_style=None)
    steps = 20000
    torch.save(
        {
            "optimizer": optimizers["KanTtsSAMBERT"].state_dict(),
            "scheduler": schedulers["KanTtsSAMBERT"].state_dict(),
            "steps": steps,
            "model": model.state_dict(),
        },
        am / "ckpt" / f"checkpoint_{steps}.pth",
    )
    # An older checkpoint with other weights: the newest number must win.
    torch.save({"model": {}, "steps": 100}, am / "ckpt" / "checkpoint_100.pth")
    return config, model.eval(), ling_unit


def item_from_symbols(ling_unit: KanTtsLinguisticUnit, symbols: str) -> SambertItem:
    """KAN-TTS's own encoding (eos appended to every stream) as a SambertItem."""
    sy, tone, flag, ws, emo, spk = (
        np.asarray(a, np.int64) for a in ling_unit.encode_symbol_sequence(symbols)
    )
    return SambertItem(np.stack([sy, tone, flag, ws], axis=-1), emo, spk, 1.0)


def verify(
    config_path: Path, variant: str, work: Path, quick: bool, threads: int, do_bench: bool
) -> dict[str, Any]:
    voice = work / f"{config_path.stem}-{variant}"
    config, ref_model, ling_unit = kantts_voice(config_path, voice, variant, seed=1)
    our_cfg, our_model, ckpt = load_voice_am(voice)
    sizes = ling_unit.get_unit_size()
    vocab_equal = {k: getattr(our_cfg.vocab, k) for k in sizes} == sizes
    keys_equal = {k: tuple(v.shape) for k, v in our_model.state_dict().items()} == {
        k: tuple(v.shape) for k, v in ref_model.state_dict().items()
    }
    t0 = time.monotonic()
    export_sambert_onnx(our_model, voice / "onnx")
    export_s = time.monotonic() - t0
    runner = SambertOnnxRunner.from_dir(voice / "onnx", intra_op_threads=threads)

    cases = sentences(ling_unit, quick)
    items = [item_from_symbols(ling_unit, symbols) for _, symbols in cases]
    t0 = time.monotonic()
    batched = runner.run_batch(items)
    batch_s = time.monotonic() - t0
    rows: list[dict[str, Any]] = []
    ref_total = ours_total = 0.0
    for (name, symbols), item, mel_batched in zip(cases, items, batched, strict=True):
        t0 = time.monotonic()
        with torch.no_grad():
            _, ref_mel, ref_dur, _, _ = am_synthesis(
                symbols, ref_model, ling_unit, torch.device("cpu")
            )
        ref_total += time.monotonic() - t0
        t0 = time.monotonic()
        (mel_single,) = runner.run_batch([item])
        ours_total += time.monotonic() - t0
        mel_torch = synthesize_torch(our_model, item)
        same = ref_mel.shape == mel_single.shape == mel_batched.shape == mel_torch.shape
        rows.append(
            {
                "sentence": name,
                "units": int(item.ling.shape[0] - 1),
                "frames_kantts": int(ref_mel.shape[0]),
                "frames_ours": int(mel_single.shape[0]),
                "frames_equal": bool(same),
                "dur_min_max": [int(np.min(ref_dur)), int(np.max(ref_dur))],
                "maxdiff_onnx_single": float(np.abs(mel_single - ref_mel).max()) if same else None,
                "maxdiff_onnx_batched": float(np.abs(mel_batched - ref_mel).max())
                if same
                else None,
                "maxdiff_torch": float(np.abs(mel_torch - ref_mel).max()) if same else None,
                "mel_absmax": float(np.abs(ref_mel).max()),
            }
        )
    timing = bench(runner, ling_unit, 200 / 16000) if do_bench else []
    diffs: list[float] = [
        r[k]
        for r in rows
        for k in ("maxdiff_onnx_single", "maxdiff_onnx_batched")
        if r[k] is not None
    ]
    return {
        "config": config_path.name,
        "variant": variant,
        "checkpoint": ckpt.name,
        "vocab_equal": vocab_equal,
        "state_dict_keys_shapes_equal": keys_equal,
        "all_frames_equal": all(r["frames_equal"] for r in rows),
        "max_abs_diff": max(diffs) if diffs else None,
        "export_s": round(export_s, 1),
        "batch_of_all_s": round(batch_s, 2),
        "kantts_single_total_s": round(ref_total, 2),
        "onnx_single_total_s": round(ours_total, 2),
        "bench_hop200_16k": timing,
        "sentences": rows,
    }


def bench(
    runner: SambertOnnxRunner, ling_unit: KanTtsLinguisticUnit, frame_s: float
) -> list[dict[str, Any]]:
    """Best-of-3 wall time of run_batch for batches of 1, 4 and 8 random 50-59-unit items."""
    rng = np.random.default_rng(1)
    out = []
    for size in (1, 4, 8):
        items = []
        for i in range(size):
            n = 50 + i
            units = random_units(ling_unit, n, rng)
            items.append(
                item_from_symbols(
                    ling_unit, symbol_sequence(units, ["emotion_neutral"] * n, ["F7"] * n)
                )
            )
        runner.run_batch(items)
        best = math.inf
        for _ in range(3):
            t0 = time.perf_counter()
            mels = runner.run_batch(items)
            best = min(best, time.perf_counter() - t0)
        audio_s = sum(m.shape[0] for m in mels) * frame_s
        out.append(
            {
                "batch": size,
                "seconds": round(best, 3),
                "audio_s": round(audio_s, 2),
                "rtf": round(best / audio_s, 4),
            }
        )
    return out


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2e}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer and shorter sentences")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--bench", action="store_true", help="also time run_batch (1/4/8 items)")
    parser.add_argument(
        "--configs",
        default="sambert_16k.yaml,sambert_24k.yaml",
        help="comma-separated KAN-TTS config names (e.g. add sambert_48k.yaml)",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    configs = REF_ROOT / "KAN-TTS" / "kantts" / "configs"
    cpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    model_name = next(
        (
            line.split(":", 1)[1].strip()
            for line in cpu.splitlines()
            if line.startswith("Model name")
        ),
        platform.processor(),
    )
    results: dict[str, Any] = {
        "machine": model_name,
        "torch": torch.__version__,
        "onnxruntime": __import__("onnxruntime").__version__,
        "runs": [],
    }
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.configs.split(","):
            for variant in ("kantts-init", "spread"):
                run = verify(
                    configs / name, variant, Path(tmp), args.quick, args.threads, args.bench
                )
                results["runs"].append(run)
                good = (
                    run["vocab_equal"]
                    and run["state_dict_keys_shapes_equal"]
                    and run["all_frames_equal"]
                    and run["max_abs_diff"] is not None
                    and run["max_abs_diff"] <= 1e-3
                )
                ok = ok and good
                print(
                    f"{name} {variant}: vocab {run['vocab_equal']}, keys {run['state_dict_keys_shapes_equal']}, "
                    f"frames equal {run['all_frames_equal']}, max |diff| {_fmt(run['max_abs_diff'])} "
                    f"({'OK' if good else 'FAIL'})"
                )
                for timing in run["bench_hop200_16k"]:
                    print(f"   bench: {timing}")
                for row in run["sentences"]:
                    print(
                        f"   {row['sentence']:<26} units {row['units']:>4} frames {row['frames_kantts']:>5}/"
                        f"{row['frames_ours']:<5} dur {row['dur_min_max']} single {_fmt(row['maxdiff_onnx_single'])} "
                        f"batched {_fmt(row['maxdiff_onnx_batched'])} torch {_fmt(row['maxdiff_torch'])}"
                    )
    if args.out:
        args.out.write_text(json.dumps(results, indent=1), encoding="utf-8")
    print("machine:", model_name, "| PASS" if ok else "| FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
