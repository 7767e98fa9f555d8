"""Start and stop the real `tritonserver` binary shipped in the `nvidia-pytriton` wheel.

The wheel keeps the server, the Python backend and one backend stub per Python version
apart; Triton expects them side by side, so we lay out a small work directory
(`bin/tritonserver`, `backends/python/{libtriton_python.so, stub}`, `caches/local`) made of
symlinks, and point the loader at the wheel's bundled shared libraries.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from mandarin_tts.paths import CACHE_DIR, PROJECT_ROOT

# An existing Triton installation (NGC container: /opt/tritonserver) instead of the wheel's.
TRITON_HOME_ENV = "MANDARIN_TTS_TRITON_HOME"

# The admin API groups that production traffic never needs. Requests to them must carry
# the header below; the launcher takes the value from MANDARIN_TTS_ADMIN_KEY or generates
# a random one per run.
RESTRICTED_APIS = (
    "model-repository",
    "model-config",
    "shared-memory",
    "statistics",
    "trace",
    "logging",
)
ADMIN_HEADER = "triton-admin-key"
# Over gRPC Triton expects the key under this metadata name.
GRPC_ADMIN_HEADER = f"triton-grpc-protocol-{ADMIN_HEADER}"


class ServerError(RuntimeError):
    """tritonserver could not be started or did not become ready."""


def pytriton_root() -> Path:
    """The wheel's `pytriton` folder, unpacked into the cache (never pip-installed)."""
    from mandarin_tts.serving.pytriton_wheel import pytriton_dir

    return pytriton_dir() / "pytriton"


def prepare_install(work_dir: Path) -> Path:
    """Assemble bin/, backends/ and caches/ for the running Python under `work_dir`.

    With MANDARIN_TTS_TRITON_HOME set (the NGC container), that installation is used as is.
    """
    home = os.environ.get(TRITON_HOME_ENV)
    if home:
        return Path(home)
    src = pytriton_root() / "tritonserver"
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    stub = src / "python_backend_stubs" / version / "triton_python_backend_stub"
    if not stub.exists():
        raise ServerError(f"the pytriton wheel has no Python backend stub for Python {version}")
    python_dir = work_dir / "backends" / "python"
    python_dir.mkdir(parents=True, exist_ok=True)
    links = {
        work_dir / "bin": src / "bin",
        work_dir / "caches": src / "caches",
        python_dir / "libtriton_python.so": src / "backends" / "python" / "libtriton_python.so",
        python_dir / "triton_python_backend_utils.py": src
        / "backends"
        / "python"
        / "triton_python_backend_utils.py",
        python_dir / "triton_python_backend_stub": stub,
    }
    for link, target in links.items():
        if link.is_symlink() or link.exists():
            if link.is_symlink() and link.resolve() == target.resolve():
                continue
            if link.is_dir() and not link.is_symlink():
                shutil.rmtree(link)
            else:
                link.unlink()
        try:
            link.symlink_to(target)
        except FileExistsError:  # another launcher made it a moment ago
            if link.resolve() != target.resolve():
                raise
    return work_dir


def server_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for tritonserver and its Python stubs (which embed the system libpython).

    The stub does not run the venv's interpreter, so the venv's site-packages and the
    project root go on PYTHONPATH for `model.py` to import numpy, onnxruntime and
    `mandarin_tts`.
    """
    env = dict(os.environ if base is None else base)
    overlay = ""
    if not env.get(TRITON_HOME_ENV):
        libs = pytriton_root().parent / "nvidia_pytriton.libs"
        env["LD_LIBRARY_PATH"] = os.pathsep.join(
            p for p in (str(libs), env.get("LD_LIBRARY_PATH", "")) if p
        )
    # The 2.51 stubs need numpy 1 ahead of the venv's numpy 2 (see stub_overlay.py).
    from mandarin_tts.serving.stub_overlay import overlay_dir, runs_the_wheel_stub

    if runs_the_wheel_stub(env.get(TRITON_HOME_ENV)):
        overlay = str(overlay_dir())
    site_packages = sysconfig.get_paths()["purelib"]
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(PROJECT_ROOT), overlay, site_packages, env.get("PYTHONPATH", "")) if p
    )
    # Each stub is its own process: keep numpy/BLAS from spawning a thread per core.
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    return env


@dataclass
class ServerOptions:
    repository: Path
    host: str = "127.0.0.1"
    http_port: int = 8000
    grpc_port: int = 8001
    metrics_port: int = 8002
    cache_bytes: int = 64 * 1024 * 1024
    admin_key: str | None = None  # None: admin APIs stay open (tests only)
    exit_timeout_s: int = 10
    log_verbose: int = 0
    extra_args: list[str] = field(default_factory=list)


def server_command(install: Path, opts: ServerOptions) -> list[str]:
    cmd = [
        str(install / "bin" / "tritonserver"),
        f"--model-repository={opts.repository}",
        f"--backend-directory={install / 'backends'}",
        f"--cache-directory={install / 'caches'}",
        *([f"--cache-config=local,size={opts.cache_bytes}"] if opts.cache_bytes > 0 else []),
        "--model-control-mode=none",
        "--strict-readiness=true",
        f"--http-address={opts.host}",
        f"--http-port={opts.http_port}",
        f"--grpc-address={opts.host}",
        f"--grpc-port={opts.grpc_port}",
        "--allow-metrics=true",
        "--allow-gpu-metrics=false",
        f"--metrics-address={opts.host}",
        f"--metrics-port={opts.metrics_port}",
        f"--exit-timeout-secs={opts.exit_timeout_s}",
        f"--log-verbose={opts.log_verbose}",
    ]
    if opts.admin_key:
        apis = ",".join(RESTRICTED_APIS)
        cmd.append(f"--http-restricted-api={apis}:{ADMIN_HEADER}={opts.admin_key}")
        cmd.append(f"--grpc-restricted-protocol={apis}:{ADMIN_HEADER}={opts.admin_key}")
    return cmd + list(opts.extra_args)


class TritonProcess:
    """A running tritonserver whose output goes to `log_path`."""

    def __init__(self, opts: ServerOptions, log_path: Path, work_dir: Path | None = None) -> None:
        self.opts = opts
        self.log_path = log_path
        self.work_dir = work_dir or CACHE_DIR / "tritonserver"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def http_url(self) -> str:
        return f"{self.opts.host}:{self.opts.http_port}"

    @property
    def grpc_url(self) -> str:
        return f"{self.opts.host}:{self.opts.grpc_port}"

    @property
    def metrics_url(self) -> str:
        return f"{self.opts.host}:{self.opts.metrics_port}"

    def check_ports_free(self) -> None:
        """Fail clearly instead of talking to another server already on our ports."""
        for port in (self.opts.http_port, self.opts.grpc_port, self.opts.metrics_port):
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                if s.connect_ex((self.opts.host, port)) == 0:
                    raise ServerError(f"port {port} on {self.opts.host} is already in use")

    def start(self) -> None:
        self.check_ports_free()
        install = prepare_install(self.work_dir)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            server_command(install, self.opts),
            stdout=log,
            stderr=subprocess.STDOUT,
            env=server_env(),
            start_new_session=True,  # Ctrl-C in the launcher is forwarded by us, once
        )
        log.close()

    def is_ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://{self.http_url}/v2/health/ready", timeout=2) as r:
                return r.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def wait_ready(self, timeout_s: float = 180.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise ServerError(
                    f"tritonserver exited with {self.proc.returncode}:\n{self.log_tail()}"
                )
            if self.is_ready() and self.proc is not None and self.proc.poll() is None:
                return
            time.sleep(0.5)
        raise ServerError(f"tritonserver not ready after {timeout_s:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout_s: float = 30.0) -> int | None:
        """SIGINT first (Triton drains in-flight requests), SIGKILL if it hangs; stubs left
        behind in its process group are killed either way."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=timeout_s)
        self.kill_group()
        return self.proc.returncode

    def kill_group(self) -> None:
        """SIGKILL the server's whole process group: a tritonserver that was killed leaves
        its Python stubs running (they only notice a while later)."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
