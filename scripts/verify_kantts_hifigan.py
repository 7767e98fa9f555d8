"""By-hand fidelity check of our KAN-TTS HiFi-GAN ONNX and unit ids against KAN-TTS's own code.

Run with the KAN-TTS reference venv (see /work/main/.cache/kantts_ref/README.txt):

    .cache/kantts_ref/venv/bin/python scripts/verify_kantts_hifigan.py [--quick] [--out FILE]

Vocoder, for hifigan_v1_16k.yaml, hifigan_v1_24k.yaml and hifigan_noncausal_v1_16k.yaml
(full size):
  1. KAN-TTS's Generator with random weights (seeded; two settings: KAN-TTS's own init, and
     "loud": weight-norm magnitudes in [0.5, 1], biases N(0, 0.05), so the audio is far from
     silence), saved as KAN-TTS's GAN trainer saves a checkpoint, with the config.yaml as
     the trainer dumps it (audio_config merged), into a voice folder (voc/ side).
  2. KAN-TTS's inference as ModelScope's voice.py does it (infer_hifigan.load_model,
     remove_weight_norm, mel [T, 80] -> transpose -> generator -> view(-1)) is the reference.
  3. Our loader reads that checkpoint (strict keys/shapes, weight norm folded), exports the
     ONNX, and onnxruntime runs every mel alone and all of them as one padded batch.
  Reported: max abs audio difference (target <= 1e-3).
  4. The other direction: KAN-TTS's loaders read a tiny voice our write_random_voice wrote.
Units: our frontend (run in the project venv) turns sentences of eval/sentences_zh.txt
plus a few erhua / letter / polyphone sentences into units and ids; KAN-TTS's
KanTtsLinguisticUnit.encode_symbol_sequence must give the same ids, and its tables and
unit sizes must equal ours.
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

REF_ROOT = Path("/work/main/.cache/kantts_ref")
PROJECT = Path(__file__).resolve().parent.parent
CONFIGS = REF_ROOT / "KAN-TTS" / "kantts" / "configs"
SENTENCES = Path("/work/shared/eval/sentences_zh.txt")
SPEAKERS = "F7,M7,xiaoyu"
EXTRA_SENTENCES = [
    "我们去公园玩儿，一会儿就回来。",
    "GPU和AI芯片，Wi-Fi密码是ABC123。",
    "行长说银行今年的业绩不错，还了我五百块钱。",
    "绿色的雪月下，女儿学习很认真、很努力！",
    "嗯，这个问题我想想。",
]

sys.path.insert(0, str(REF_ROOT))
import kantts_import  # noqa: E402,F401  (dummy ttsfrd, scipy shim, KAN-TTS on sys.path)

sys.path.insert(0, str(PROJECT))

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
import torch  # noqa: E402
import yaml  # noqa: E402
from kantts.bin.infer_hifigan import load_model  # noqa: E402
from kantts.models.hifigan.hifigan import Generator  # noqa: E402
from kantts.utils.ling_unit.ling_unit import KanTtsLinguisticUnit  # noqa: E402

from mandarin_tts.kantts.errors import VoiceFolderError  # noqa: E402
from mandarin_tts.kantts.hifigan import load_hifigan  # noqa: E402
from mandarin_tts.kantts.hifigan_onnx import export_hifigan_onnx  # noqa: E402
from mandarin_tts.kantts.tables import FIELDS, UnitTables  # noqa: E402
from mandarin_tts.voice_files import newest_checkpoint  # noqa: E402


def cpu_name() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return platform.processor() or "unknown"


# --- vocoder -------------------------------------------------------------------------------
def write_reference_voc(name: str, setting: str, seed: int, voice_dir: Path) -> Path:
    """KAN-TTS's Generator, random weights, saved in the trainer's layout; returns the ckpt."""
    doc = yaml.safe_load((CONFIGS / f"{name}.yaml").read_text(encoding="utf-8"))
    rate = int(doc["Loss"]["mel_loss"]["params"]["fs"])
    audio = yaml.safe_load((CONFIGS / f"audio_config_{rate // 1000}k.yaml").read_text("utf-8"))
    merged = {**audio, **doc}  # what train_hifigan dumps: audio_config first, then the model
    torch.manual_seed(seed)
    generator = Generator(**doc["Model"]["Generator"]["params"])
    if setting == "loud":
        with torch.no_grad():
            for key, value in generator.state_dict().items():
                if key.endswith("weight_g"):
                    value.copy_(0.5 + 0.5 * torch.rand_like(value))
                elif key.endswith("bias"):
                    value.copy_(0.05 * torch.randn_like(value))
    optimizer = torch.optim.Adam(generator.parameters(), lr=2.0e-4, betas=(0.5, 0.9))
    scheduler = torch.optim.lr_scheduler.MultiStepLR(
        optimizer, milestones=[200000, 400000, 600000, 800000], gamma=0.5
    )
    steps = 100000 + seed
    state = {
        "optimizer": {"generator": optimizer.state_dict(), "discriminator": {}},
        "scheduler": {"generator": scheduler.state_dict(), "discriminator": {}},
        "steps": steps,
        "model": {"generator": generator.state_dict(), "discriminator": {}},
    }
    voc = voice_dir / "voc"
    (voc / "ckpt").mkdir(parents=True, exist_ok=True)
    (voc / "config.yaml").write_text(yaml.dump(merged, Dumper=yaml.Dumper), encoding="utf-8")
    ckpt = voc / "ckpt" / f"checkpoint_{steps}.pth"
    torch.save(state, ckpt)
    return ckpt


def kantts_vocoder(voice_dir: Path) -> Any:
    """ModelScope voice.py's load_vocoder, via KAN-TTS's infer_hifigan.load_model."""
    config = yaml.load((voice_dir / "voc" / "config.yaml").read_text("utf-8"), Loader=yaml.Loader)
    model = load_model(str(newest_checkpoint(voice_dir / "voc" / "ckpt", VoiceFolderError)), config)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.remove_weight_norm()
    return model.eval()


def kantts_forward(model: Any, mel: np.ndarray) -> np.ndarray:
    """ModelScope voice.py's vocoder_forward for a non-NSF single-band voice."""
    with torch.no_grad():
        x = torch.from_numpy(mel).transpose(1, 0).unsqueeze(0)
        return model(x).view(-1).numpy()


def check_vocoder(name: str, setting: str, lengths: list[int], work: Path) -> dict[str, Any]:
    voice_dir = work / f"{name}-{setting}"
    ckpt = write_reference_voc(name, setting, seed=len(name), voice_dir=voice_dir)
    ref_model = kantts_vocoder(voice_dir)
    ours = load_hifigan(voice_dir / "voc" / "config.yaml", ckpt)
    onnx_path = export_hifigan_onnx(ours, voice_dir / "voc.onnx")
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
    hop, n_mels = ours.config.hop, ours.config.num_mels
    rng = np.random.default_rng(7)
    mels = [rng.standard_normal((n, n_mels)).astype(np.float32) for n in lengths]
    refs = []
    alone_diff = torch_diff = 0.0
    for mel in mels:
        ref = kantts_forward(ref_model, mel)
        refs.append(ref)
        audio, audio_len = session.run(
            None, {"mel": mel[None], "mel_lengths": np.array([len(mel)])}
        )
        assert audio.shape == (1, len(mel) * hop) == (1, ref.shape[0]), (audio.shape, ref.shape)
        assert int(audio_len[0]) == len(mel) * hop
        alone_diff = max(alone_diff, float(np.abs(audio[0] - ref).max()))
        with torch.no_grad():
            ours_torch = ours(torch.from_numpy(mel).T[None])[0, 0].numpy()
        torch_diff = max(torch_diff, float(np.abs(ours_torch - ref).max()))
    longest = max(lengths)
    batch = np.full((len(mels), longest, n_mels), 3.0, np.float32)  # loud padding
    for i, mel in enumerate(mels):
        batch[i, : len(mel)] = mel
    audio, audio_len = session.run(None, {"mel": batch, "mel_lengths": np.array(lengths, np.int64)})
    batch_diff = max(
        float(np.abs(audio[i, : audio_len[i]] - ref).max()) for i, ref in enumerate(refs)
    )
    tail = max(float(np.abs(audio[i, audio_len[i] :]).max(initial=0.0)) for i in range(len(mels)))
    # Speed on the longest mel, both warm (each ran it above): indicative only, shared CPU.
    longest_mel = mels[lengths.index(longest)]
    seconds = longest * hop / ours.config.sampling_rate  # type: ignore[operator]
    start = time.perf_counter()
    kantts_forward(ref_model, longest_mel)
    t_ref = time.perf_counter() - start
    start = time.perf_counter()
    session.run(None, {"mel": longest_mel[None], "mel_lengths": np.array([longest])})
    t_ours = time.perf_counter() - start
    return {
        "config": name,
        "weights": setting,
        "params": sum(p.numel() for p in ours.parameters()),
        "hop": hop,
        "mel_lengths": lengths,
        "ref_peak": max(float(np.abs(r).max()) for r in refs),
        "max_abs_diff_onnx_alone": alone_diff,
        "max_abs_diff_onnx_padded_batch": batch_diff,
        "max_abs_diff_torch": torch_diff,
        "padding_tail_max": tail,
        "rtf_kantts_torch_longest": t_ref / seconds,
        "rtf_ours_onnx_longest": t_ours / seconds,
    }


def check_our_voice(work: Path) -> dict[str, Any]:
    """The other direction: KAN-TTS's own loaders read a voice our write_random_voice wrote."""
    from mandarin_tts.kantts.tiny_voice import write_random_voice

    voice_dir = write_random_voice(work / "ours-tiny", speakers=("F7", "M7"))
    ref_model = kantts_vocoder(voice_dir)  # load_state_dict is strict in KAN-TTS
    ours = load_hifigan(
        voice_dir / "voc" / "config.yaml",
        newest_checkpoint(voice_dir / "voc" / "ckpt", VoiceFolderError),
    )
    mel = np.random.default_rng(3).standard_normal((40, ours.config.num_mels)).astype(np.float32)
    with torch.no_grad():
        diff = float(
            np.abs(
                ours(torch.from_numpy(mel).T[None])[0, 0].numpy() - kantts_forward(ref_model, mel)
            ).max()
        )
    am_config = yaml.load((voice_dir / "am" / "config.yaml").read_text("utf-8"), Loader=yaml.Loader)
    sizes = KanTtsLinguisticUnit(am_config).get_unit_size()
    return {"tiny_voice_vocoder_max_abs_diff": diff, "tiny_voice_unit_sizes": sizes}


# --- units ---------------------------------------------------------------------------------
_OURS_UNITS = """
import json, sys
from mandarin_tts.kantts.tables import UnitTables
from mandarin_tts.kantts.units import KanttsUnitsFrontend
tables = UnitTables.for_speakers(sys.argv[1].split(","))
fe = KanttsUnitsFrontend(tables)
out = []
speakers = tables.speakers
for n, text in enumerate(json.loads(sys.stdin.read())):
    speaker = speakers[n % len(speakers)]
    emotion = ("emotion_neutral", "emotion_happy", "emotion_sad")[n % 3]
    enc = fe.encode(text, speaker=speaker, emotion=emotion)
    ids = [enc.ling[:, k].tolist() for k in range(4)] + [enc.emotion.tolist(), enc.speaker.tolist()]
    out.append({"text": text, "units": enc.units, "ids": ids})
print(json.dumps(out, ensure_ascii=False))
"""


def check_units(n_sentences: int) -> dict[str, Any]:
    texts = SENTENCES.read_text(encoding="utf-8").split("\n")
    texts = [t.strip() for t in texts if t.strip()][:n_sentences] + EXTRA_SENTENCES
    result = subprocess.run(
        [str(PROJECT / ".venv" / "bin" / "python"), "-c", _OURS_UNITS, SPEAKERS],
        input=json.dumps(texts, ensure_ascii=False),
        capture_output=True,
        text=True,
        cwd=PROJECT,
        check=True,
    )
    ours = json.loads(result.stdout)
    am_config = yaml.safe_load((CONFIGS / "sambert_16k.yaml").read_text(encoding="utf-8"))
    am_config["linguistic_unit"]["speaker_list"] = SPEAKERS
    ling_unit = KanTtsLinguisticUnit(am_config)
    tables = UnitTables.from_am_config_data(am_config, "sambert_16k.yaml")
    reference_tables = {
        "sy": ling_unit._sy_to_id,
        "tone": ling_unit._tone_to_id,
        "syllable_flag": ling_unit._syllable_flag_to_id,
        "word_segment": ling_unit._word_segment_to_id,
        "emotion": ling_unit._emo_category_to_id,
        "speaker": ling_unit._speaker_to_id,
    }
    tables_equal = all(tables.index(f) == reference_tables[f] for f in FIELDS)
    sizes_equal = tables.unit_sizes() == ling_unit.get_unit_size()
    mismatches, units_total = [], 0
    for item in ours:
        reference = [
            a.astype(np.int64).tolist() for a in ling_unit.encode_symbol_sequence(item["units"])
        ]
        units_total += len(reference[0]) - 1
        if reference != item["ids"]:
            mismatches.append(item["text"])
    return {
        "sentences": len(ours),
        "units": units_total,
        "ids_mismatched_sentences": mismatches,
        "tables_equal": tables_equal,
        "unit_sizes_equal": sizes_equal,
        "unit_sizes": ling_unit.get_unit_size(),
        "example": {"text": ours[0]["text"], "units": ours[0]["units"]},
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short mels, one weight setting")
    parser.add_argument("--out", type=Path, help="write the figures as JSON")
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    lengths = [1, 13, 64] if args.quick else [1, 13, 64, 250]
    settings = ["loud"] if args.quick else ["loud", "kantts-init"]
    report: dict[str, Any] = {"cpu": cpu_name(), "torch": torch.__version__,
                              "onnxruntime": ort.__version__, "vocoder": []}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="verify_kantts_hifigan_") as tmp:
        for name in ("hifigan_v1_16k", "hifigan_v1_24k", "hifigan_noncausal_v1_16k"):
            for setting in settings:
                row = check_vocoder(name, setting, copy.copy(lengths), Path(tmp))
                report["vocoder"].append(row)
                print(json.dumps(row), flush=True)
        report["our_voice"] = check_our_voice(Path(tmp))
        print(json.dumps(report["our_voice"]), flush=True)
    report["units"] = check_units(20)
    print(json.dumps(report["units"], ensure_ascii=False), flush=True)
    worst = max(r["max_abs_diff_onnx_padded_batch"] for r in report["vocoder"])
    worst = max(worst, max(r["max_abs_diff_onnx_alone"] for r in report["vocoder"]))
    ok = (
        worst <= 1e-3
        and report["our_voice"]["tiny_voice_vocoder_max_abs_diff"] <= 1e-3
        and not report["units"]["ids_mismatched_sentences"]
        and report["units"]["tables_equal"]
        and report["units"]["unit_sizes_equal"]
    )
    report["ok"] = ok
    if args.out:
        args.out.write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    print(f"cpu: {report['cpu']}; worst vocoder audio diff {worst:.2e}; ok={ok}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
