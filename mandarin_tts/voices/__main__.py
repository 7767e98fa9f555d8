"""Voice tools: import a ModelScope/KAN-TTS voice, and run its stages one at a time.

    python -m mandarin_tts.voices import VOICE_DIR --out OUT_DIR [--name NAME] [--licence TEXT]
    python -m mandarin_tts.voices units OUT_DIR --text TEXT [--speaker S] [--emotion E]
    python -m mandarin_tts.voices acoustic OUT_DIR --units-file F --out mel.npy
    python -m mandarin_tts.voices vocoder OUT_DIR --mel mel.npy --out audio.npy
    python -m mandarin_tts.voices list

OUT_DIR is an installed voice's folder; `make serve` serves the voices under
.cache/voices/ (MANDARIN_TTS_VOICES_DIR), each folder named after its voice.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from mandarin_tts.voices.manifest import (
    FAMILY_SAMBERT,
    VoiceManifest,
    VoiceManifestError,
    load_manifest,
)


def _sambert_voice(folder: Path) -> VoiceManifest:
    manifest = load_manifest(folder)
    if manifest.family != FAMILY_SAMBERT:
        raise SystemExit(
            f"{folder}: voice {manifest.name!r} is a {manifest.family} voice; units/acoustic "
            "work on imported Sambert voices"
        )
    return manifest


def cmd_import(args: argparse.Namespace) -> int:
    from mandarin_tts.voices.importer import VoiceImportError, import_voice
    from mandarin_tts.voices.registry import voices_dir

    try:
        only = tuple(e for e in args.emotions.split(",") if e) if args.emotions else None
        manifest = import_voice(
            args.voice_dir, args.out, args.name, args.licence, args.voice, only_emotions=only
        )
    except VoiceImportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"installed voice {manifest.name!r} in {args.out}")
    print(f"  {manifest.sample_rate} Hz; speakers: {', '.join(manifest.speakers)}")
    print(f"  emotions: {', '.join(manifest.emotions)}\n  licence: {manifest.licence}")
    expected = voices_dir() / manifest.name
    if args.out.resolve() != expected.resolve():
        print(
            f"note: `make serve` serves voices from {expected.parent}/<name>; move it to {expected}"
        )
    return 0


def cmd_units(args: argparse.Namespace) -> int:
    from mandarin_tts.voices.kantts_frontend import KanttsTextFrontend
    from mandarin_tts.voices.text_frontends import VoiceInputError, check_choice

    manifest = _sambert_voice(args.voice)
    try:
        speaker = check_choice(manifest, "speaker", args.speaker)
        emotion = check_choice(manifest, "emotion", args.emotion)
        print(KanttsTextFrontend(manifest).encode(args.text, speaker, emotion).phonemes)
    except VoiceInputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def cmd_acoustic(args: argparse.Namespace) -> int:
    from mandarin_tts import contract as c
    from mandarin_tts.kantts.errors import KanttsError
    from mandarin_tts.kantts.tables import UnitTables
    from mandarin_tts.kantts.units import encode_units, parse_units
    from mandarin_tts.pipeline import AcousticRequest
    from mandarin_tts.pipeline.voice_pipeline import load_acoustic
    from mandarin_tts.voices.kantts_frontend import UNIT_TABLES_ROLE

    manifest = _sambert_voice(args.voice)
    path = manifest.path(UNIT_TABLES_ROLE)
    tables = UnitTables.from_json(path.read_text(encoding="utf-8"), source=str(path))
    try:
        text = args.units_file.read_text(encoding="utf-8")
        encoded = encode_units(parse_units(text), tables, True)
    except (OSError, UnicodeDecodeError, KanttsError) as exc:
        print(f"error: {args.units_file}: {exc}", file=sys.stderr)
        return 2
    request = AcousticRequest(
        {
            c.AC_IN_UNITS: encoded.ling,
            c.AC_IN_EMOTION_IDS: encoded.emotion,
            c.AC_IN_SPEAKER_IDS: encoded.speaker,
        },
        speed=args.speed,
    )
    (mel,) = load_acoustic(manifest).run_batch([request])
    return _save(args.out, mel, lambda m: f"mel {m.shape[0]} frames x {m.shape[1]} mels")


def cmd_vocoder(args: argparse.Namespace) -> int:
    from mandarin_tts.pipeline.voice_pipeline import load_vocoder

    manifest = load_manifest(args.voice)
    try:
        mel = np.load(args.mel)
    except (OSError, ValueError) as exc:
        print(f"error: {args.mel}: {exc}", file=sys.stderr)
        return 2
    vocoder = load_vocoder(manifest)
    if mel.ndim != 2 or mel.shape[1] != vocoder.n_mels or mel.shape[0] == 0:
        print(
            f"error: {args.mel}: mel must be [frames, {vocoder.n_mels}], got {list(mel.shape)}",
            file=sys.stderr,
        )
        return 2
    (audio,) = vocoder.run_batch([mel.astype(np.float32)])
    return _save(args.out, audio, lambda a: f"{a.size} samples at {vocoder.sample_rate} Hz")


def _save(out: Path, result: np.ndarray | Exception, describe: Callable[[np.ndarray], str]) -> int:
    """A step's output saved as float32 .npy (and described), or its error printed: the exit
    code."""
    if isinstance(result, Exception):
        print(f"error: {result}", file=sys.stderr)
        return 2
    np.save(out, result.astype(np.float32))
    print(f"{out}: {describe(result)}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from mandarin_tts.voices.registry import installed_voices

    for voice in installed_voices().values():
        print(
            f"{voice.name:16s} {voice.family:12s} {voice.sample_rate} Hz  "
            f"speakers={','.join(voice.speakers)}  emotions={','.join(voice.emotions)}"
        )
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m mandarin_tts.voices",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", required=True)
    imp = sub.add_parser("import", help="ModelScope/KAN-TTS voice folder -> installed voice")
    imp.add_argument("voice_dir", type=Path)
    imp.add_argument("--out", type=Path, required=True, help="the installed voice's folder")
    imp.add_argument("--name", help="voice name (default: the folder name of --out)")
    imp.add_argument("--licence", help="licence to record (default: read from the folder)")
    imp.add_argument("--voice", help="one voice of a ModelScope model folder (voices/voices.json)")
    imp.add_argument(
        "--emotions", help="comma-separated emotions the voice was trained with (its model card)"
    )
    imp.set_defaults(run=cmd_import)
    units = sub.add_parser("units", help="print our KAN-TTS units for a text")
    units.add_argument("voice", type=Path)
    units.add_argument("--text", required=True)
    units.add_argument("--speaker")
    units.add_argument("--emotion")
    units.set_defaults(run=cmd_units)
    ac = sub.add_parser("acoustic", help="units file -> mel.npy (frames x mels, float32)")
    ac.add_argument("voice", type=Path)
    ac.add_argument("--units-file", type=Path, required=True)
    ac.add_argument("--out", type=Path, required=True)
    ac.add_argument("--speed", type=float, default=1.0)
    ac.set_defaults(run=cmd_acoustic)
    voc = sub.add_parser("vocoder", help="mel.npy -> audio.npy (float32 at the voice's rate)")
    voc.add_argument("voice", type=Path)
    voc.add_argument("--mel", type=Path, required=True)
    voc.add_argument("--out", type=Path, required=True)
    voc.set_defaults(run=cmd_vocoder)
    lst = sub.add_parser("list", help="installed voices")
    lst.set_defaults(run=cmd_list)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.run(args))
    except VoiceManifestError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
