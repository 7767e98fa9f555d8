"""Run the deployed commands of docker-compose.yml on this machine, in the image layout.

No Docker engine is needed: the Triton service's command line (from the compose file) is
run with the environment the `triton` image sets (MANDARIN_TTS_TRITON_HOME pointing at
an NGC-style /opt/tritonserver tree, here assembled from the nvidia-pytriton wheel; the
tier's repository rendered ahead as in the builder stage; a private cache and TMPDIR),
then the frontend service's command line beside it, then the containers' health checks
(docker/healthcheck.py, including the inference probe), one synthesis through the
frontend, and a SIGTERM shutdown. Ports are remapped to free loopback ports.

    python deploy/smoke_local.py [--tier cpu-2] [--keep]

Prints what it measured; exits non-zero on the first failure. Needs the built models
(`make models`).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "deploy"))

from compose_env import load_compose  # noqa: E402

from mandarin_tts.paths import EXTRACT_DIR, MODELS_DIR  # noqa: E402
from mandarin_tts.serving.ports import free_port  # noqa: E402
from mandarin_tts.serving.render import render  # noqa: E402
from mandarin_tts.serving.server import TRITON_HOME_ENV, pytriton_root  # noqa: E402
from mandarin_tts.serving.tiers import get_tier  # noqa: E402

HEALTHCHECK = REPO / "docker" / "healthcheck.py"
PORT_FLAGS = ("--http-port", "--grpc-port", "--metrics-port")


class SmokeError(RuntimeError):
    pass


def ngc_style_home(root: Path) -> Path:
    """/opt/tritonserver's layout (bin/, caches/, backends/python/) from the pip wheel."""
    src = pytriton_root() / "tritonserver"
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    python_dir = root / "backends" / "python"
    python_dir.mkdir(parents=True)
    (root / "bin").symlink_to(src / "bin")
    (root / "caches").symlink_to(src / "caches")
    for name in ("libtriton_python.so", "triton_python_backend_utils.py"):
        (python_dir / name).symlink_to(src / "backends" / "python" / name)
    stub = src / "python_backend_stubs" / version / "triton_python_backend_stub"
    (python_dir / "triton_python_backend_stub").symlink_to(stub)
    return root


def with_value(argv: list[str], flag: str, value: str) -> list[str]:
    out = list(argv)
    out[out.index(flag) + 1] = value
    return out


@dataclass
class Smoke:
    tier: str | None
    work: Path

    def run(self) -> dict[str, float]:
        compose = load_compose({"TTS_ADMIN_KEY": "smoke-admin-key"})
        triton_cmd = compose["services"]["triton"]["command"]
        frontend_cmd = compose["services"]["frontend"]["command"]
        tier = self.tier or triton_cmd[triton_cmd.index("--tier") + 1]
        triton_cmd = with_value(triton_cmd, "--tier", tier)
        ports = {flag: free_port() for flag in PORT_FLAGS}
        for flag, port in ports.items():
            triton_cmd = with_value(triton_cmd, flag, str(port))
        frontend_port = free_port()
        frontend_cmd = with_value(frontend_cmd, "--port", str(frontend_port))
        frontend_cmd = with_value(frontend_cmd, "--host", "127.0.0.1")
        frontend_cmd = with_value(
            frontend_cmd, "--triton-grpc", f"127.0.0.1:{ports['--grpc-port']}"
        )

        cache = self.work / "cache"  # the image's cache: models and assets only
        cache.mkdir()
        (cache / "models").symlink_to(MODELS_DIR)
        (cache / "extracted").symlink_to(EXTRACT_DIR)
        repository = render(get_tier(tier), self.work / "repository")
        (self.work / "tmp").mkdir()
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "PYTHONUNBUFFERED": "1",
            "TMPDIR": str(self.work / "tmp"),
            "MANDARIN_TTS_CACHE": str(cache),
            "MANDARIN_TTS_MODEL_REPOSITORY": str(repository),
            TRITON_HOME_ENV: str(ngc_style_home(self.work / "tritonserver")),
            "MANDARIN_TTS_ADMIN_KEY": "smoke-admin-key",
            # NGC has these system-wide; the wheel keeps them beside the package.
            "LD_LIBRARY_PATH": str(pytriton_root().parent / "nvidia_pytriton.libs"),
        }
        timings: dict[str, float] = {}
        procs: list[subprocess.Popen[bytes]] = []
        try:
            start = time.monotonic()
            procs.append(self.spawn([sys.executable, *triton_cmd[1:]], env, "triton.log"))
            triton_check = ["triton", "--port", str(ports["--http-port"])]
            self.wait_healthy([*triton_check, "--inference", "--timeout", "60"], procs[0], 300)
            timings["triton_healthy_s"] = time.monotonic() - start
            start = time.monotonic()
            procs.append(self.spawn([sys.executable, *frontend_cmd[1:]], env, "frontend.log"))
            healthz = f"http://127.0.0.1:{frontend_port}/healthz"
            self.wait_healthy(["url", healthz, "--timeout", "30"], procs[1], 120)
            timings["frontend_healthy_s"] = time.monotonic() - start
            start = time.monotonic()
            audio = self.synthesize(frontend_port, "今天天气很好，我们去公园散步吧。")
            timings["synthesis_s"] = time.monotonic() - start
            timings["wav_bytes"] = float(len(audio))
        finally:
            for proc in reversed(procs):  # frontend first, as in a pod's shutdown
                start = time.monotonic()
                proc.send_signal(signal.SIGTERM)
                code = proc.wait(timeout=60)
                timings[f"stop_pid{proc.pid}_s"] = time.monotonic() - start
                if code != 0:
                    print(f"process {proc.args!r} exited with {code}")
        return timings

    def spawn(self, argv: list[str], env: dict[str, str], log: str) -> subprocess.Popen[bytes]:
        out = (self.work / log).open("wb")
        return subprocess.Popen(argv, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)

    def wait_healthy(self, check: list[str], proc: subprocess.Popen[bytes], limit_s: float) -> None:
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SmokeError(f"{proc.args!r} exited with {proc.returncode}; see {self.work}")
            result = subprocess.run(
                [sys.executable, str(HEALTHCHECK), *check], capture_output=True, text=True
            )
            if result.returncode == 0:
                return
            time.sleep(2)
        raise SmokeError(f"not healthy after {limit_s:.0f} s: {check}; see {self.work}")

    def synthesize(self, port: int, text: str) -> bytes:
        body = json.dumps({"text": text}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/tts",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            audio = response.read()
        if not audio.startswith(b"RIFF"):
            raise SmokeError(f"expected a WAV answer, got {audio[:16]!r}")
        return audio


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tier", help="override the compose file's CPU tier")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="tts-smoke-"))
    try:
        timings = Smoke(args.tier, work).run()
    except SmokeError as error:
        print(f"FAILED: {error}")
        return 1
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    for name, value in timings.items():
        print(f"{name:24s} {value:10.2f}")
    print("smoke test passed: deployed commands work in the image layout")
    return 0


if __name__ == "__main__":
    sys.exit(main())
