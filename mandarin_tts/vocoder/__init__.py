"""HiFi-GAN vocoder (16 kHz) with a learned bridge from the acoustic model's mel space."""
