"""Audio output: formats and their rates, resampling, G.711, WAV headers, codec encoders.

frontend/encoding.py is the public face (open_encoder, encode); these modules do one job each."""
