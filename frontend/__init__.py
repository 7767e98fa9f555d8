"""HTTP frontend for the Mandarin TTS service: chunking, batched fan-out to Triton, assembly."""
