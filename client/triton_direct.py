"""Synthesis straight from a voice's Triton ensemble over HTTP or gRPC (no frontend).

Long text is chunked and assembled with the frontend's own modules, so the result matches
what the service returns; chunks are sent one after another (the frontend fans them out).
The voice's manifest, where this machine has it (the same folders the frontend reads),
gives its defaults and its text frontend for sizing the chunks; without it the chunks are
sized by characters and the audio's rate is the SAMPLE_RATE that Triton returns."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from client.progress import ProgressBar
from frontend.assembly import Assembler, apply_volume
from frontend.chunking import split_text
from frontend.config import FrontendConfig
from frontend.encoding import AudioFormat, encode
from frontend.voices import VoiceCatalogue, VoiceChoice
from mandarin_tts.serving.tts_inputs import build_inputs, result_audio
from mandarin_tts.voices.registry import ensemble_name

Infer = Callable[[str, float], tuple[np.ndarray, int]]


def _infer_fn(
    protocol: str, url: str, model: str, speaker: str | None, emotion: str | None
) -> Infer:
    if protocol == "grpc":
        import tritonclient.grpc as tc
    elif protocol == "http":
        import tritonclient.http as tc
    else:
        raise ValueError(f"protocol must be http or grpc, not {protocol!r}")
    client = tc.InferenceServerClient(url)

    def infer(text: str, speed: float) -> tuple[np.ndarray, int]:
        inputs = build_inputs(tc, text, speed, speaker=speaker, emotion=emotion)
        return result_audio(client.infer(model, inputs))

    return infer


def _local_choice(
    voice: str | None, speaker: str | None, emotion: str | None
) -> VoiceChoice | None:
    """The voice as this machine's manifests describe it (None if they do not have it)."""
    catalogue = VoiceCatalogue.load()
    if voice is not None and voice not in catalogue.voices:
        return None
    manifest = catalogue.manifest(voice)
    # Same checks (and messages) as the frontend's.
    choice, _ = catalogue.choose(manifest, speaker, emotion, catalogue.default_params())
    return choice


def synthesize(
    text: str,
    url: str,
    protocol: str = "grpc",
    *,
    speed: float = 1.0,
    audio_format: str = "wav",
    sample_rate: int | None = None,
    voice: str | None = None,
    speaker: str | None = None,
    emotion: str | None = None,
    model: str | None = None,
    show_progress: bool = False,
) -> bytes:
    """`model` overrides the ensemble (default: `ensemble_name(voice)`); `sample_rate` None =
    the format's default for the voice (as the frontend delivers it)."""
    choice = _local_choice(voice, speaker, emotion)
    name = choice.name if choice is not None else str(voice)
    defaults = FrontendConfig()  # chunk exactly as the frontend does
    measured = VoiceCatalogue({name: choice.manifest}).measure(choice) if choice else None
    measure, max_units = measured if measured is not None else (None, 0)
    chunks = split_text(
        text,
        defaults.chunk_max_chars,
        defaults.first_chunk_max_chars,
        measure=measure,
        max_units=max_units,
    )
    if not chunks:
        raise ValueError("the text has nothing to speak")
    if choice is not None:  # the voice's defaults need not be sent (the ensemble's are the same)
        speaker = None if choice.speaker == choice.manifest.default_speaker else choice.speaker
        emotion = None if choice.emotion == choice.manifest.default_emotion else choice.emotion
    infer = _infer_fn(protocol, url, model or ensemble_name(name), speaker, emotion)
    bar = ProgressBar(len(chunks), f"{protocol} chunks", enabled=show_progress)
    pieces = []
    rate = choice.sample_rate if choice else 0
    assembler: Assembler | None = None
    for index, chunk in enumerate(chunks):
        audio, returned_rate = infer(chunk.text, speed)
        if rate and returned_rate != rate:
            raise RuntimeError(
                f"the server returned {returned_rate} Hz audio for voice {name!r}, whose "
                f"manifest says {rate} Hz"
            )
        rate = returned_rate
        assembler = assembler or Assembler(rate, speed)
        pieces.append(assembler.piece(audio, chunk.pause_after, index == len(chunks) - 1))
        bar.update(index + 1)
    bar.finish()
    audio = apply_volume(np.concatenate(pieces), 1.0)
    return encode(audio, rate, AudioFormat(audio_format), sample_rate)
