"""ModelScope / KAN-TTS Sambert-HiFiGAN voice folder -> an installed voice.

The folder is validated (layout, configs, supported variant, checkpoint keys and shapes)
before anything is written; the ONNX files, unit tables and manifest are written into a
staging folder beside the target, checked by one synthesis, then moved into place in one
rename. A failure at any point leaves nothing half-installed.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from mandarin_tts.build.sources import sha256_of
from mandarin_tts.pipeline.sambert import SAMBERT_ROLES
from mandarin_tts.voices.kantts_frontend import UNIT_TABLES_ROLE, public_emotion
from mandarin_tts.voices.manifest import (
    FAMILY_SAMBERT,
    FRONTEND_KANTTS,
    MANIFEST_FILE,
    VOICE_NAME,
    VoiceManifest,
    load_manifest,
    write_manifest,
)

UNIT_TABLES_FILE = "unit_tables.json"
VOCODER_FILE = "vocoder.onnx"
UNKNOWN_LICENCE = (
    "not stated in the voice folder: check the licence on the voice's model card before "
    "deploying it (ModelScope's damo Sambert-HiFiGAN voices state theirs there)"
)
SMOKE_TEXT = "您好。"
PREFERRED_DEFAULT_EMOTION = "neutral"


class VoiceImportError(ValueError):
    """The folder cannot be imported; the message names the file and the problem."""


def _licence_from_folder(root: Path) -> str | None:
    """The `license:` of a ModelScope README's front matter, if the folder has one."""
    for candidate in (
        root / "README.md",
        root.parent / "README.md",
        root.parent.parent / "README.md",
    ):
        if not candidate.is_file():
            continue
        text = candidate.read_text(encoding="utf-8", errors="replace")
        front = re.match(r"^---\n(.*?)\n---", text, re.S)
        if front:
            found = re.search(r"^licen[cs]e:\s*(.+)$", front.group(1), re.M | re.I)
            if found:
                return f"{found.group(1).strip()} (from {candidate})"
    return None


def _emotions(table: tuple[str, ...], only: tuple[str, ...] | None) -> tuple[str, ...]:
    """The emotions requests may choose: KAN-TTS's table without its unused placeholder
    slots and its `none` label (ttsfrd marks unlabelled speech `neutral`), or the subset
    the voice was trained with (`only`, from its model card; `none` may be named there)."""
    available = tuple(
        public_emotion(e) for e in table if not re.fullmatch(r"(emotion_)?placeholder\d+", e)
    )
    available = tuple(e for e in available if e not in ("_", "~", "@[MASK]"))
    if only is None:
        return tuple(e for e in available if e != "none")
    unknown = [e for e in only if e not in available]
    if unknown:
        raise VoiceImportError(
            f"--emotions names {unknown}, which the voice's tables lack; they have: "
            f"{', '.join(available)}"
        )
    return tuple(only)


def import_voice(
    voice_dir: Path,
    out_dir: Path,
    name: str | None = None,
    licence: str | None = None,
    voice: str | None = None,
    smoke_test: bool = True,
    only_emotions: tuple[str, ...] | None = None,
) -> VoiceManifest:
    """Import `voice_dir` as the installed voice `out_dir` (its folder name is the voice's
    name unless `name` is given). `voice` picks one voice of a ModelScope model folder."""
    from mandarin_tts.kantts.errors import KanttsError
    from mandarin_tts.kantts.hifigan import load_hifigan
    from mandarin_tts.kantts.hifigan_onnx import export_hifigan_onnx
    from mandarin_tts.kantts.voice_folder import read_voice_folder
    from mandarin_tts.sambert.checkpoint import SambertCheckpointError, load_model
    from mandarin_tts.sambert.config import SambertConfigError, load_config
    from mandarin_tts.sambert.export import export_sambert_onnx

    name = name or out_dir.name
    if not VOICE_NAME.match(name):
        raise VoiceImportError(
            f"voice name {name!r} must match {VOICE_NAME.pattern}; pass --name (lower-case "
            "letters, digits, underscores)"
        )
    if out_dir.exists() and not (out_dir / MANIFEST_FILE).exists() and any(out_dir.iterdir()):
        raise VoiceImportError(f"{out_dir}: exists and is not an installed voice; choose --out")
    try:
        # The checkpoints are read (and checked strictly) once, by the two loaders below.
        folder = read_voice_folder(voice_dir, voice, verify_checkpoints=False)
        config = load_config(folder.am_config_path)
        model = load_model(config, folder.am_checkpoint)
        generator = load_hifigan(folder.voc_config_path, folder.voc_checkpoint)
    except (KanttsError, SambertConfigError, SambertCheckpointError) as exc:
        raise VoiceImportError(str(exc)) from None

    emotions = _emotions(folder.emotions, only_emotions)
    staging = out_dir.parent / f".{out_dir.name}.importing-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        written = export_sambert_onnx(model, staging)
        export_hifigan_onnx(generator, staging / VOCODER_FILE)
        (staging / UNIT_TABLES_FILE).write_text(folder.tables.to_json(), encoding="utf-8")
        by_stem = {path.stem: path.name for path in written.values()}
        files = {role: by_stem[role] for role in SAMBERT_ROLES}
        files |= {"vocoder": VOCODER_FILE, UNIT_TABLES_ROLE: UNIT_TABLES_FILE}
        manifest = VoiceManifest(
            name=name,
            family=FAMILY_SAMBERT,
            text_frontend=FRONTEND_KANTTS,
            sample_rate=folder.sample_rate,
            files=files,
            speakers=folder.speakers,
            emotions=emotions,
            default_speaker=folder.speakers[0],
            default_emotion=(
                PREFERRED_DEFAULT_EMOTION if PREFERRED_DEFAULT_EMOTION in emotions else emotions[0]
            ),
            controls=("speed",),
            licence=licence or _licence_from_folder(folder.root) or UNKNOWN_LICENCE,
            source=f"ModelScope/KAN-TTS Sambert-HiFiGAN voice folder {folder.root.resolve()}",
            description=f"Sambert-HiFiGAN voice imported from {folder.root.name}",
            extra={
                "n_mels": folder.num_mels,
                "hop": folder.hop,
                "am_checkpoint": str(folder.am_checkpoint.resolve()),
                "am_checkpoint_sha256": sha256_of(folder.am_checkpoint),
                "voc_checkpoint": str(folder.voc_checkpoint.resolve()),
                "voc_checkpoint_sha256": sha256_of(folder.voc_checkpoint),
            },
            directory=staging,
        )
        write_manifest(manifest, staging)
        if smoke_test:
            _smoke(staging)
        _install(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return load_manifest(out_dir)


def _smoke(folder: Path) -> None:
    """One synthesis through the installed files: fails the import if they cannot run."""
    import numpy as np

    from mandarin_tts.pipeline import VoicePipeline

    manifest = load_manifest(folder)
    audio = VoicePipeline.load(manifest).synthesize(SMOKE_TEXT)
    if audio.ndim != 1 or not np.isfinite(audio).all():
        raise VoiceImportError(f"{folder}: the exported voice produced invalid audio")


def _install(staging: Path, out_dir: Path) -> None:
    """Move `staging` to `out_dir`, replacing an installed voice there in one rename."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    if out_dir.exists():
        old = out_dir.parent / f".{out_dir.name}.replaced-{os.getpid()}"
        out_dir.rename(old)
        try:
            staging.rename(out_dir)
        except OSError:
            old.rename(out_dir)
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        staging.rename(out_dir)
