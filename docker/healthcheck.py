"""Container health probes (the images have no curl).

    healthcheck.py url http://127.0.0.1:8080/healthz
    healthcheck.py triton [--port 8000] [--inference] [--timeout 10]

`url` passes on any 2xx answer. `triton` checks /v2/health/ready on the loopback-bound
Triton HTTP port; with `--inference` it also synthesizes a sentence through the `tts`
ensemble (mandarin_tts.serving.probe, the launcher's own probe), because a crashed
Python-backend stub leaves /v2/health/ready at 200 while every inference fails. The
speed is varied a little so Triton's response cache cannot answer for a dead model.
Exit status 0 means healthy, 1 unhealthy; the reason goes to stdout.
"""

from __future__ import annotations

import argparse
import random
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field


class Unhealthy(Exception):
    pass


def get(url: str, timeout_s: float) -> None:
    """Any 2xx passes; anything else (or no answer) raises Unhealthy."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            response.read()
    except urllib.error.HTTPError as error:
        raise Unhealthy(f"{url}: HTTP {error.code}") from error
    except (urllib.error.URLError, OSError) as error:
        raise Unhealthy(f"{url}: {error}") from error


def synthesize_probe(http_url: str, timeout_s: float) -> None:
    # Imported lazily: numpy/tritonclient are only needed for the inference check.
    from mandarin_tts.serving.probe import PROBE_TEXT, check_speech, synthesize_http

    text = PROBE_TEXT
    result = synthesize_http(
        http_url, text, speed=round(random.uniform(0.9, 1.1), 4), timeout_s=timeout_s
    )
    check_speech(result, text)


@dataclass(frozen=True)
class TritonCheck:
    port: int = 8000
    timeout_s: float = 10.0
    inference: bool = False
    synthesize: Callable[[str, float], None] = field(default=synthesize_probe)

    @property
    def http_url(self) -> str:
        return f"127.0.0.1:{self.port}"

    def run(self) -> None:
        get(f"http://{self.http_url}/v2/health/ready", self.timeout_s)
        if self.inference:
            try:
                self.synthesize(self.http_url, self.timeout_s)
            except Exception as error:  # any failure of the probe means "unhealthy"
                raise Unhealthy(f"inference probe failed: {error}") from error


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="check", required=True)
    url = sub.add_parser("url", help="pass on a 2xx answer")
    url.add_argument("url")
    url.add_argument("--timeout", type=float, default=5.0)
    triton = sub.add_parser("triton", help="Triton readiness (+ one synthesis)")
    triton.add_argument("--port", type=int, default=8000)
    triton.add_argument("--timeout", type=float, default=10.0)
    triton.add_argument("--inference", action="store_true")
    args = parser.parse_args(argv)
    try:
        if args.check == "url":
            get(args.url, args.timeout)
        else:
            TritonCheck(port=args.port, timeout_s=args.timeout, inference=args.inference).run()
    except Unhealthy as error:
        print(f"unhealthy: {error}")
        return 1
    print("healthy")
    return 0


if __name__ == "__main__":
    sys.exit(main())
