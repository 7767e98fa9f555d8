"""ONNX file and tensor names of the exported Sambert, defined once (export, runner, serving).

B items, T units (after framing: without the trailing eos), F frames, N = F / r decoder steps,
L PNCA layers, H heads of dh = decoder_num_units / H, P past window (>= 1, >= the largest band width).
Batch, unit, frame and step axes are dynamic. int64 for ids/lengths/steps, float32 otherwise.
"""

from __future__ import annotations

OPSET = 17
# Longest unit sequence the exported encoder accepts (its position table is this long).
MAX_UNITS = 1024
# Metadata key (ONNX metadata_props, in every file) holding the JSON summary the runner needs.
META_KEY = "sambert_config"

# Files written by export.export_sambert_onnx(model, out_dir).
ENCODER_FILE = "sambert_encoder.onnx"
DURATION_STEP_FILE = "sambert_duration_step.onnx"
REGULATE_FILE = "sambert_regulate.onnx"
DECODER_STEP_FILE = "sambert_decoder_step.onnx"
POSTNET_FILE = "sambert_postnet.onnx"
ALL_FILES = (ENCODER_FILE, DURATION_STEP_FILE, REGULATE_FILE, DECODER_STEP_FILE, POSTNET_FILE)

# sambert_encoder.onnx: text encoder, emotion/speaker embeddings, pitch/energy predictors.
ENC_IN_LING = "ling"  # [B, T, 4] sy, tone, syllable_flag, word_segment ids
ENC_IN_EMOTION = "emotion"  # [B, T]
ENC_IN_SPEAKER = "speaker"  # [B, T]
ENC_IN_UNIT_LENGTHS = "unit_lengths"  # [B]
ENC_OUT_DUR_COND = "dur_cond"  # [B, T, C] duration predictor conditioning
ENC_OUT_TEXT = "text_states"  # [B, T, encoder_projection_units] incl. pitch/energy embeddings
ENC_OUT_EMOTION = "emotion_states"  # [B, T, emotion_units]
ENC_OUT_SPEAKER = "speaker_states"  # [B, T, speaker_units]
ENC_OUT_PITCH = "pitch"  # [B, T] predicted (normalized) pitch per unit, 0 on padding
ENC_OUT_ENERGY = "energy"  # [B, T]
ENC_INPUTS = (ENC_IN_LING, ENC_IN_EMOTION, ENC_IN_SPEAKER, ENC_IN_UNIT_LENGTHS)
ENC_OUTPUTS = (
    ENC_OUT_DUR_COND,
    ENC_OUT_TEXT,
    ENC_OUT_EMOTION,
    ENC_OUT_SPEAKER,
    ENC_OUT_PITCH,
    ENC_OUT_ENERGY,
)

# sambert_duration_step.onnx: one step of the autoregressive LSTM duration predictor.
DUR_IN_PREV = "dur_prev"  # [B, 1] previous step's log(d + 1); zeros at the first unit
DUR_IN_COND = "dur_cond_t"  # [B, C] dur_cond[:, t]
DUR_IN_H = "dur_h"  # [2, B, H] LSTM state; zeros at the first unit
DUR_IN_C = "dur_c"  # [2, B, H]
DUR_OUT_LOG_DUR = "log_dur"  # [B, 1] log(d + 1) of unit t
DUR_OUT_H = "dur_h_out"
DUR_OUT_C = "dur_c_out"
DUR_INPUTS = (DUR_IN_PREV, DUR_IN_COND, DUR_IN_H, DUR_IN_C)
DUR_OUTPUTS = (DUR_OUT_LOG_DUR, DUR_OUT_H, DUR_OUT_C)

# sambert_regulate.onnx: speed, rounding, length regulator, decoder memory and its K/V.
REG_IN_TEXT = ENC_OUT_TEXT
REG_IN_EMOTION = ENC_OUT_EMOTION
REG_IN_SPEAKER = ENC_OUT_SPEAKER
REG_IN_LOG_DUR = "log_durations"  # [B, T] the duration steps' outputs, concatenated
REG_IN_UNIT_LENGTHS = ENC_IN_UNIT_LENGTHS
REG_IN_SPEED = "speed"  # [B] float32 > 0; durations are divided by it before rounding
REG_OUT_MEMORY = "memory"  # [B, N, decoder memory units]
REG_OUT_MEMORY_KV = "memory_kv"  # [L, 2, B, H, N, dh] per layer memory keys (0) / values (1)
REG_OUT_FRAME_LENGTHS = "frame_lengths"  # [B] frames per item
REG_OUT_NUM_STEPS = "num_steps"  # [B] ceil(frame_lengths / r)
REG_OUT_BAND_WIDTH = "band_width"  # [B] PNCA attention band per item
REG_INPUTS = (
    REG_IN_TEXT,
    REG_IN_EMOTION,
    REG_IN_SPEAKER,
    REG_IN_LOG_DUR,
    REG_IN_UNIT_LENGTHS,
    REG_IN_SPEED,
)
REG_OUTPUTS = (
    REG_OUT_MEMORY,
    REG_OUT_MEMORY_KV,
    REG_OUT_FRAME_LENGTHS,
    REG_OUT_NUM_STEPS,
    REG_OUT_BAND_WIDTH,
)

# sambert_decoder_step.onnx: one PNCA decoder step (r frames) for the whole batch.
DEC_IN_STEP = "step"  # [1] int64, 0 .. max(num_steps) - 1
DEC_IN_PREV_FRAME = "prev_frame"  # [B, num_mels] last frame of the previous step; zeros at 0
DEC_IN_MEMORY = REG_OUT_MEMORY  # [B, N, d_mem]
DEC_IN_MEMORY_KV = REG_OUT_MEMORY_KV  # [L, 2, B, H, N + P, dh]: zero-padded by P on axis 4
DEC_IN_PAST_KV = "past_kv"  # [L, 2, B, H, P, dh] self-attention cache; zeros at step 0
DEC_IN_BAND_WIDTH = REG_OUT_BAND_WIDTH
DEC_IN_NUM_STEPS = REG_OUT_NUM_STEPS
DEC_OUT_FRAMES = "frames"  # [B, r * num_mels] this step's r frames
DEC_OUT_PAST_KV = "past_kv_out"  # [L, 2, B, H, P, dh] cache for the next step
DEC_INPUTS = (
    DEC_IN_STEP,
    DEC_IN_PREV_FRAME,
    DEC_IN_MEMORY,
    DEC_IN_MEMORY_KV,
    DEC_IN_PAST_KV,
    DEC_IN_BAND_WIDTH,
    DEC_IN_NUM_STEPS,
)
DEC_OUTPUTS = (DEC_OUT_FRAMES, DEC_OUT_PAST_KV)

# sambert_postnet.onnx
POST_IN_FRAMES = "decoder_frames"  # [B, N * r, num_mels]
POST_IN_FRAME_LENGTHS = REG_OUT_FRAME_LENGTHS
POST_OUT_MEL = "mel"  # [B, N * r, num_mels]; item b's mel is mel[b, :frame_lengths[b]]
POST_INPUTS = (POST_IN_FRAMES, POST_IN_FRAME_LENGTHS)
POST_OUTPUTS = (POST_OUT_MEL,)
