"""The physical limit: model FLOPs per second of audio against the CPU's matmul peaks.

FLOPs are counted with `torch.utils.flop_counter.FlopCounterMode` on the PyTorch modules
the ONNX files are exported from (`mandarin_tts.acoustic.export.load_pretrained`,
`mandarin_tts.vocoder.export.build_vocoder_module`), running one real sentence. It counts
matmuls and convolutions (incl. transposed), 2 FLOPs per multiply-add; element-wise ops
are left out, so the figures are a lower bound on the work.

Two peaks: a float32 matmul in torch, and an int8 (uint8 x int8 -> int32) matmul in
onnxruntime's MatMulInteger, the same MLAS integer GEMM family the int8 vocoder's
convolutions run on. A system's share of the peak weighs the acoustic model's work by the
float peak and the vocoder's by the peak of the precision its vocoder file runs.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from mandarin_tts.contract import ACOUSTIC_HOP, ACOUSTIC_SAMPLE_RATE

FLOP_SENTENCE = "今天天气很好，我们一起去公园散步吧。"


def count_flops(run: Callable[[], object]) -> int:
    """FLOPs torch's counter sees while `run()` executes."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    with torch.inference_mode(), FlopCounterMode(display=False) as counter:
        run()
    return int(counter.get_total_flops())


def per_audio_second(
    flops: int, mel_frames: int, hop: int = ACOUSTIC_HOP, rate: int = ACOUSTIC_SAMPLE_RATE
) -> float:
    """FLOPs for `mel_frames` frames -> FLOPs per second of audio."""
    seconds = mel_frames * hop / rate
    return flops / seconds if seconds > 0 else float("nan")


def matmul_flops(n: int) -> int:
    """An n x n by n x n matmul: n^3 multiply-adds."""
    return 2 * n**3


def peak_gflops(n: int = 4096, repeats: int = 5, threads: int = 2) -> float:
    """Best of `repeats` float32 n x n matmuls in torch (oneDNN/MKL), in GFLOP/s.

    torch rather than numpy: numpy's OpenBLAS reached only ~40% of torch's rate here.
    """
    import torch

    torch.set_num_threads(threads)
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(n, n, generator=generator)
    b = torch.randn(n, n, generator=generator)
    a @ b  # warm-up: thread pool and page faults
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return matmul_flops(n) / best / 1e9


def int8_peak_gops(n: int = 2048, repeats: int = 5, threads: int = 2) -> float:
    """Best of `repeats` uint8 x int8 n x n MatMulInteger runs in onnxruntime, in GOP/s
    (2 ops per multiply-add, as for the float peak)."""
    import numpy as np
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("MatMulInteger", ["a", "b"], ["c"])],
        "int8_peak",
        [
            helper.make_tensor_value_info("a", TensorProto.UINT8, [n, n]),
            helper.make_tensor_value_info("b", TensorProto.INT8, [n, n]),
        ],
        [helper.make_tensor_value_info("c", TensorProto.INT32, [n, n])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    session = ort.InferenceSession(
        onnx.shape_inference.infer_shapes(model).SerializeToString(),
        options,
        providers=["CPUExecutionProvider"],
    )
    rng = np.random.default_rng(0)
    feeds = {
        "a": rng.integers(0, 256, (n, n), dtype=np.uint8),
        "b": rng.integers(-128, 128, (n, n), dtype=np.int8),
    }
    session.run(None, feeds)  # warm-up: thread pool, packing buffers
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        session.run(None, feeds)
        best = min(best, time.perf_counter() - start)
    return matmul_flops(n) / best / 1e9


@dataclass(frozen=True)
class PhysicalLimit:
    acoustic_gflop_per_audio_s: float
    vocoder_gflop_per_audio_s: float
    peak_gflops: float  # float32 matmul
    int8_peak_gops: float = math.nan  # uint8 x int8 matmul (nan: not measured)

    @property
    def total_gflop_per_audio_s(self) -> float:
        return self.acoustic_gflop_per_audio_s + self.vocoder_gflop_per_audio_s

    def _vocoder_peak(self, vocoder_int8: bool) -> float:
        return self.int8_peak_gops if vocoder_int8 else self.peak_gflops

    def seconds_per_audio_s(self, vocoder_int8: bool = False) -> float:
        """Compute time per audio second if every multiply-add ran at its precision's peak."""
        return (
            self.acoustic_gflop_per_audio_s / self.peak_gflops
            + self.vocoder_gflop_per_audio_s / self._vocoder_peak(vocoder_int8)
        )

    def max_throughput_for(self, vocoder_int8: bool = False) -> float:
        """Audio seconds per wall second at the peaks, for a float or an int8 vocoder."""
        return 1.0 / self.seconds_per_audio_s(vocoder_int8)

    @property
    def max_throughput(self) -> float:
        """Audio seconds per wall second if every FLOP ran at the float32 matmul peak."""
        return self.max_throughput_for(False)

    def achieved_fraction(self, throughput: float, vocoder_int8: bool = False) -> float:
        """Share of the peak (for the precision the vocoder runs) a throughput uses."""
        return throughput * self.seconds_per_audio_s(vocoder_int8)

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "total_gflop_per_audio_s": self.total_gflop_per_audio_s,
            "max_throughput": self.max_throughput,
            "max_throughput_int8_vocoder": self.max_throughput_for(True),
        }


def measure_physical_limit(threads: int = 2) -> PhysicalLimit:
    import torch

    from benchmarks._synthesis import symbol_ids_function
    from mandarin_tts.acoustic.export import load_pretrained
    from mandarin_tts.vocoder.export import build_vocoder_module

    torch.set_num_threads(threads)
    _, ids_of = symbol_ids_function()
    ids = torch.from_numpy(ids_of(FLOP_SENTENCE))[None]
    one = torch.ones(1)
    acoustic = load_pretrained()
    out: dict[str, Any] = {}

    def run_acoustic() -> None:
        out.update(acoustic(ids, torch.tensor([ids.shape[1]]), one, one, one))

    acoustic_flops = count_flops(run_acoustic)
    mel, frames = out["mel"], int(out["mel_lengths"][0])
    vocoder = build_vocoder_module()
    vocoder_flops = count_flops(lambda: vocoder(mel[:, :frames], torch.tensor([frames])))
    return PhysicalLimit(
        acoustic_gflop_per_audio_s=per_audio_second(acoustic_flops, frames) / 1e9,
        vocoder_gflop_per_audio_s=per_audio_second(vocoder_flops, frames) / 1e9,
        peak_gflops=peak_gflops(threads=threads),
        int8_peak_gops=int8_peak_gops(threads=threads),
    )
