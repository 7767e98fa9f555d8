"""By-hand end-to-end check: a KAN-TTS voice imported and run with our CLI vs KAN-TTS's own code.

Run with the KAN-TTS reference venv (see /work/main/.cache/kantts_ref/README.txt):

    nice -n 10 .cache/kantts_ref/venv/bin/python scripts/verify_kantts_voice.py [--out FILE]

Per voice pair (sambert_16k + hifigan_v1_16k, sambert_24k + hifigan_v1_24k; full size,
speaker_list F7,M7,xiaoyu):
  1. KAN-TTS's own classes build random-weight models (KanTtsSAMBERT via model_builder,
     duration bias log(7); the HiFi-GAN Generator with "loud" weights so the audio is far
     from silence) and save them as KAN-TTS's trainers do, with audio_config.yaml, into a
     voice folder in ModelScope layout (verify_kantts_sambert.kantts_voice and
     verify_kantts_hifigan.write_reference_voc).
  2. Our importer installs it exactly as a user would (`python -m mandarin_tts.voices import`,
     project venv, subprocess).
  3. Our `units` CLI turns sentences of eval/sentences_zh.txt into KAN-TTS unit strings with
     several speakers and emotions; one more unit string is written by hand with the emotion
     changing mid-sentence. Our `acoustic` and `vocoder` CLIs (ONNX) give mel and audio.
  4. KAN-TTS's own inference on the same unit strings: the voice reloaded from the folder
     (ModelScope's loaders), KanTtsLinguisticUnit encoding, am_synthesis (the model on
     ling[:, :-1], emo[:, :-1], spk[:, :-1], len - 1; postnet outputs cut to the regulated
     length), then the generator on that mel (ModelScope's vocoder_forward).
  5. Frame counts must be equal, mel and audio max abs difference <= 1e-3. Our vocoder CLI
     is also run on KAN-TTS's mel, which separates the two stages.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import verify_kantts_hifigan as voc_check  # noqa: E402  (also installs the KAN-TTS shims)
import verify_kantts_sambert as am_check  # noqa: E402
import yaml  # noqa: E402
from kantts.bin.infer_sambert import am_synthesis  # noqa: E402
from kantts.models import model_builder  # noqa: E402
from kantts.utils.ling_unit.ling_unit import KanTtsLinguisticUnit  # noqa: E402

from mandarin_tts.kantts.errors import VoiceFolderError  # noqa: E402
from mandarin_tts.voice_files import newest_checkpoint  # noqa: E402

PROJECT = am_check.PROJECT
OUR_PYTHON = PROJECT / ".venv" / "bin" / "python"
PAIRS = [("sambert_16k", "hifigan_v1_16k", 16), ("sambert_24k", "hifigan_v1_24k", 24)]
# (speaker, emotion) for the sentences in turn: every speaker, six emotions.
VOICE_CHOICES = [
    ("F7", "neutral"),
    ("M7", "happy"),
    ("xiaoyu", "sad"),
    ("F7", "angry"),
    ("M7", "surprise"),
    ("xiaoyu", "fear"),
]
LIMIT = 1e-3


def build_voice_folder(am_name: str, voc_name: str, khz: int, variant: str, voice: Path) -> None:
    """A random-weight voice in ModelScope layout, written by KAN-TTS's own classes."""
    audio = am_check.REF_ROOT / "KAN-TTS" / "kantts" / "configs" / f"audio_config_{khz}k.yaml"
    configs = audio.parent
    am_check.kantts_voice(configs / f"{am_name}.yaml", voice, variant, 1, audio)
    voc_check.write_reference_voc(voc_name, "loud", seed=len(voc_name), voice_dir=voice)
    shutil.copyfile(audio, voice / "audio_config.yaml")


def kantts_acoustic(voice: Path) -> tuple[Any, KanTtsLinguisticUnit]:
    """infer_sambert.am_infer's loading: config.yaml + unit sizes, model_builder, checkpoint."""
    config = yaml.load((voice / "am" / "config.yaml").read_text("utf-8"), Loader=yaml.Loader)
    ling_unit = KanTtsLinguisticUnit(config)
    config["Model"]["KanTtsSAMBERT"]["params"].update(ling_unit.get_unit_size())
    models, _, _ = model_builder(config, torch.device("cpu"))
    model = models["KanTtsSAMBERT"]
    ckpt = newest_checkpoint(voice / "am" / "ckpt", VoiceFolderError)
    state = torch.load(ckpt, map_location="cpu")
    missing, unexpected = model.load_state_dict(state["model"], strict=False)
    # ModelScope loads with strict=False: make sure nothing was silently left random.
    assert not missing and not unexpected, (missing, unexpected)
    return model.eval(), ling_unit


def ours(*args: str) -> str:
    """Our voices CLI in the project venv, as a user runs it; returns stdout."""
    result = subprocess.run(
        [str(OUR_PYTHON), "-m", "mandarin_tts.voices", *args],
        capture_output=True,
        text=True,
        cwd=PROJECT,
        timeout=900,
    )
    if result.returncode != 0:
        raise RuntimeError(f"voices {args[0]} failed ({result.returncode}): {result.stderr}")
    return result.stdout


def cases(installed: Path, n_sentences: int) -> list[dict[str, str]]:
    lines = voc_check.SENTENCES.read_text(encoding="utf-8").splitlines()
    texts = [t.strip() for t in lines if t.strip()][:n_sentences]
    out = []
    for i, text in enumerate(texts):
        speaker, emotion = VOICE_CHOICES[i % len(VOICE_CHOICES)]
        units = ours("units", str(installed), "--text", text, "--speaker", speaker,
                     "--emotion", emotion).strip()  # fmt: skip
        out.append({"name": text, "speaker": speaker, "emotion": emotion, "units": units})
    # By hand: 你好，欢迎使用。 neutral up to the #3 break, happy after it.
    hello = am_check.HELLO
    emotions = ["emotion_neutral"] * 5 + ["emotion_happy"] * (len(hello) - 5)
    out.append(
        {
            "name": "你好，欢迎使用。 (by hand)",
            "speaker": "M7",
            "emotion": "neutral->happy",
            "units": am_check.symbol_sequence(hello, emotions, ["M7"] * len(hello)),
        }
    )
    return out


def check_pair(
    am_name: str, voc_name: str, khz: int, variant: str, work: Path, n: int
) -> dict[str, Any]:
    work = work / f"{khz}k_{variant}"
    voice = work / f"{am_name}_voice"
    build_voice_folder(am_name, voc_name, khz, variant, voice)
    installed = work / f"check_{khz}k"
    t0 = time.monotonic()
    import_log = ours("import", str(voice), "--out", str(installed))
    import_s = time.monotonic() - t0
    ref_am, ling_unit = kantts_acoustic(voice)
    ref_voc = voc_check.kantts_vocoder(voice)
    rows = []
    for k, case in enumerate(cases(installed, n)):
        units_file = work / f"{khz}k_{k}.units"
        units_file.write_text(case["units"], encoding="utf-8")
        mel_file, audio_file = work / f"{khz}k_{k}_mel.npy", work / f"{khz}k_{k}_audio.npy"
        ours("acoustic", str(installed), "--units-file", str(units_file), "--out", str(mel_file))
        ours("vocoder", str(installed), "--mel", str(mel_file), "--out", str(audio_file))
        mel, audio = np.load(mel_file), np.load(audio_file)
        with torch.no_grad():
            _, ref_mel, ref_dur, _, _ = am_synthesis(
                case["units"], ref_am, ling_unit, torch.device("cpu")
            )
        ref_mel = np.ascontiguousarray(ref_mel, dtype=np.float32)
        ref_audio = voc_check.kantts_forward(ref_voc, ref_mel)
        ref_mel_file = work / f"{khz}k_{k}_refmel.npy"
        np.save(ref_mel_file, ref_mel)
        cross_file = work / f"{khz}k_{k}_cross.npy"
        ours("vocoder", str(installed), "--mel", str(ref_mel_file), "--out", str(cross_file))
        cross = np.load(cross_file)
        frames_equal = mel.shape == ref_mel.shape
        samples_equal = audio.shape == ref_audio.shape == cross.shape
        rows.append(
            {
                **{key: case[key] for key in ("name", "speaker", "emotion")},
                "units": case["units"].count("{"),
                "frames_kantts": int(ref_mel.shape[0]),
                "frames_ours": int(mel.shape[0]),
                "frames_equal": frames_equal,
                "samples_equal": samples_equal,
                "dur_min_max": [int(np.min(ref_dur)), int(np.max(ref_dur))],
                "mel_max_abs_diff": float(np.abs(mel - ref_mel).max()) if frames_equal else None,
                "audio_max_abs_diff": float(np.abs(audio - ref_audio).max())
                if samples_equal
                else None,
                "audio_ours_voc_on_kantts_mel_diff": float(np.abs(cross - ref_audio).max())
                if samples_equal
                else None,
                "mel_absmax": float(np.abs(ref_mel).max()),
                "audio_peak": float(np.abs(ref_audio).max()),
            }
        )
        print(json.dumps(rows[-1], ensure_ascii=False), flush=True)
    diffs = [
        r[key]
        for r in rows
        for key in ("mel_max_abs_diff", "audio_max_abs_diff", "audio_ours_voc_on_kantts_mel_diff")
    ]
    ok = all(r["frames_equal"] and r["samples_equal"] for r in rows) and all(
        d is not None and d <= LIMIT for d in diffs
    )
    return {
        "pair": f"{am_name} + {voc_name}",
        "am_weights": variant,
        "import_log": import_log.strip(),
        "import_s": round(import_s, 1),
        "ok": ok,
        "sentences": rows,
    }


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2e}"


def print_table(runs: list[dict[str, Any]]) -> None:
    print("| pair | Sambert weights | sentence | speaker | emotion | units | frames KAN-TTS / ours | mel max abs diff "
          "| audio max abs diff | our vocoder on KAN-TTS mel | mel abs max | audio peak |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for run in runs:
        for r in run["sentences"]:
            print(
                f"| {run['pair']} | {run['am_weights']} | {r['name']} | {r['speaker']} | {r['emotion']} | {r['units']} "
                f"| {r['frames_kantts']} / {r['frames_ours']} | {_fmt(r['mel_max_abs_diff'])} "
                f"| {_fmt(r['audio_max_abs_diff'])} "
                f"| {_fmt(r['audio_ours_voc_on_kantts_mel_diff'])} | {r['mel_absmax']:.2f} "
                f"| {r['audio_peak']:.3f} |"
            )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="write the figures as JSON")
    parser.add_argument("--sentences", type=int, default=6, help="from eval/sentences_zh.txt")
    parser.add_argument("--pairs", default="16,24", help="which pairs: 16, 24 or both")
    parser.add_argument(
        "--am-weights",
        default="kantts-init,spread",
        help="Sambert weight settings of verify_kantts_sambert (spread: varied durations)",
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    wanted = {int(k) for k in args.pairs.split(",")}
    report: dict[str, Any] = {"cpu": voc_check.cpu_name(), "torch": torch.__version__, "runs": []}
    with tempfile.TemporaryDirectory(prefix="verify_kantts_voice_") as tmp:
        for am_name, voc_name, khz in PAIRS:
            for variant in args.am_weights.split(",") if khz in wanted else []:
                run = check_pair(am_name, voc_name, khz, variant, Path(tmp), args.sentences)
                report["runs"].append(run)
                print(f"{run['pair']} ({variant}): {'OK' if run['ok'] else 'FAIL'}", flush=True)
    ok = all(run["ok"] for run in report["runs"])
    report["ok"] = ok
    if args.out:
        args.out.write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    print_table(report["runs"])
    print(f"cpu: {report['cpu']}; {'PASS' if ok else 'FAIL'} (limit {LIMIT:g})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
