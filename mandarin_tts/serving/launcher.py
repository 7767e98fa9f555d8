"""`make serve`: build the models if absent, render the tier, start tritonserver on
localhost, probe it end to end, start the HTTP frontend beside it, run until Ctrl-C.

    python -m mandarin_tts.serving.launcher [--tier cpu-2] [--http-port 8000] ...
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from mandarin_tts.paths import ACOUSTIC_ONNX, CACHE_DIR, PROJECT_ROOT, VOCODER_ONNX
from mandarin_tts.serving.probe import PROBE_TEXT, ProbeError, probe
from mandarin_tts.serving.render import load_repository, render, repository_for, validate
from mandarin_tts.serving.server import (
    ADMIN_HEADER,
    GRPC_ADMIN_HEADER,
    ServerError,
    ServerOptions,
    TritonProcess,
)
from mandarin_tts.serving.tiers import default_tier, get_tier, load_tiers
from mandarin_tts.serving.triton_glue import MODELS_DIR_ENV

# A pre-rendered repository to serve as is (the container image renders at build time).
REPOSITORY_ENV = "MANDARIN_TTS_MODEL_REPOSITORY"
# The Triton admin token, provided by the deployment (Kubernetes Secret / TTS_ADMIN_KEY).
ADMIN_KEY_ENV = "MANDARIN_TTS_ADMIN_KEY"
# The frontend drains for up to its --shutdown-grace-s (25 s) on SIGINT; allow for that.
FRONTEND_STOP_TIMEOUT_S = 35.0


def admin_key_from_env(env: dict[str, str] | None = None) -> str:
    """The deployment's admin token if set (surrounding whitespace dropped), else a random one."""
    provided = (os.environ if env is None else env).get(ADMIN_KEY_ENV, "").strip()
    return provided or secrets.token_hex(16)


def run_dir() -> Path:
    """Logs and the admin key; a temp dir where the cache is read-only (containers)."""
    for candidate in (CACHE_DIR / "serving", Path(tempfile.gettempdir()) / "mandarin-tts"):
        try:
            candidate.mkdir(parents=True, exist_ok=True)
            if os.access(candidate, os.W_OK):
                return candidate
        except OSError:
            continue
    raise SystemExit("no writable directory for logs")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--tier", help="hardware tier from tiers.toml (default: picked from this machine)"
    )
    p.add_argument("--host", default="127.0.0.1", help="bind address (keep it local: see docs)")
    p.add_argument("--http-port", type=int, default=8000)
    p.add_argument("--grpc-port", type=int, default=8001)
    p.add_argument("--metrics-port", type=int, default=8002)
    p.add_argument("--frontend-port", type=int, default=8080)
    p.add_argument("--no-frontend", action="store_true", help="start Triton only")
    p.add_argument(
        "--models-dir",
        type=Path,
        default=Path(os.environ[MODELS_DIR_ENV]) if os.environ.get(MODELS_DIR_ENV) else None,
        help=f"directory with acoustic.onnx/vocoder.onnx (default: ${MODELS_DIR_ENV} or the cache)",
    )
    p.add_argument("--no-build", action="store_true", help="fail instead of building models")
    p.add_argument("--probe-interval", type=float, default=60.0, help="seconds; 0 disables")
    p.add_argument("--check", action="store_true", help="start, probe, shut down (smoke test)")
    return p.parse_args(argv)


def ensure_models(models_dir: Path | None, allow_build: bool) -> None:
    if models_dir is not None:
        missing = [n for n in ("acoustic.onnx", "vocoder.onnx") if not (models_dir / n).exists()]
        if missing:
            raise SystemExit(f"{models_dir} lacks {', '.join(missing)}")
        return
    if ACOUSTIC_ONNX.exists() and VOCODER_ONNX.exists():
        return
    if not allow_build:
        raise SystemExit("models are missing: run `make models`")
    from mandarin_tts.build.__main__ import build

    build()


def start_frontend(
    args: argparse.Namespace, server: TritonProcess, logs: Path
) -> subprocess.Popen | None:
    if args.no_frontend or importlib.util.find_spec("frontend.__main__") is None:
        return None
    cmd = [
        sys.executable,
        "-m",
        "frontend",
        "--host",
        args.host,
        "--port",
        str(args.frontend_port),
        "--triton-grpc",
        server.grpc_url,
    ]
    log = (logs / "frontend.log").open("wb")
    proc = subprocess.Popen(
        cmd, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    log.close()
    return proc


def wait_frontend(proc: subprocess.Popen, host: str, port: int, timeout_s: float = 30.0) -> bool:
    """True once the frontend answers /healthz (any HTTP status: it is listening)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(f"http://{host}:{port}/healthz", timeout=2):
                return True
        except urllib.error.HTTPError:
            return True
        except (urllib.error.URLError, OSError):
            time.sleep(0.3)
    return False


def stop_process(proc: subprocess.Popen | None, timeout_s: float = 15.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


# Triton 2.51's answer once a Python stub died: it never recovers, so one such probe is
# enough to restart, and draining the other requests is pointless (they fail too).
DEAD_STUB_MESSAGE = "is not healthy"


def restart(server: TritonProcess, drain: bool = True) -> None:
    """Replace a Triton whose models stopped answering (a crashed Python stub) or that died."""
    if drain:
        server.stop()
    if server.proc is not None:
        # A killed tritonserver leaves its Python stubs behind in its process group.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(server.proc.pid, signal.SIGKILL)
        server.proc.wait(timeout=30)
    server.start()
    server.wait_ready()
    probe(server.http_url)


def watch(
    server: TritonProcess,
    frontend: subprocess.Popen | None,
    interval: float,
    logs: Path,
    max_restarts: int = 3,
) -> int:
    """Block until Ctrl-C or a failure; probe end to end every `interval` seconds.

    The probe varies SPEED slightly so the response cache cannot answer it. Two failed
    probes in a row restart Triton (2.51 neither restarts a crashed stub nor reports it
    in /v2/health/ready); after `max_restarts` restarts the launcher gives up.
    """
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    next_probe = time.monotonic() + interval
    failures = restarts = 0
    drain = True  # a graceful stop, unless Triton is dead or a stub crashed
    while not stop.wait(1.0):
        if server.proc is not None and server.proc.poll() is not None:
            print(f"tritonserver exited ({server.proc.returncode}):\n{server.log_tail()}")
            failures = 2  # restart it at once, like a model that stopped answering
            drain = False
        if frontend is not None and frontend.poll() is not None:
            print(f"frontend exited ({frontend.returncode}); see {logs / 'frontend.log'}")
            frontend = None
        if failures < 2:
            if interval <= 0 or time.monotonic() < next_probe:
                continue
            try:
                probe(server.http_url, PROBE_TEXT, speed=round(random.uniform(0.9, 1.1), 4))
                failures = 0
            except Exception as exc:  # noqa: BLE001 - any failure counts
                failures += 1
                print(f"end-to-end probe failed ({failures}): {exc}", flush=True)
                if DEAD_STUB_MESSAGE in str(exc):
                    failures, drain = 2, False
        if failures >= 2:
            if restarts >= max_restarts:
                print("giving up after repeated restarts")
                return 1
            restarts += 1
            print(f"restarting tritonserver ({restarts}/{max_restarts})", flush=True)
            try:
                restart(server, drain=drain)
                failures, drain = 0, True
                print("tritonserver restarted, probe ok", flush=True)
            except Exception as exc:  # noqa: BLE001
                print(f"restart failed: {exc}")
                return 1
        next_probe = time.monotonic() + (interval if failures == 0 else min(interval, 5.0))
    print("\nshutting down (Ctrl-C)")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    ensure_models(args.models_dir, allow_build=not args.no_build)
    if args.models_dir is not None:
        os.environ[MODELS_DIR_ENV] = str(args.models_dir.resolve())
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"warning: binding Triton 2.51 to {args.host}; it has known CVEs and no request "
            "size limits, keep it behind the frontend (docs/serving.md, Security)",
            file=sys.stderr,
        )
    tiers = load_tiers()
    tier = get_tier(args.tier, tiers) if args.tier else default_tier(tiers)
    if os.environ.get(REPOSITORY_ENV):
        repository = Path(os.environ[REPOSITORY_ENV])
        validate(load_repository(repository))
    else:
        repository = render(tier, repository_for(tier))
    print(f"tier {tier.name}: {tier.description}\nrepository {repository}")

    logs = run_dir() / f"port-{args.http_port}"  # several launchers may run side by side
    logs.mkdir(parents=True, exist_ok=True)
    admin_key = admin_key_from_env()
    key_file = logs / "admin_key"
    key_file.unlink(missing_ok=True)  # created afresh so it is never readable by others
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(admin_key)
    server = TritonProcess(
        ServerOptions(
            repository=repository,
            host=args.host,
            http_port=args.http_port,
            grpc_port=args.grpc_port,
            metrics_port=args.metrics_port,
            cache_bytes=tier.cache_mb * 1024 * 1024,
            admin_key=admin_key,
        ),
        log_path=logs / "tritonserver.log",
        work_dir=logs / "tritonserver",
    )
    frontend = None
    code = 1
    try:
        server.start()
        print(f"starting tritonserver (log: {server.log_path}) ...")
        server.wait_ready()
        started = time.monotonic()
        result = probe(server.http_url)
        print(
            f"probe ok: {result.seconds:.2f} s of audio at {result.sample_rate} Hz "
            f"in {time.monotonic() - started:.2f} s"
        )
        frontend = start_frontend(args, server, logs)
        print(
            f"Triton is up: http://{server.http_url}  grpc {server.grpc_url}  "
            f"metrics http://{server.metrics_url}/metrics\n"
            f"  admin APIs need the key in {key_file}: HTTP header '{ADMIN_HEADER}', "
            f"gRPC metadata '{GRPC_ADMIN_HEADER}'"
        )
        if frontend is not None:
            if wait_frontend(frontend, args.host, args.frontend_port):
                print(f"frontend: http://{args.host}:{args.frontend_port}")
            else:
                print(f"frontend did not start; see {logs / 'frontend.log'}")
        print("Ctrl-C to stop.")
        code = 0 if args.check else watch(server, frontend, args.probe_interval, logs)
    except (ServerError, ProbeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        print(server.log_tail(), file=sys.stderr)
    except KeyboardInterrupt:
        code = 0
    finally:
        stop_process(frontend, timeout_s=FRONTEND_STOP_TIMEOUT_S)
        server.stop()
        print("stopped")
    return code


if __name__ == "__main__":
    sys.exit(main())
