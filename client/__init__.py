"""Command-line client and examples for the Mandarin TTS service (frontend or Triton directly)."""
