"""Write a complete random-weight voice folder in the exact ModelScope / KAN-TTS layout.

For tests and `make test`: no real Sambert-HiFiGAN weights are reachable, so a voice with
random weights (in KAN-TTS's checkpoint format: weight-norm pairs, optimizer and
scheduler state, "steps") exercises every loader and the whole synthesis path.

    write_random_voice(out_dir, am_yaml=None, voc_yaml=None, speakers=("F7",), tiny=True)

`am_yaml` / `voc_yaml` are KAN-TTS configs (e.g. kantts/configs/sambert_16k.yaml and
hifigan_v1_16k.yaml); their whole document is kept and only the model sizes are shrunk
when `tiny`. Without them the tiny architectures are used (no KAN-TTS files needed). The
acoustic model weights come from mandarin_tts.sambert.random_checkpoint; this is the one
writer of random voice folders.
Run: `python -m mandarin_tts.kantts.tiny_voice OUT_DIR [--am-yaml Y] [--voc-yaml Y]`.
"""

from __future__ import annotations

import argparse
import copy
import math
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
import yaml

from mandarin_tts.kantts.errors import KanttsError
from mandarin_tts.kantts.hifigan import HifiganConfig, KanttsHifiganGenerator, parse_hifigan_config
from mandarin_tts.voice_files import read_document

if TYPE_CHECKING:
    from mandarin_tts.sambert.config import SambertConfig

# The 16 kHz HiFi-GAN of KAN-TTS (hifigan_v1_16k.yaml): causal, hop 10*5*2*2 = 200.
DEFAULT_VOC_PARAMS: dict[str, Any] = {
    "in_channels": 80,
    "out_channels": 1,
    "channels": 256,
    "kernel_size": 7,
    "upsample_scales": [10, 5, 2, 2],
    "upsample_kernal_sizes": [20, 10, 4, 4],
    "resblock_kernel_sizes": [3, 7, 11],
    "resblock_dilations": [[1, 3, 5, 7], [1, 3, 5, 7], [1, 3, 5, 7]],
    "bias": True,
    "causal": True,
    "nonlinear_activation": "LeakyReLU",
    "nonlinear_activation_params": {"negative_slope": 0.1},
    "use_weight_norm": True,
}
TINY_VOC_CHANNELS = 32  # halves once per stage: 32 -> 2 after four stages
TINY_RESBLOCK_KERNELS = [3, 5]
TINY_DILATIONS = [[1, 3], [1, 3]]
# audio_config.yaml values per sampling rate (KAN-TTS's kantts/configs/audio_config_*.yaml).
_AUDIO_BY_RATE = {
    8000: {"win_length": 600, "n_fft": 2048, "fmax": 4000.0},
    16000: {"win_length": 1000, "n_fft": 2048, "fmax": 8000.0},
    24000: {"win_length": 1024, "n_fft": 1024, "fmax": 8000.0},
    48000: {"win_length": 2400, "n_fft": 4096, "fmax": 12000.0},
}


def _read_yaml(path: Path) -> dict[str, Any]:
    data = read_document(Path(path), KanttsError, "KAN-TTS config")
    if not isinstance(data, dict):
        raise KanttsError(f"{path}: not a YAML mapping")
    return data


def audio_config(sample_rate: int, hop: int, n_mels: int) -> dict[str, Any]:
    """An audio_config block as KAN-TTS's audio_config_<rate>.yaml has it."""
    extra = _AUDIO_BY_RATE.get(sample_rate, {"win_length": 4 * hop, "n_fft": 8 * hop,
                                             "fmax": sample_rate / 2})  # fmt: skip
    return {
        "wav_normalize": True,
        "trim_silence": True,
        "trim_silence_threshold_db": 60,
        "preemphasize": False,
        "sampling_rate": sample_rate,
        "hop_length": hop,
        "win_length": extra["win_length"],
        "n_fft": extra["n_fft"],
        "n_mels": n_mels,
        "fmin": 0.0,
        "fmax": extra["fmax"],
        "phone_level_feature": True,
        "norm_type": "mean_std",
        "max_norm": 1.0,
        "symmetric": False,
        "min_level_db": -100.0,
        "ref_level_db": 20,
        "num_workers": 16,
    }


def _voc_document(voc_yaml: Path | None, num_mels: int, tiny: bool) -> dict[str, Any]:
    doc: dict[str, Any] = {"model_type": "hifigan", "Model": {"Generator": {"params": {}}}}
    if voc_yaml is not None:
        doc = copy.deepcopy(_read_yaml(voc_yaml))
    params = doc.setdefault("Model", {}).setdefault("Generator", {}).setdefault("params", {})
    if voc_yaml is None:
        params.update(copy.deepcopy(DEFAULT_VOC_PARAMS))
    params["in_channels"] = num_mels
    if tiny:
        params["channels"] = TINY_VOC_CHANNELS
        params["resblock_kernel_sizes"] = list(TINY_RESBLOCK_KERNELS)
        params["resblock_dilations"] = copy.deepcopy(TINY_DILATIONS)
    return doc


def random_generator_state(config: HifiganConfig, seed: int) -> dict[str, torch.Tensor]:
    """Random weights as a KAN-TTS generator state dict (weight_g / weight_v per conv).

    Magnitudes g in [0.5, 1] per slice keep the signal alive through the stack, so the
    audio is a loud, deterministic noise rather than silence.
    """
    rng = torch.Generator().manual_seed(seed)
    plain = KanttsHifiganGenerator(config).state_dict()
    state: dict[str, torch.Tensor] = {}
    for key, value in plain.items():
        if key.endswith(".weight"):
            prefix = key[: -len(".weight")]
            v = torch.randn(value.shape, generator=rng)
            g_shape = (value.shape[0],) + (1,) * (value.dim() - 1)
            state[f"{prefix}.weight_g"] = 0.5 + 0.5 * torch.rand(g_shape, generator=rng)
            state[f"{prefix}.weight_v"] = v
        else:
            state[key] = 0.05 * torch.randn(value.shape, generator=rng)
    return state


def voc_checkpoint_dict(state: Mapping[str, torch.Tensor], steps: int) -> dict[str, Any]:
    """KAN-TTS's GAN trainer layout, with real Adam and MultiStepLR state (a Counter)."""
    params = [torch.nn.Parameter(v.clone()) for v in state.values()]
    optimizer = torch.optim.Adam(params, lr=2.0e-4, betas=(0.5, 0.9), weight_decay=0.0)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(
        optimizer, milestones=[200000, 400000, 600000, 800000], gamma=0.5
    )
    return {
        "optimizer": {"generator": optimizer.state_dict(), "discriminator": {}},
        "scheduler": {"generator": scheduler.state_dict(), "discriminator": {}},
        "steps": steps,
        "model": {"generator": dict(state), "discriminator": {}},
    }


def _am_document(
    am_yaml: Path | None, am_config: SambertConfig | None, speakers: Sequence[str], tiny: bool
) -> dict[str, Any]:
    from mandarin_tts.sambert.config import tiny_config

    if am_config is not None:  # exactly this architecture (no shrinking)
        doc = am_config.to_yaml_dict()
        doc["linguistic_unit"]["speaker_list"] = ",".join(speakers)
        return doc
    if am_yaml is None:
        if not tiny:
            raise KanttsError("a full-size voice needs am_yaml (a KAN-TTS sambert_*.yaml)")
        doc = tiny_config().to_yaml_dict()
    else:
        doc = copy.deepcopy(_read_yaml(am_yaml))
    params = doc["Model"]["KanTtsSAMBERT"]["params"]
    if tiny:
        tiny_params = tiny_config().to_params()
        for key in ("sy", "tone", "syllable_flag", "word_segment", "emotion", "speaker"):
            tiny_params.pop(key)
        params.update(tiny_params)
    doc["linguistic_unit"]["speaker_list"] = ",".join(speakers)
    return doc


def _dump(doc: Mapping[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.dump(dict(doc), default_flow_style=None, sort_keys=False), "utf-8")


def write_random_voice(
    out_dir: str | Path,
    am_yaml: str | Path | None = None,
    voc_yaml: str | Path | None = None,
    speakers: Sequence[str] = ("F7",),
    tiny: bool = True,
    seed: int = 0,
    am_steps: int = 1000,
    voc_steps: int = 1000,
    sample_rate: int | None = None,
    dur_bias: float = math.log(7.0),
    dur_weight_scale: float = 1.0,
    am_config: SambertConfig | None = None,
) -> Path:
    """Write the voice folder; returns `out_dir`. The configs carry the merged audio_config
    block like the ones KAN-TTS's trainer dumps.

    `am_config` gives the acoustic architecture directly (instead of `am_yaml`); `dur_bias`
    and `dur_weight_scale` shape its random durations (sambert.random_checkpoint)."""
    from mandarin_tts.sambert.config import parse_config
    from mandarin_tts.sambert.random_checkpoint import checkpoint_dict, random_state_dict

    out = Path(out_dir)
    am_doc = _am_document(Path(am_yaml) if am_yaml else None, am_config, list(speakers), tiny)
    am = parse_config(am_doc, source=str(out / "am" / "config.yaml"))
    voc_doc = _voc_document(Path(voc_yaml) if voc_yaml else None, am.num_mels, tiny)
    voc_config = parse_hifigan_config(voc_doc, str(out / "voc" / "config.yaml"))
    rate = sample_rate or voc_config.sampling_rate or 16000
    audio = audio_config(rate, voc_config.hop, am.num_mels)
    am_doc["audio_config"] = audio
    voc_doc["audio_config"] = audio
    _dump({"audio_config": audio}, out / "audio_config.yaml")
    _dump(am_doc, out / "am" / "config.yaml")
    _dump(voc_doc, out / "voc" / "config.yaml")

    am_state = random_state_dict(
        am, seed=seed, dur_bias=dur_bias, dur_weight_scale=dur_weight_scale
    )
    am_ckpt = out / "am" / "ckpt" / f"checkpoint_{am_steps}.pth"
    am_ckpt.parent.mkdir(parents=True, exist_ok=True)
    torch.save(checkpoint_dict(am_state, am_steps), am_ckpt)

    voc_state = random_generator_state(voc_config, seed)
    voc_ckpt = out / "voc" / "ckpt" / f"checkpoint_{voc_steps}.pth"
    voc_ckpt.parent.mkdir(parents=True, exist_ok=True)
    torch.save(voc_checkpoint_dict(voc_state, voc_steps), voc_ckpt)
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--am-yaml", type=Path)
    parser.add_argument("--voc-yaml", type=Path)
    parser.add_argument("--speakers", default="F7", help="comma separated")
    parser.add_argument("--full", action="store_true", help="keep the configs' full sizes")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    out = write_random_voice(
        args.out_dir,
        args.am_yaml,
        args.voc_yaml,
        speakers=[s for s in args.speakers.split(",") if s],
        tiny=not args.full,
        seed=args.seed,
    )
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
