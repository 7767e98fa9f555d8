"""The pipeline's interface, defined once: sample rates, tensor names, dtypes and limits.

Every other module (export, Triton configs, model.py adapters, frontend service, clients)
imports these names instead of repeating string literals.
"""

from __future__ import annotations

# --- Audio -----------------------------------------------------------------------------
OUTPUT_SAMPLE_RATE = 16_000  # what the service returns (HiFi-GAN's native rate)

# Acoustic model (FastSpeech2 trained on Baker) mel space: 24 kHz, hop 300 (12.5 ms).
ACOUSTIC_SAMPLE_RATE = 24_000
ACOUSTIC_HOP = 300
N_MELS = 80

# Vocoder (HiFi-GAN) mel space: 16 kHz, hop 160 (10 ms), n_fft 800, win 640,
# Slaney mel 0..8000 Hz, natural log of magnitude clamped at 1e-5.
VOCODER_HOP = 160
VOCODER_N_FFT = 800
VOCODER_WIN = 640
VOCODER_FMIN = 0.0
VOCODER_FMAX = 8_000.0
VOCODER_LOG_CLAMP = 1e-5

# --- Acoustic ONNX ("Sambert slot": symbol ids -> mel) --------------------------------
# Scales are per item. speed > 1 speaks faster (durations are divided by it);
# pitch and energy multiply the predicted f0 / energy.
AC_IN_IDS = "symbol_ids"  # [B, T] int64, padded with PAD_ID
AC_IN_LENGTHS = "symbol_lengths"  # [B] int64
AC_IN_SPEED = "speed"  # [B] float32
AC_IN_PITCH = "pitch"  # [B] float32
AC_IN_ENERGY = "energy"  # [B] float32
AC_OUT_MEL = "mel"  # [B, T', 80] float32 (normalized log-mel, 24 kHz / 12.5 ms frames)
AC_OUT_MEL_LENGTHS = "mel_lengths"  # [B] int64
AC_OUT_DURATIONS = "durations"  # [B, T] int64 frames per symbol (optional; for alignment)

# --- Sambert acoustic step (KAN-TTS linguistic units -> mel) ------------------------
AC_IN_UNITS = "ling_units"  # [B, T, 4] int64: sy, tone, syllable_flag, word_segment ids
AC_IN_EMOTION_IDS = "emotion_ids"  # [B, T] int64, per unit
AC_IN_SPEAKER_IDS = "speaker_ids"  # [B, T] int64, per unit
UNIT_FEATURES = 4  # the trailing axis of AC_IN_UNITS

# --- Vocoder ONNX (acoustic mel -> 16 kHz audio; the mel bridge is inside) -------------
VOC_IN_MEL = "mel"  # [B, T', 80] float32, acoustic mel space
VOC_IN_MEL_LENGTHS = "mel_lengths"  # [B] int64
VOC_OUT_AUDIO = "audio"  # [B, N] float32 in [-1, 1], 16 kHz
VOC_OUT_AUDIO_LENGTHS = "audio_lengths"  # [B] int64

# Triton-only step tensors (not in the ONNX files).
TF_OUT_DEBUG = "DEBUG"  # text frontend, BYTES [2]: normalized text, units as text
VOC_OUT_SAMPLE_RATE = "sample_rate"  # vocoder, INT32 [1]: the voice's sample rate

# ONNX metadata key. "false" marks a model built without padding masks (faster, but a
# padded batch would leak the padding into its shorter items): serving then batches only
# items of equal length. Absent means padding-safe.
ONNX_META_PAD_SAFE = "pad_safe"

PAD_ID = 0  # 'pad' in baker_mapper.json

# Longest inputs the acoustic model is built for: split text into sentences so that each
# has at most AC_MAX_SYMBOLS symbols. Mel frames beyond AC_MAX_FRAMES (51 s at 12.5 ms)
# reuse the last position encoding and lose quality; the source model knew 2048 positions.
AC_MAX_SYMBOLS = 256
AC_MAX_FRAMES = 4096

# Text frontend: longest raw TEXT (Unicode code points, before normalization) one request
# may carry; the HTTP frontend chunks longer text. The encoded result must also fit in
# AC_MAX_SYMBOLS (about 80 Chinese characters), which the frontend checks as well.
TEXT_MAX_CHARS = 200

# --- Parameter ranges (validated by the text frontend model and the HTTP frontend) -----
SPEED_RANGE = (0.5, 2.0)
PITCH_RANGE = (0.5, 2.0)
ENERGY_RANGE = (0.5, 2.0)

# --- Triton model and tensor names ------------------------------------------------------
MODEL_TEXT_FRONTEND = "text_frontend"
MODEL_ACOUSTIC = "acoustic"
MODEL_VOCODER = "vocoder"
MODEL_ENSEMBLE = "tts"

# Public tensors of the `tts` ensemble.
TTS_IN_TEXT = "TEXT"  # BYTES [1], UTF-8
TTS_IN_SPEED = "SPEED"  # FP32 [1], optional, default 1.0
TTS_IN_PITCH = "PITCH"  # FP32 [1], optional, default 1.0
TTS_IN_ENERGY = "ENERGY"  # FP32 [1], optional, default 1.0
TTS_IN_SPEAKER = "SPEAKER"  # BYTES [1], optional, default: the voice's default speaker
TTS_IN_EMOTION = "EMOTION"  # BYTES [1], optional, default: the voice's default emotion
# BYTES [1], optional: the deployment lexicon file's version the caller saw (text/lexicon.py
# file_version). It makes an edited file a new response-cache key.
TTS_IN_LEXICON_VERSION = "LEXICON_VERSION"
TTS_OUT_AUDIO = "AUDIO"  # FP32 [-1], 16 kHz mono
TTS_OUT_SAMPLE_RATE = "SAMPLE_RATE"  # INT32 [1]
# Optional outputs for timestamps (voices whose acoustic model reports durations: the
# FastSpeech2 family). Clients request them only when they want timings.
TTS_OUT_DURATIONS = "DURATIONS"  # INT32 [-1]: acoustic frames per model input symbol
TTS_OUT_SYMBOL_CHARS = "SYMBOL_CHARS"  # INT32 [-1]: per symbol, index into CHARS or -1
TTS_OUT_CHARS = "CHARS"  # BYTES [-1]: the spoken characters (UTF-8), in order
TTS_OUT_CHAR_PINYIN = "CHAR_PINYIN"  # BYTES [-1]: per character, its toned syllable(s)
# One acoustic frame of the FastSpeech2 family in seconds of output audio (12.5 ms).
AC_FRAME_SECONDS = ACOUSTIC_HOP / ACOUSTIC_SAMPLE_RATE
