"""The full-size random-weight Sambert-HiFiGAN voices the voice-cost benchmark measures.

KAN-TTS's sambert_16k / sambert_24k + hifigan_v1_16k / hifigan_v1_24k sizes, written from
our own config dataclasses (CI has no KAN-TTS checkout) by `mandarin_tts.kantts.tiny_voice`
and imported once with `mandarin_tts.voices.importer` into .cache/bench/voices/<name>. A
stamp beside each folder records the spec and the exporting code it was built from; a
change of either rebuilds it.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mandarin_tts.paths import CACHE_DIR
from mandarin_tts.sambert.config import KANTTS_SAMBERT_16K_PARAMS

BENCH_VOICES_DIR = CACHE_DIR / "bench" / "voices"
# Raised so that random weights give realistic lengths: the duration predictor outputs
# log(1 + frames per unit); with bias b a unit gets about e^b - 1 frames (the random
# weights spread it). A syllable is ~2 units plus prosody marks; tuned on the eval sentences
# to about the bundled voice's audio seconds per character (docs/bench.md).
DUR_BIAS_16K = math.log(9.0)  # 12.5 ms frames (hop 200)
DUR_BIAS_24K = math.log(11.0)  # 10 ms frames (hop 240)

# KAN-TTS's kantts/configs/sambert_16k.yaml (sambert_24k.yaml has the same model), as the
# whole am config document a trained voice carries.
SAMBERT_AM_DOCUMENT: dict[str, Any] = {
    "model_type": "sambert",
    "Model": {"KanTtsSAMBERT": {"params": KANTTS_SAMBERT_16K_PARAMS}},
    "linguistic_unit": {
        "cleaners": "english_cleaners",
        "lfeat_type_list": "sy,tone,syllable_flag,word_segment,emo_category,speaker_category",
        "speaker_list": "F7",
    },
}


def hifigan_v1_params(sample_rate: int) -> dict[str, Any]:
    """KAN-TTS's hifigan_v1_16k / hifigan_v1_24k generator sizes (both causal)."""
    from mandarin_tts.kantts.tiny_voice import DEFAULT_VOC_PARAMS  # = hifigan_v1_16k

    params = copy.deepcopy(DEFAULT_VOC_PARAMS)
    if sample_rate == 24000:
        params.update(
            channels=512,
            upsample_scales=[8, 5, 3, 2],
            upsample_kernal_sizes=[16, 10, 6, 4],
            resblock_dilations=[[1, 3, 5]] * 3,
        )
    elif sample_rate != 16000:
        raise ValueError(f"no hifigan_v1 sizes for {sample_rate} Hz")
    return params


# The code that writes and exports the cached voices.
BUILD_CODE = (
    "mandarin_tts/sambert/model.py",
    "mandarin_tts/sambert/export.py",
    "mandarin_tts/sambert/tensors.py",
    "mandarin_tts/sambert/random_checkpoint.py",
    "mandarin_tts/kantts/hifigan.py",
    "mandarin_tts/kantts/hifigan_onnx.py",
    "mandarin_tts/kantts/tiny_voice.py",
)


def _code_digest() -> str:
    from mandarin_tts.paths import PROJECT_ROOT

    digest = hashlib.sha256()
    for name in BUILD_CODE:
        path = PROJECT_ROOT / name
        digest.update(name.encode() + (path.read_bytes() if path.exists() else b"absent"))
    return digest.hexdigest()


@dataclass(frozen=True)
class SambertSpec:
    """A full-size random-weight Sambert-HiFiGAN voice to build once and cache."""

    name: str  # the installed voice's name (folder under BENCH_VOICES_DIR)
    label: str
    sample_rate: int
    dur_bias: float
    seed: int = 0

    def digest(self) -> str:
        """Changes when anything that shapes the built voice changes, the exporters' code
        included (a voice exported by older code may not run on the current runner)."""
        payload = {
            "code": _code_digest(),
            "spec": {k: v for k, v in asdict(self).items() if k != "label"},
            "am": SAMBERT_AM_DOCUMENT,
            "voc": hifigan_v1_params(self.sample_rate),
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


SAMBERT_16K = SambertSpec("bench_sambert_16k", "Sambert-HiFiGAN 16k (random)", 16000, DUR_BIAS_16K)
SAMBERT_24K = SambertSpec("bench_sambert_24k", "Sambert-HiFiGAN 24k (random)", 24000, DUR_BIAS_24K)
STAMP_FILE = "bench_spec.txt"


def write_source_voice(spec: SambertSpec, out: Path, full: bool = True) -> Path:
    """A KAN-TTS voice folder for `spec` (tiny sizes when not `full`, for tests)."""
    import yaml

    from mandarin_tts.kantts.tiny_voice import write_random_voice

    am_yaml, voc_yaml = out.parent / f"{out.name}.am.yaml", out.parent / f"{out.name}.voc.yaml"
    out.parent.mkdir(parents=True, exist_ok=True)
    am_doc = SAMBERT_AM_DOCUMENT
    generator = {"params": hifigan_v1_params(spec.sample_rate)}
    voc_doc = {"model_type": "hifigan", "Model": {"Generator": generator}}
    am_yaml.write_text(yaml.dump(am_doc, sort_keys=False), "utf-8")
    voc_yaml.write_text(yaml.dump(voc_doc, sort_keys=False), "utf-8")
    try:
        return write_random_voice(
            out,
            am_yaml,
            voc_yaml,
            tiny=not full,
            seed=spec.seed,
            sample_rate=spec.sample_rate,
            dur_bias=spec.dur_bias,
        )
    finally:
        am_yaml.unlink(missing_ok=True)
        voc_yaml.unlink(missing_ok=True)


def ensure_voice(spec: SambertSpec, root: Path = BENCH_VOICES_DIR, full: bool = True) -> Path:
    """The installed voice folder for `spec`, built (random weights, then imported) only when
    absent or built from another spec. Returns the folder."""
    from mandarin_tts.voices.importer import import_voice

    folder = root / spec.name
    stamp = f"{spec.digest()} full={full}"
    stamp_file = root / f"{spec.name}.{STAMP_FILE}"
    built = (folder / "voice.json").exists() and stamp_file.exists()
    if built and stamp_file.read_text().strip() == stamp:
        return folder
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=root, prefix=f".{spec.name}.src-") as tmp:
        source = write_source_voice(spec, Path(tmp) / "voice", full)
        import_voice(source, folder, name=spec.name, licence="random weights (benchmark only)")
    stamp_file.write_text(stamp + "\n")
    return folder
