"""`make serve`: build the models if absent, render the tier, start tritonserver on
localhost, probe it end to end, start the HTTP frontend beside it, run until Ctrl-C.

    python -m mandarin_tts.serving.launcher [--tier cpu-2] [--http-port 8000] ...
"""

from __future__ import annotations

import argparse
import concurrent.futures
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

from mandarin_tts.build.bundled_voice import write_bundled_manifest
from mandarin_tts.contract import MODEL_ACOUSTIC, MODEL_VOCODER
from mandarin_tts.paths import CACHE_DIR, MODELS_DIR, PROJECT_ROOT
from mandarin_tts.serving.int8_support import servable_onnx_file
from mandarin_tts.serving.probe import ProbeError, is_live, probe, probe_voice
from mandarin_tts.serving.render import load_repository, render, repository_for, validate
from mandarin_tts.serving.server import (
    ADMIN_HEADER,
    GRPC_ADMIN_HEADER,
    ServerError,
    ServerOptions,
    TritonProcess,
)
from mandarin_tts.serving.supervision import (
    UNRESPONSIVE_STATES,
    Action,
    LivenessCheck,
    ProbeOutcome,
    ProcStat,
    RestartRules,
    Supervisor,
    classify_probe_error,
    python_backend_instances,
    read_stat,
    stub_stats,
)
from mandarin_tts.serving.tiers import Tier, default_tier, get_tier, load_tiers
from mandarin_tts.voices.manifest import MANIFEST_FILE
from mandarin_tts.voices.registry import BUNDLED_VOICE, MODELS_DIR_ENV, installed_voices

# A pre-rendered repository to serve as is (the container image renders at build time).
REPOSITORY_ENV = "MANDARIN_TTS_MODEL_REPOSITORY"
# The Triton admin token, provided by the deployment (Kubernetes Secret / TTS_ADMIN_KEY).
ADMIN_KEY_ENV = "MANDARIN_TTS_ADMIN_KEY"
# The frontend drains for up to its --shutdown-grace-s (25 s) on SIGINT; allow for that.
FRONTEND_STOP_TIMEOUT_S = 35.0
# The supervisor's periodic probe: short, so probing every few seconds costs little CPU.
SUPERVISOR_PROBE_TEXT = "你好。"
# A periodic probe slower than this is "busy" (never a restart); it runs in its own thread,
# so the liveness checks go on meanwhile.
SUPERVISOR_PROBE_TIMEOUT_S = 30.0


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
    p.add_argument(
        "--frontend-host",
        help="bind address of the HTTP frontend only (default: --host); e.g. 0.0.0.0 to\n"
        "publish the frontend while Triton stays on --host (docs/security.md)",
    )
    p.add_argument("--no-frontend", action="store_true", help="start Triton only")
    p.add_argument(
        "--models-dir",
        type=Path,
        default=Path(os.environ[MODELS_DIR_ENV]) if os.environ.get(MODELS_DIR_ENV) else None,
        help=f"directory with acoustic.onnx/vocoder.onnx (default: ${MODELS_DIR_ENV} or the cache)",
    )
    p.add_argument("--no-build", action="store_true", help="fail instead of building models")
    p.add_argument(
        "--probe-interval", type=float, default=5.0, help="end-to-end probe, seconds; 0 disables"
    )
    p.add_argument(
        "--hang-after",
        type=float,
        default=RestartRules.hang_after_s,
        help="replace a tritonserver or stub that fails every liveness check this long, s",
    )
    p.add_argument("--check", action="store_true", help="start, probe, shut down (smoke test)")
    args = p.parse_args(argv)
    args.frontend_host = args.frontend_host or args.host
    return args


def served_files(tier: Tier) -> list[str]:
    """The bundled voice's files this tier serves on this CPU (its int8 vocoder may be
    replaced by the float one: int8_support)."""
    files = []
    for step in (MODEL_ACOUSTIC, MODEL_VOCODER):
        files.append(servable_onnx_file(str(tier.models[step].onnx_file))[0])
    return files


def ensure_models(models_dir: Path | None, allow_build: bool, tier: Tier) -> None:
    """The bundled voice's files for `tier` exist (built here unless a directory is given)."""
    if models_dir is not None:
        missing = [n for n in served_files(tier) if not (models_dir / n).exists()]
        if missing:
            raise SystemExit(
                f"{models_dir} lacks {', '.join(missing)} (served by tier {tier.name})"
            )
        if not (models_dir / MANIFEST_FILE).exists():
            write_bundled_manifest(models_dir)  # a folder built before voices were data
        return
    built = [MODELS_DIR / n for n in served_files(tier)] + [MODELS_DIR / MANIFEST_FILE]
    if all(path.exists() for path in built):
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
        args.frontend_host,
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


def frontend_probe_host(proc: subprocess.Popen, fallback: str) -> str:
    """Where this machine reaches the frontend: the --host it was started with (a wildcard
    bind is reached on loopback), else `fallback`."""
    cmd = [str(a) for a in proc.args] if isinstance(proc.args, list | tuple) else []
    host = cmd[cmd.index("--host") + 1] if "--host" in cmd[:-1] else fallback
    host = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    return f"[{host}]" if ":" in host else host


def wait_frontend(proc: subprocess.Popen, host: str, port: int, timeout_s: float = 30.0) -> bool:
    """True once the frontend answers /healthz (any HTTP status: it is listening)."""
    host = frontend_probe_host(proc, host)
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


def restart(server: TritonProcess, drain: bool = True) -> None:
    """Replace a Triton whose models stopped answering (a crashed Python stub) or that died."""
    if drain:
        server.stop()
    server.kill_group()  # a killed tritonserver leaves its Python stubs behind
    server.start()
    server.wait_ready()
    probe(server.http_url, SUPERVISOR_PROBE_TEXT)


def probe_once(server: TritonProcess) -> tuple[ProbeOutcome, str]:
    """One short end-to-end synthesis; SPEED varies so the response cache cannot answer."""
    try:
        probe(
            server.http_url,
            SUPERVISOR_PROBE_TEXT,
            speed=round(random.uniform(0.9, 1.1), 4),
            timeout_s=SUPERVISOR_PROBE_TIMEOUT_S,
        )
    except Exception as exc:  # noqa: BLE001 - every failure is classified
        return classify_probe_error(str(exc)), f"{type(exc).__name__}: {exc}"
    return ProbeOutcome.OK, ""


def check_liveness(
    server_pid: int, http_url: str, stubs: list[ProcStat], timeout_s: float
) -> LivenessCheck:
    """One round of liveness observations (the rules are in supervision.py)."""
    stat = read_stat(server_pid)
    state = stat.state if stat is not None else None
    # A stopped server cannot answer: spare the HTTP timeout.
    answers = state not in UNRESPONSIVE_STATES and is_live(http_url, timeout_s)
    return LivenessCheck(answers, state, {stub.pid: stub.state for stub in stubs})


def watch(
    server: TritonProcess,
    frontend: subprocess.Popen | None,
    interval: float,
    logs: Path,
    rules: RestartRules | None = None,
) -> int:
    """Block until Ctrl-C or SIGTERM (0) or until the supervisor gives up (1): check every
    second that tritonserver runs and that it and its stubs are live, probe end to end every
    `interval` seconds (in a thread: a slow probe never delays the liveness checks), and
    restart Triton as `supervision.Supervisor` decides. The frontend keeps running meanwhile
    and answers 503 with Retry-After (its deadlines, health probe and retries see the
    outage)."""
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    supervisor = Supervisor(rules)
    stubs = python_backend_instances(load_repository(server.opts.repository))
    next_probe = time.monotonic() + interval
    prober = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="probe")
    probing: concurrent.futures.Future[tuple[ProbeOutcome, str]] | None = None
    try:
        while not stop.wait(1.0):
            action = Action.NONE
            running = stub_stats(server.proc.pid) if server.proc is not None else []
            if server.proc is not None and server.proc.poll() is not None:
                print(f"tritonserver exited ({server.proc.returncode}):\n{server.log_tail()}")
                action = supervisor.server_exited()
            elif server.proc is not None and len(running) < stubs:
                print(f"a Python stub died: {len(running)} of {stubs} running", flush=True)
                action = supervisor.stubs_missing()
            elif server.proc is not None:
                check = check_liveness(
                    server.proc.pid, server.http_url, running, supervisor.rules.liveness_timeout_s
                )
                action, hung = supervisor.liveness(check)
                if hung:
                    what = ", ".join(f"{subject} ({why})" for subject, why in hung.items())
                    prefix = "tritonserver" if "tritonserver" in hung else "a Python stub"
                    print(
                        f"{prefix} hung: {what} for {supervisor.rules.hang_after_s:.0f} s",
                        flush=True,
                    )
            if action is Action.NONE and probing is not None and probing.done():
                outcome, detail = probing.result()
                probing = None
                if outcome is not ProbeOutcome.OK:
                    print(f"end-to-end probe {outcome.value}: {detail}", flush=True)
                action = supervisor.probe_result(outcome)
                next_probe = time.monotonic() + interval
            if interval > 0 and probing is None and time.monotonic() >= next_probe:
                probing = prober.submit(probe_once, server)
            if frontend is not None and frontend.poll() is not None:
                print(f"frontend exited ({frontend.returncode}); see {logs / 'frontend.log'}")
                frontend = None
            if action is Action.GIVE_UP:
                print(
                    f"giving up: more than {supervisor.rules.max_restarts} restarts within "
                    f"{supervisor.rules.window_s:.0f} s",
                    flush=True,
                )
                return 1
            if action in (Action.RESTART_NOW, Action.RESTART_DRAINED):
                supervisor.restarted()
                count = supervisor.restarts_in_window()
                print(
                    f"restarting tritonserver ({count} in the last "
                    f"{supervisor.rules.window_s:.0f} s, at most {supervisor.rules.max_restarts})",
                    flush=True,
                )
                try:
                    restart(server, drain=action is Action.RESTART_DRAINED)
                    print("tritonserver restarted, probe ok", flush=True)
                except Exception as exc:  # noqa: BLE001 - the next check sees the outcome
                    print(f"restart failed: {type(exc).__name__}: {exc}", flush=True)
                probing = None  # a probe of the old server says nothing about the new one
                supervisor.hangs.reset()  # the restart itself took a while
                next_probe = time.monotonic() + min(interval, 5.0) if interval > 0 else next_probe
    finally:
        prober.shutdown(wait=False, cancel_futures=True)
    print("\nshutting down")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tiers = load_tiers()
    tier = get_tier(args.tier, tiers) if args.tier else default_tier(tiers)
    ensure_models(args.models_dir, allow_build=not args.no_build, tier=tier)
    if args.models_dir is not None:
        os.environ[MODELS_DIR_ENV] = str(args.models_dir.resolve())
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"warning: binding Triton 2.51 to {args.host}; it has known CVEs and no request "
            "size limits, keep it behind the frontend (docs/serving.md, Security)",
            file=sys.stderr,
        )
    voices = installed_voices()
    if os.environ.get(REPOSITORY_ENV) and set(voices) <= {BUNDLED_VOICE}:
        repository = Path(os.environ[REPOSITORY_ENV])
        validate(load_repository(repository))
    elif os.environ.get(REPOSITORY_ENV):
        # An image's pre-rendered repository holds the bundled voice only; mounted voices
        # need a fresh render, written where this process may write.
        repository = render(tier, run_dir() / "repository" / tier.name, voices.values())
    else:
        repository = render(tier, repository_for(tier), voices.values())
    print(
        f"tier {tier.name}: {tier.description}\nrepository {repository}\n"
        f"voices: {', '.join(voices)}"
    )

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
        for voice in voices.values():
            if voice.name != BUNDLED_VOICE:
                probe_voice(server.http_url, voice)
                print(f"voice {voice.name}: probe ok ({voice.sample_rate} Hz)")
        frontend = start_frontend(args, server, logs)
        print(
            f"Triton is up: http://{server.http_url}  grpc {server.grpc_url}  "
            f"metrics http://{server.metrics_url}/metrics\n"
            f"  admin APIs need the key in {key_file}: HTTP header '{ADMIN_HEADER}', "
            f"gRPC metadata '{GRPC_ADMIN_HEADER}'"
        )
        if frontend is not None:
            if wait_frontend(frontend, args.host, args.frontend_port):
                print(f"frontend: http://{args.frontend_host}:{args.frontend_port}")
            else:
                print(f"frontend did not start; see {logs / 'frontend.log'}")
        print("Ctrl-C to stop.")
        rules = RestartRules(hang_after_s=args.hang_after)
        code = 0 if args.check else watch(server, frontend, args.probe_interval, logs, rules)
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
