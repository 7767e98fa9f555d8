"""Sambert (ModelScope / KAN-TTS `KanTtsSAMBERT`) acoustic model: our PyTorch implementation
that loads KAN-TTS checkpoints, its batched ONNX export and a numpy/onnxruntime runner.

Serving code imports `runner`, `framing` and `tensors` (no torch); `model`, `checkpoint`,
`export` and `random_checkpoint` need torch. See docs/sambert.md.
"""
