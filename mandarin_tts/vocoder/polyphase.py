"""A ConvTranspose1d rewritten as one ordinary Conv1d plus a phase interleave.

onnxruntime's CPU provider has no int8 ConvTranspose kernel, but it runs Conv as int8.
A transposed conv with stride r is r ordinary convs on the input, one per output phase
(output step n = q * r + phase takes the taps k = phase + j * r applied to input q - j).
Stacking the r phase kernels as r * C_out output channels gives one Conv1d; interleaving
its phase channels along time and cropping gives exactly the ConvTranspose1d output.

Every size below is derived from the layer's constants, never from a tensor's shape, so
an ONNX export (torch.onnx.export, dynamo=False) keeps the time axis dynamic.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


@dataclass(frozen=True)
class PolyphaseGeometry:
    """Padding and cropping that make the phase conv reproduce a transposed conv."""

    stride: int
    kernel: int
    padding: int
    output_padding: int

    def __post_init__(self) -> None:
        if self.stride < 1 or self.kernel < 1 or self.padding < 0 or self.output_padding < 0:
            raise ValueError(f"invalid transposed-conv geometry: {self}")

    @property
    def taps(self) -> int:
        """Taps per phase kernel: the kernel split into stride-sized pieces."""
        return _ceil_div(self.kernel, self.stride)

    @property
    def skipped_steps(self) -> int:
        """Whole input steps of the full output that the padding crops anyway."""
        return min(self.padding // self.stride, self.taps - 1)

    @property
    def left_pad(self) -> int:
        return self.taps - 1 - self.skipped_steps

    @property
    def right_pad(self) -> int:
        # Enough steps to cover the last output sample, output_padding included.
        needed = _ceil_div(self.kernel - self.padding + self.output_padding, self.stride) - 1
        return max(needed, 0)

    @property
    def crop_start(self) -> int:
        """Interleaved samples to drop at the start."""
        return self.padding - self.skipped_steps * self.stride

    @property
    def crop_end(self) -> int:
        """Interleaved samples to drop at the end (constant for every input length)."""
        return (self.right_pad + 1) * self.stride + self.padding - self.kernel - self.output_padding

    def output_length(self, input_length: int) -> int:
        """The ConvTranspose1d output length for `input_length` input steps."""
        return (
            (input_length - 1) * self.stride - 2 * self.padding + self.kernel + self.output_padding
        )


def phase_weight(weight: torch.Tensor, stride: int) -> torch.Tensor:
    """ConvTranspose1d weight [C_in, C_out, K] -> Conv1d weight [C_out * r, C_in, J].

    Output channel o * r + phase holds, for tap j of the conv (a correlation), the
    transposed-conv tap phase + (J - 1 - j) * r; taps beyond K are zero.
    """
    c_in, c_out, kernel = weight.shape
    taps = _ceil_div(kernel, stride)
    padded = F.pad(weight, (0, taps * stride - kernel))
    by_phase = padded.reshape(c_in, c_out, taps, stride).flip(2)
    return by_phase.permute(1, 3, 0, 2).reshape(c_out * stride, c_in, taps)


class PolyphaseUpsample(nn.Module):
    """Exactly nn.ConvTranspose1d(groups=1, dilation=1) computed with one nn.Conv1d."""

    def __init__(
        self, in_channels: int, out_channels: int, geometry: PolyphaseGeometry, bias: bool = True
    ) -> None:
        super().__init__()
        self.out_channels = out_channels
        self.geometry = geometry
        symmetric = geometry.left_pad == geometry.right_pad
        # Symmetric padding stays inside the conv (one ONNX node); otherwise an explicit pad.
        self.pre_pad = None if symmetric else (geometry.left_pad, geometry.right_pad)
        self.conv = nn.Conv1d(
            in_channels,
            out_channels * geometry.stride,
            geometry.taps,
            padding=geometry.left_pad if symmetric else 0,
            bias=bias,
        )

    @classmethod
    def from_conv_transpose(cls, layer: nn.ConvTranspose1d) -> PolyphaseUpsample:
        if layer.groups != 1 or layer.dilation != (1,):
            raise ValueError("only groups=1, dilation=1 transposed convs are supported")
        if layer.padding_mode != "zeros" or not isinstance(layer.padding, tuple):
            raise ValueError("only explicit zero padding is supported")
        geometry = PolyphaseGeometry(
            stride=layer.stride[0],
            kernel=layer.kernel_size[0],
            padding=layer.padding[0],
            output_padding=layer.output_padding[0],
        )
        module = cls(layer.in_channels, layer.out_channels, geometry, bias=layer.bias is not None)
        with torch.no_grad():
            module.conv.weight.copy_(phase_weight(layer.weight, geometry.stride))
            if layer.bias is not None and module.conv.bias is not None:
                module.conv.bias.copy_(layer.bias.repeat_interleave(geometry.stride))
        return module.to(layer.weight.device, layer.weight.dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g = self.geometry
        if self.pre_pad is not None:
            x = F.pad(x, self.pre_pad)
        phases = self.conv(x)  # [B, C_out * r, Q]
        # [B, C_out, r, Q] -> [B, C_out, Q, r] -> [B, C_out, Q * r]: the phases interleave.
        y = phases.unflatten(1, (self.out_channels, g.stride)).transpose(2, 3).flatten(2)
        end = -g.crop_end if g.crop_end > 0 else None
        return y[:, :, g.crop_start : end]
