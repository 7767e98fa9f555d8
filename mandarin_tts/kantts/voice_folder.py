"""Reading a ModelScope / KAN-TTS Sambert-HiFiGAN voice folder.

Layout (what ModelScope's models/audio/tts/voice.py reads):

    <voice>/audio_config.yaml          audio_config.sampling_rate, hop_length, n_mels
    <voice>/am/config.yaml             Model.KanTtsSAMBERT.params + linguistic_unit
    <voice>/am/ckpt/checkpoint_N.pth   torch.load(...)["model"] = Sambert state dict
    <voice>/voc/config.yaml            Model.Generator.params (HiFi-GAN)
    <voice>/voc/ckpt/checkpoint_N.pth  torch.load(...)["model"]["generator"]
    <voice>/am/mvn.npy, am/se.npy      NSF f0 statistics / speaker embedding (optional)

The highest N wins. A ModelScope model folder (`voices/voices.json` listing voice names,
each a folder under `voices/`) is accepted too: pick one with `voice=`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mandarin_tts.kantts.errors import KanttsError, VoiceFolderError
from mandarin_tts.kantts.tables import UnitTables
from mandarin_tts.kantts.voc_config import HifiganConfig, parse_hifigan_config
from mandarin_tts.voice_files import newest_checkpoint, read_document


@dataclass(frozen=True)
class VoiceFolder:
    root: Path
    audio_config_path: Path | None  # None: no audio_config.yaml (rates from the configs)
    am_config_path: Path
    am_checkpoint: Path
    voc_config_path: Path
    voc_checkpoint: Path
    mvn_path: Path | None
    se_path: Path | None
    sample_rate: int
    hop: int
    num_mels: int
    tables: UnitTables
    vocoder: HifiganConfig
    am_config: Mapping[str, Any]
    # False for a legacy ModelScope model whose configuration.json says
    # model.am.linguistic_unit.has_mask: false: its embeddings lack the '@[MASK]' row.
    has_mask: bool = True

    def unit_sizes(self) -> dict[str, int]:
        """Embedding rows of the acoustic model, as ModelScope's Voice computes them."""
        return self.tables.unit_sizes(has_mask=self.has_mask)

    @property
    def am_params(self) -> Mapping[str, Any]:
        return self.am_config["Model"]["KanTtsSAMBERT"]["params"]

    @property
    def speakers(self) -> tuple[str, ...]:
        return self.tables.speakers

    @property
    def emotions(self) -> tuple[str, ...]:
        return self.tables.emotions


def _yaml(path: Path, what: str) -> Any:
    data = read_document(path, VoiceFolderError, what)
    if not isinstance(data, Mapping):
        raise VoiceFolderError(f"{path}: {what} is not a YAML mapping")
    return data


def _resolve_voice(root: Path, voice: str | None) -> Path:
    listing = root / "voices" / "voices.json"
    if not listing.is_file():
        if voice is not None:
            raise VoiceFolderError(f"{root}: voice {voice!r} asked for, but no voices/voices.json")
        return root
    try:
        names = json.loads(listing.read_text(encoding="utf-8")).get("voices", [])
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError) as exc:
        raise VoiceFolderError(f"{listing}: not a voices.json ({exc})") from None
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise VoiceFolderError(f"{listing}: 'voices' must list at least one voice name")
    name = names[0] if voice is None else voice
    if name not in names:
        raise VoiceFolderError(f"{listing}: no voice {name!r}; it lists {', '.join(names)}")
    return root / "voices" / name


def _has_mask(root: Path) -> bool:
    """ModelScope's SambertHifigan: ignore_mask = not model.am.linguistic_unit.has_mask."""
    card = root / "configuration.json"
    if not card.is_file():
        return True
    try:
        model = json.loads(card.read_text(encoding="utf-8")).get("model", {})
        unit = model.get("am", {}).get("linguistic_unit", {})
        return bool(unit.get("has_mask", True))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError) as exc:
        raise VoiceFolderError(f"{card}: not a ModelScope configuration.json ({exc})") from None


def _audio_value(configs: list[tuple[Path, Mapping[str, Any]]], key: str) -> int | None:
    """One audio_config value, checked equal across the files that state it."""
    seen: dict[int, Path] = {}
    for path, data in configs:
        audio = data.get("audio_config")
        if isinstance(audio, Mapping) and isinstance(audio.get(key), int):
            seen.setdefault(int(audio[key]), path)
    if len(seen) > 1:
        where = ", ".join(f"{p}: {v}" for v, p in seen.items())
        raise VoiceFolderError(f"audio_config.{key} differs between files ({where})")
    return next(iter(seen), None)


def _check_am_variant(path: Path, params: Mapping[str, Any], voice_dir: Path) -> None:
    if params.get("SE", False):
        raise VoiceFolderError(
            f"{path}: a speaker-embedding voice (SE: true, uses {voice_dir / 'am' / 'se.npy'}) "
            "is not supported"
        )
    if params.get("NSF", False):
        raise VoiceFolderError(
            f"{path}: an NSF voice (NSF: true: mel + f0 + voicing, f0 stats in am/mvn.npy) is "
            "not supported"
        )
    if params.get("using_byte", False):
        raise VoiceFolderError(f"{path}: byte input (using_byte: true) is not supported")


def _verify_checkpoints(am_ckpt: Path, voc_ckpt: Path, vocoder: HifiganConfig) -> None:
    """Both checkpoints load; the vocoder's weights fit its config (needs torch)."""
    from mandarin_tts.kantts.checkpoint import read_checkpoint, state_dict_at
    from mandarin_tts.kantts.hifigan import KanttsHifiganGenerator, load_generator_state

    try:
        state_dict_at(read_checkpoint(am_ckpt), ("model",), am_ckpt)
        voc_state = state_dict_at(read_checkpoint(voc_ckpt), ("model", "generator"), voc_ckpt)
        load_generator_state(KanttsHifiganGenerator(vocoder), voc_state, str(voc_ckpt))
    except KanttsError as exc:
        raise VoiceFolderError(str(exc)) from None


def read_voice_folder(
    path: Path, voice: str | None = None, verify_checkpoints: bool = True
) -> VoiceFolder:
    """Validate a voice folder. `verify_checkpoints` (needs torch) reads both checkpoints
    and checks the vocoder's weights against its config (a second or two at full size);
    without it only the configs and file names are checked (no torch imported)."""
    root = Path(path)
    if not root.is_dir():
        raise VoiceFolderError(f"{root}: not a folder")
    voice_dir = _resolve_voice(root, voice)
    am_config_path = voice_dir / "am" / "config.yaml"
    voc_config_path = voice_dir / "voc" / "config.yaml"
    if not (voice_dir / "am").is_dir() and not (voice_dir / "voc").is_dir():
        raise VoiceFolderError(
            f"{voice_dir}: not a KAN-TTS voice folder (no am/ and voc/ subfolders; expected "
            "audio_config.yaml, am/config.yaml, am/ckpt/, voc/config.yaml, voc/ckpt/)"
        )
    am_config = _yaml(am_config_path, "acoustic model config")
    voc_data = _yaml(voc_config_path, "vocoder config")
    audio_file = voice_dir / "audio_config.yaml"
    audio_path = audio_file if audio_file.exists() else None
    audio_data = _yaml(audio_file, "audio config") if audio_path else None

    model = am_config.get("Model")
    params = model.get("KanTtsSAMBERT", {}).get("params") if isinstance(model, Mapping) else None
    if not isinstance(params, Mapping):
        raise VoiceFolderError(
            f"{am_config_path}: no Model.KanTtsSAMBERT.params (not a Sambert acoustic model)"
        )
    _check_am_variant(am_config_path, params, voice_dir)
    try:
        tables = UnitTables.from_am_config_data(am_config, str(am_config_path))
        vocoder = parse_hifigan_config(voc_data, str(voc_config_path))
    except KanttsError as exc:
        raise VoiceFolderError(str(exc)) from None

    configs = [(am_config_path, am_config), (voc_config_path, voc_data)]
    if audio_data is not None:
        configs.insert(0, (audio_file, audio_data))
    sample_rate = _audio_value(configs, "sampling_rate") or vocoder.sampling_rate
    if sample_rate is None:
        raise VoiceFolderError(
            f"{voice_dir}: no sampling rate (audio_config.yaml's audio_config.sampling_rate)"
        )
    hop = _audio_value(configs, "hop_length")
    if hop is not None and hop != vocoder.hop:
        raise VoiceFolderError(
            f"{voc_config_path}: upsample_scales give hop {vocoder.hop}, audio config says {hop}"
        )
    num_mels = params.get("num_mels", 80)
    if num_mels != vocoder.num_mels:
        raise VoiceFolderError(
            f"{am_config_path}: num_mels {num_mels} differs from the vocoder's in_channels "
            f"{vocoder.num_mels} ({voc_config_path})"
        )
    n_mels = _audio_value(configs, "n_mels")
    if n_mels is not None and n_mels != num_mels:
        raise VoiceFolderError(
            f"{am_config_path}: num_mels {num_mels}, audio config n_mels {n_mels}"
        )

    am_ckpt = newest_checkpoint(voice_dir / "am" / "ckpt", VoiceFolderError)
    voc_ckpt = newest_checkpoint(voice_dir / "voc" / "ckpt", VoiceFolderError)
    if verify_checkpoints:
        _verify_checkpoints(am_ckpt, voc_ckpt, vocoder)

    mvn = voice_dir / "am" / "mvn.npy"
    se = voice_dir / "am" / "se.npy"
    return VoiceFolder(
        root=voice_dir,
        audio_config_path=audio_path,
        am_config_path=am_config_path,
        am_checkpoint=am_ckpt,
        voc_config_path=voc_config_path,
        voc_checkpoint=voc_ckpt,
        mvn_path=mvn if mvn.is_file() else None,
        se_path=se if se.is_file() else None,
        sample_rate=int(sample_rate),
        hop=vocoder.hop,
        num_mels=int(num_mels),
        tables=tables,
        vocoder=vocoder,
        am_config=am_config,
        has_mask=_has_mask(root) if voice_dir != root else True,
    )
