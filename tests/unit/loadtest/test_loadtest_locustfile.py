"""The locustfile loads in a plain locust process and exposes the right user classes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

LOCUSTFILE = Path(__file__).resolve().parents[3] / "loadtest" / "locustfile.py"


def list_user_classes(extra_env: dict[str, str]) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TTS_", "LOCUST_"))}
    proc = subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--list"],
        env={**env, **extra_env}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return sorted(line.strip() for line in proc.stdout.splitlines()[1:] if line.strip())


def test_only_the_frontend_user_without_triton_urls() -> None:
    # The compose `loadtest` profile: Triton is not reachable from the load generator.
    assert list_user_classes({}) == ["FrontendUser"]


def test_triton_users_appear_when_their_urls_are_set() -> None:
    env = {"TTS_TRITON_HTTP_URL": "127.0.0.1:8000", "TTS_TRITON_GRPC_URL": "127.0.0.1:8001"}
    assert list_user_classes(env) == ["FrontendUser", "TritonGrpcUser", "TritonHttpUser"]


def test_slo_and_mix_options_are_registered() -> None:
    # locust >= 2.2x prints --help before importing the locustfile, so its options are not
    # listed there; instead the locustfile's parser must accept them (argparse rejects unknown
    # flags with exit status 2, checked below with a made-up one).
    options = ["--slo-p95-ms", "1", "--slo-max-error-ratio", "0.1",
               "--slo-first-audio-p95-ms", "1", "--text-mix", "short=1"]  # fmt: skip

    def run_list(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--list", *extra],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    accepted = run_list(*options)
    assert accepted.returncode == 0, accepted.stderr
    rejected = run_list("--slo-no-such-option", "1")
    assert rejected.returncode == 2 and "unrecognized arguments" in rejected.stderr
