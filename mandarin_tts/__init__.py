"""Mandarin TTS serving stack: text frontend -> acoustic model -> HiFi-GAN vocoder on Triton."""
