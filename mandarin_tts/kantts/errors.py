"""Errors of the KAN-TTS (ModelScope Sambert-HiFiGAN) voice support.

Every message names the file it is about and what to change, so an operator can fix a
voice folder without reading code.
"""

from __future__ import annotations


class KanttsError(ValueError):
    """Base class: something about a KAN-TTS voice, config or unit string is unusable."""


class KanttsVocoderConfigError(KanttsError):
    """A vocoder config.yaml describes a variant we do not implement, or is malformed."""


class KanttsCheckpointError(KanttsError):
    """A checkpoint file is missing, unreadable, or does not match its config."""


class KanttsUnitsError(KanttsError):
    """A linguistic-unit string, speaker or emotion is not valid for the voice's tables."""


class VoiceFolderError(KanttsError):
    """A folder is not a usable ModelScope/KAN-TTS voice (the message says which file)."""
