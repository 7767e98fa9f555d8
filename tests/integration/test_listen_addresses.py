"""What listens where, as deployed: the launcher with `--frontend-host 0.0.0.0` publishes
the HTTP frontend only; every Triton port (HTTP, gRPC, metrics) of its process tree stays
on loopback, and Triton's admin APIs refuse requests without the admin token."""

from __future__ import annotations

import ipaddress
import json
import secrets
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

import psutil
import pytest
import tritonclient.grpc as grpcclient
from launcher_helpers import LauncherProcess, running_launcher
from tritonclient.utils import InferenceServerException

from mandarin_tts import contract as c
from mandarin_tts.serving.launcher import ADMIN_KEY_ENV
from mandarin_tts.serving.server import ADMIN_HEADER, GRPC_ADMIN_HEADER

pytestmark = pytest.mark.integration

PUBLIC_BIND = "0.0.0.0"


@dataclass(frozen=True)
class Listener:
    pid: int
    process: str
    ip: str
    port: int

    @property
    def address(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
        """gRPC binds an IPv6 socket to ::ffff:127.0.0.1: that is IPv4 loopback."""
        address = ipaddress.ip_address(self.ip.split("%")[0])
        mapped = getattr(address, "ipv4_mapped", None)
        return mapped or address

    @property
    def loopback(self) -> bool:
        return self.address.is_loopback


class PublicLauncher(LauncherProcess):
    """The launcher with the frontend published on 0.0.0.0 and a known admin key."""

    def __init__(self) -> None:
        self.admin_key = secrets.token_hex(16)
        super().__init__(
            ["--host", "127.0.0.1", "--frontend-host", PUBLIC_BIND, "--probe-interval", "0"],
            env={ADMIN_KEY_ENV: self.admin_key},
        )

    def listeners(self) -> list[Listener]:
        found = []
        for process in self.tree():
            try:
                name = process.name()
                sockets = process.net_connections(kind="inet")
            except psutil.NoSuchProcess:
                continue
            for conn in sockets:
                if conn.status == psutil.CONN_LISTEN:
                    found.append(Listener(process.pid, name, conn.laddr.ip, conn.laddr.port))
        return found


@pytest.fixture(scope="module")
def launcher(request) -> Iterator[PublicLauncher]:
    with running_launcher(request, PublicLauncher) as running:
        yield running


def non_loopback_ipv4() -> str | None:
    for addresses in psutil.net_if_addrs().values():
        for address in addresses:
            if (
                address.family == socket.AF_INET
                and not ipaddress.ip_address(address.address).is_loopback
            ):
                return address.address
    return None


def test_only_the_frontend_listens_beyond_loopback(launcher):
    listeners = launcher.listeners()
    print("\n" + "\n".join(f"  {x.process}[{x.pid}] {x.ip}:{x.port}" for x in listeners))
    public = [x for x in listeners if not x.loopback]
    assert public, "the frontend should listen on a public address"
    assert {x.port for x in public} == {launcher.ports["frontend"]}, public
    for listener in public:
        cmdline = " ".join(psutil.Process(listener.pid).cmdline())
        assert "-m frontend" in cmdline, cmdline
    triton = [x for x in listeners if x.process == "tritonserver"]
    for name in ("http", "grpc", "metrics"):
        on_port = [x for x in triton if x.port == launcher.ports[name]]
        assert on_port, f"tritonserver does not listen on its {name} port"
        assert all(str(x.address) == "127.0.0.1" for x in on_port), on_port
    assert all(x.loopback for x in triton), triton


def test_public_address_reaches_the_frontend_but_not_triton(launcher):
    address = non_loopback_ipv4()
    if address is None:
        pytest.skip("this machine has no non-loopback IPv4 address")
    url = f"http://{address}:{launcher.ports['frontend']}/v1/limits"
    with urllib.request.urlopen(url, timeout=30) as response:
        assert json.loads(response.read())["sample_rate"] == c.OUTPUT_SAMPLE_RATE
    for name in ("http", "grpc", "metrics"):
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((address, launcher.ports[name]), timeout=5).close()


def _http_status(launcher: PublicLauncher, method: str, path: str, admin: bool) -> int:
    headers = {ADMIN_HEADER: launcher.admin_key} if admin else {}
    data = b"{}" if method == "POST" else None
    req = urllib.request.Request(
        f"http://127.0.0.1:{launcher.ports['http']}{path}",
        data=data,
        method=method,
        headers=headers,
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


# One endpoint per restricted API group (mandarin_tts.serving.server.RESTRICTED_APIS)
# beyond what test_serving_e2e.py already checks on the session server.
ADMIN_ENDPOINTS = [
    ("POST", "/v2/repository/index"),
    ("GET", f"/v2/models/{c.MODEL_ENSEMBLE}/config"),
    ("GET", f"/v2/models/{c.MODEL_ENSEMBLE}/stats"),
    ("GET", "/v2/systemsharedmemory/status"),
    ("GET", "/v2/trace/setting"),
    ("GET", "/v2/logging"),
]


@pytest.mark.parametrize("method,path", ADMIN_ENDPOINTS)
def test_admin_apis_refuse_without_the_token(launcher, method, path):
    assert _http_status(launcher, method, path, admin=False) == 403
    assert _http_status(launcher, method, path, admin=True) == 200


def test_model_control_is_off_even_with_the_token(launcher):
    unload = f"/v2/repository/models/{c.MODEL_ENSEMBLE}/unload"
    assert _http_status(launcher, "POST", unload, admin=False) == 403
    assert _http_status(launcher, "POST", unload, admin=True) >= 400
    ready = f"/v2/models/{c.MODEL_ENSEMBLE}/ready"
    assert _http_status(launcher, "GET", ready, admin=False) == 200  # health stays open


def test_grpc_admin_needs_the_token(launcher):
    with grpcclient.InferenceServerClient(f"127.0.0.1:{launcher.ports['grpc']}") as client:
        with pytest.raises(InferenceServerException):
            client.get_model_repository_index()
        index = client.get_model_repository_index(
            headers={GRPC_ADMIN_HEADER: launcher.admin_key}, as_json=True
        )
        assert c.MODEL_ENSEMBLE in {m["name"] for m in index["models"]}
