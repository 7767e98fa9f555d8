"""The common single-process deployment: one Flask process; each request runs the same
ONNX pipeline in a thread pool, one request at a time per worker, no batching.

`python -m benchmarks.system.flask_app --port P [--workers 2] [--threads 1]`
POST /synthesize {"text": ...} -> raw float32 16 kHz audio.
"""

from __future__ import annotations

import argparse
from concurrent.futures import ThreadPoolExecutor

from flask import Flask, Response, request


def create_app(workers: int, threads: int) -> Flask:
    from benchmarks._synthesis import served_pipeline

    pipeline = served_pipeline(threads)  # the same files Triton serves
    pool = ThreadPoolExecutor(max_workers=workers)
    app = Flask(__name__)

    @app.get("/health")
    def health() -> str:
        return "ok"

    @app.post("/synthesize")
    def synthesize() -> Response:
        text = str(request.get_json(force=True)["text"])
        audio = pool.submit(pipeline.synthesize, text).result()
        return Response(audio.tobytes(), mimetype="application/octet-stream")

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=2, help="thread pool size")
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime threads per op")
    args = parser.parse_args(argv)
    create_app(args.workers, args.threads).run("127.0.0.1", args.port, threaded=True)


if __name__ == "__main__":
    main()
