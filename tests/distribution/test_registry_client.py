"""The registry client's own logic: references, TLS choice, and the token auth exchange.

The token exchange is run against a small HTTP server on loopback that speaks the
distribution token protocol (a real registry with token auth needs a token service and
certificates this machine cannot provide); basic auth is tested against the real registry
in tests/engine/test_registry.py.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from harness.core.failures.errors import UsageError
from harness.core.oci.reference import parse_reference
from harness.distribution.check_ref import check_index
from harness.distribution.registry import (
    CONNECT_TIMEOUT,
    AuthError,
    Registry,
    RegistryError,
    is_loopback,
    parse_challenge,
    unanswered,
)
from tests import loopback
from tests.helpers import ROOT

GOOD = base64.b64encode(b"ci:pw").decode()


class TokenRegistry(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # keep the test output clean
        pass

    def do_GET(self) -> None:
        if self.path.startswith("/token"):
            ok = self.headers.get("Authorization") == f"Basic {GOOD}"
            self._answer(200 if ok else 401, {"token": "t0ken"} if ok else {})
        elif self.headers.get("Authorization") == "Bearer t0ken":
            self._answer(200, {"tags": ["latest"], "name": "rust"})
        else:
            port = self.server.server_address[1]
            self._answer(401, {"errors": [{"code": "UNAUTHORIZED"}]}, {
                "WWW-Authenticate": f'Bearer realm="http://127.0.0.1:{port}/token",'
                                    'service="test",scope="repository:rust:pull"'})

    def _answer(self, code: int, body: dict[str, object],
                headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def token_registry() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), TokenRegistry)
    # Polled often: shutdown() waits for a poll (0.5 s by default, at every teardown).
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_token_auth_with_the_right_credentials(token_registry: str) -> None:
    with Registry(token_registry, credentials={"username": "ci", "password": "pw"}) as reg:
        assert reg.tags("rust") == ["latest"]


def test_token_auth_with_wrong_credentials_names_the_fix(token_registry: str) -> None:
    with Registry(token_registry, credentials={"username": "ci", "password": "nope"}) as reg, \
            pytest.raises(AuthError) as info:
        reg.tags("rust")
    assert "docker login" in info.value.fix and "nope" not in str(info.value)


def test_challenge_parsing() -> None:
    assert parse_challenge('Bearer realm="https://auth.example/token",service="reg"') == (
        "bearer", {"realm": "https://auth.example/token", "service": "reg"})
    assert parse_challenge('Basic realm="harness"') == ("basic", {"realm": "harness"})


def test_tls_unless_loopback_or_explicitly_insecure() -> None:
    assert Registry("registry.example:5000").base == "https://registry.example:5000"
    assert Registry("registry.example:5000", insecure=True).base == "http://registry.example:5000"
    assert Registry("127.0.0.1:5000").base == "http://127.0.0.1:5000"
    assert is_loopback("localhost:5000") and is_loopback("127.0.0.2:80")
    assert not is_loopback("10.0.0.1:5000")


@pytest.mark.parametrize(("text", "host", "repo", "ref"), [
    ("127.0.0.1:5000/rust:latest", "127.0.0.1:5000", "rust", "latest"),
    ("ghcr.io/owner/rust", "ghcr.io", "owner/rust", "latest"),
    ("localhost/a/b@sha256:" + "0" * 64, "localhost", "a/b", "sha256:" + "0" * 64),
])
def test_references(text: str, host: str, repo: str, ref: str) -> None:
    parsed = parse_reference(text)
    assert (parsed.host, parsed.repository, parsed.reference) == (host, repo, ref)
    assert str(parsed) == text or parsed.tag is None


@pytest.mark.parametrize("text", ["rust:latest", "harness/rust:linux-arm64", "no spaces/x y"])
def test_not_registry_references(text: str) -> None:
    with pytest.raises(UsageError, match="not a registry reference"):
        parse_reference(text)


# -- a registry that drips, holds or never answers: every call within its deadline ----------

LIMIT = 0.5  # the registry's timeout, seconds: each whole answer's deadline
ANSWERED = 1.5  # the same, for a registry that answers: never reached, so it costs nothing


@pytest.mark.parametrize("peer", [
    loopback.dripping(0.05), loopback.dripping(0.2, head=True),
    # Its status line whole within the deadline, its headers cut at it: read as a 200 once.
    loopback.dripping(0.02, head=True), loopback.silent,
    loopback.short(b"{}", 100, stall=True),
], ids=["dripping-body", "dripping-head", "dripping-headers", "silent", "stalled"])
def test_a_registry_that_never_answers_whole_is_an_error_within_the_deadline(
        peer: loopback.Handler) -> None:
    with loopback.serve(peer) as port, Registry(f"127.0.0.1:{port}", timeout=LIMIT) as reg:
        start = time.monotonic()
        with pytest.raises(RegistryError) as info:
            reg.ping()
        took = time.monotonic() - start
    assert took < LIMIT + 1.0, took
    assert info.value.message.startswith(f"registry 127.0.0.1:{port} cannot be reached")


def test_check_against_a_dripping_registry_is_an_error_within_the_deadline() -> None:
    with loopback.serve(loopback.dripping(0.05)) as port, \
            Registry(f"127.0.0.1:{port}", timeout=LIMIT) as reg:
        start = time.monotonic()
        with pytest.raises(RegistryError):
            check_index(reg, parse_reference(f"127.0.0.1:{port}/app:1"), [])
        assert time.monotonic() - start < LIMIT + 1.0


def test_an_upload_has_the_time_to_send_its_body() -> None:
    reg = Registry("127.0.0.1:5000", timeout=LIMIT)
    assert reg._seconds({}, b"") == LIMIT
    assert reg._seconds({"Content-Length": str(10 * 256 * 1024)}, None) == LIMIT + 10


def test_a_cache_registry_is_asked_once_within_its_deadline_before_it_is_used() -> None:
    with loopback.serve(loopback.silent) as port:
        start = time.monotonic()
        said = unanswered(f"127.0.0.1:{port}", seconds=LIMIT)
        assert time.monotonic() - start < LIMIT + 1.0
    assert said is not None and said.startswith(f"registry 127.0.0.1:{port} cannot be reached")
    with loopback.serve(loopback.answering(b"{}")) as port:
        assert unanswered(f"127.0.0.1:{port}", seconds=ANSWERED) is None


def test_a_cache_registry_that_asks_for_credentials_answers(token_registry: str) -> None:
    assert unanswered(token_registry, seconds=ANSWERED) is None


# Run inside a network namespace whose firewall drops every packet to 127.0.0.1:5000: the
# connection never completes (no refusal, no answer).
DROPPED = """
import time
from harness.distribution.registry import Registry, RegistryError, unanswered
start = time.monotonic()
try:
    Registry("127.0.0.1:5000").ping()
except RegistryError as exc:
    print("ping", round(time.monotonic() - start, 1), exc.message)
start = time.monotonic()
said = unanswered("127.0.0.1:5000", seconds=2)
print("probe", round(time.monotonic() - start, 1), said)
"""


@pytest.mark.machine
def test_a_registry_whose_packets_are_dropped_is_given_up_on_within_the_deadline() -> None:
    ns = f"harness-drop-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", ns], check=True, timeout=30)
    try:
        inside = ["ip", "netns", "exec", ns]
        subprocess.run([*inside, "ip", "link", "set", "lo", "up"], check=True, timeout=30)
        subprocess.run([*inside, "iptables", "-w", "-A", "INPUT", "-p", "tcp", "--dport",
                        "5000", "-j", "DROP"], check=True, timeout=30)
        run = subprocess.run([*inside, sys.executable, "-c", DROPPED], capture_output=True,
                             text=True, timeout=120, cwd=ROOT, check=False,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    finally:
        subprocess.run(["ip", "netns", "del", ns], check=False, timeout=30)
    assert run.returncode == 0, run.stderr[-2000:]
    ping, probe = (line.split(" ", 2) for line in run.stdout.splitlines())
    assert float(ping[1]) < CONNECT_TIMEOUT + 2, ping
    assert ping[2].startswith("registry 127.0.0.1:5000 cannot be reached")
    assert float(probe[1]) < 3 and probe[2].startswith("registry 127.0.0.1:5000 cannot be")
