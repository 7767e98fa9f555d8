"""The generator part of a KAN-TTS HiFi-GAN `voc/config.yaml`, parsed and validated (no torch).

Supported: the plain HiFi-GAN v1 configs (kantts/configs/hifigan_v1_{8k,16k,24k,48k}.yaml,
hifigan_noncausal_v1_16k.yaml). Variants we do not implement (NSF, multi-band/PQMF,
other activations, unknown params) raise KanttsVocoderConfigError naming file and variant.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mandarin_tts.kantts.errors import KanttsVocoderConfigError
from mandarin_tts.voice_files import kantts_model_params, read_document

# Generator params KAN-TTS's Generator accepts; anything else is a variant we do not know.
_KNOWN_PARAMS = frozenset(
    {
        "in_channels", "out_channels", "channels", "kernel_size", "upsample_scales",
        "upsample_kernal_sizes", "resblock_kernel_sizes", "resblock_dilations",
        "repeat_upsample", "bias", "causal", "nonlinear_activation",
        "nonlinear_activation_params", "use_weight_norm", "nsf_params",
    }
)  # fmt: skip


@dataclass(frozen=True)
class HifiganConfig:
    """The generator part of a KAN-TTS vocoder config.yaml (Model.Generator.params)."""

    num_mels: int = 80
    channels: int = 256
    kernel_size: int = 7
    upsample_scales: tuple[int, ...] = (10, 5, 2, 2)
    upsample_kernel_sizes: tuple[int, ...] = (20, 10, 4, 4)
    resblock_kernel_sizes: tuple[int, ...] = (3, 7, 11)
    resblock_dilations: tuple[tuple[int, ...], ...] = ((1, 3, 5, 7),) * 3
    causal: bool = True
    negative_slope: float = 0.1
    sampling_rate: int | None = None  # from the config's audio_config / mel_loss when present
    source: str = field(default="<config>", compare=False)

    @property
    def hop(self) -> int:
        return math.prod(self.upsample_scales)


def _fail(source: str, problem: str) -> KanttsVocoderConfigError:
    return KanttsVocoderConfigError(f"{source}: {problem}")


def _int_list(value: Any, name: str, source: str) -> tuple[int, ...]:
    if not isinstance(value, list | tuple) or not all(
        isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value
    ):
        raise _fail(
            source, f"Generator param {name} must be a list of positive ints, got {value!r}"
        )
    return tuple(value)


def _sampling_rate(data: Mapping[str, Any]) -> int | None:
    audio = data.get("audio_config")
    if isinstance(audio, Mapping) and isinstance(audio.get("sampling_rate"), int):
        return int(audio["sampling_rate"])
    loss = data.get("Loss")
    if isinstance(loss, Mapping):
        mel_loss = loss.get("mel_loss")
        if isinstance(mel_loss, Mapping) and isinstance(mel_loss.get("params"), Mapping):
            fs = mel_loss["params"].get("fs")
            if isinstance(fs, int):
                return fs
    return None


def parse_hifigan_config(data: Any, source: str = "<config>") -> HifiganConfig:
    """Validate a parsed voc config.yaml; unsupported variants raise, naming the variant."""
    params = kantts_model_params(data, "hifigan", "Generator", lambda m: _fail(source, m))
    unknown = sorted(set(params) - _KNOWN_PARAMS)
    if unknown:
        raise _fail(source, f"unknown Generator params {unknown}: an unsupported variant")
    nsf = params.get("nsf_params")
    if nsf is not None:
        norm = nsf.get("nsf_norm_type", "mean_std") if isinstance(nsf, Mapping) else "?"
        raise _fail(
            source,
            f"NSF HiFi-GAN (nsf_params set, f0 norm {norm!r}: mel + f0 + voicing input, "
            "hifigan_*nsf*.yaml) is not supported; use a plain hifigan_v1_*.yaml voice",
        )
    out_channels = params.get("out_channels", 1)
    if out_channels != 1:
        raise _fail(
            source,
            f"multi-band HiFi-GAN (out_channels={out_channels}, PQMF synthesis) is not supported",
        )
    activation = params.get("nonlinear_activation", "LeakyReLU")
    if activation != "LeakyReLU":
        raise _fail(source, f"nonlinear_activation {activation!r} is not supported (LeakyReLU)")
    if not params.get("repeat_upsample", True):
        raise _fail(source, "repeat_upsample: false is not supported (KAN-TTS needs it as well)")
    act_params = params.get("nonlinear_activation_params") or {}
    slope = act_params.get("negative_slope", 0.01) if isinstance(act_params, Mapping) else None
    if not isinstance(slope, int | float):
        raise _fail(source, f"bad nonlinear_activation_params {act_params!r}")
    scales = _int_list(params.get("upsample_scales", [8, 8, 2, 2]), "upsample_scales", source)
    kernels = _int_list(
        params.get("upsample_kernal_sizes", [16, 16, 4, 4]), "upsample_kernal_sizes", source
    )
    res_kernels = _int_list(
        params.get("resblock_kernel_sizes", [3, 7, 11]), "resblock_kernel_sizes", source
    )
    raw_dilations = params.get("resblock_dilations", [[1, 3, 5]] * 3)
    if not isinstance(raw_dilations, list | tuple):
        raise _fail(source, f"resblock_dilations must be a list of lists, got {raw_dilations!r}")
    dilations = tuple(_int_list(d, "resblock_dilations", source) for d in raw_dilations)
    causal = bool(params.get("causal", True))
    kernel_size = params.get("kernel_size", 7)
    channels = params.get("channels", 512)
    num_mels = params.get("in_channels", 80)
    for name, value in (("kernel_size", kernel_size), ("channels", channels),
                        ("in_channels", num_mels)):  # fmt: skip
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise _fail(source, f"Generator param {name} must be a positive int, got {value!r}")
    if kernel_size % 2 == 0 or any(k % 2 == 0 for k in res_kernels):
        raise _fail(source, "kernel_size and resblock_kernel_sizes must be odd")
    if len(scales) != len(kernels) or len(dilations) != len(res_kernels):
        raise _fail(
            source,
            "upsample_scales / upsample_kernal_sizes and resblock_kernel_sizes / "
            "resblock_dilations must have equal lengths",
        )
    if channels % (2 ** len(scales)) != 0:
        raise _fail(source, f"channels {channels} must halve {len(scales)} times")
    for scale, kernel in zip(scales, kernels, strict=True):
        # Causal stages crop kernel - scale samples (KAN-TTS returns nothing when that is 0).
        if kernel < scale or (causal and kernel == scale):
            raise _fail(source, f"upsample kernel {kernel} too small for scale {scale}")
    return HifiganConfig(
        num_mels=num_mels,
        channels=channels,
        kernel_size=kernel_size,
        upsample_scales=scales,
        upsample_kernel_sizes=kernels,
        resblock_kernel_sizes=res_kernels,
        resblock_dilations=dilations,
        causal=causal,
        negative_slope=float(slope),
        sampling_rate=_sampling_rate(data),
        source=source,
    )


def load_hifigan_config(path: Path) -> HifiganConfig:
    path = Path(path)
    data = read_document(path, KanttsVocoderConfigError, "vocoder config")
    return parse_hifigan_config(data, str(path))
