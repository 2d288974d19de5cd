"""The registry client's own logic: references, TLS choice, and the token auth exchange.

The token exchange is run against a small HTTP server on loopback that speaks the
distribution token protocol (a real registry with token auth needs a token service and
certificates this machine cannot provide); basic auth is tested against the real registry
in tests/engine/test_registry.py.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from harness.core.errors import UsageError
from harness.core.reference import parse_reference
from harness.distribution.check_ref import check_index
from harness.distribution.registry import (
    AuthError,
    Registry,
    RegistryError,
    is_loopback,
    parse_challenge,
)
from tests import loopback

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
    thread = threading.Thread(target=server.serve_forever, daemon=True)
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

LIMIT = 1.5  # the registry's timeout, seconds: each whole answer's deadline


@pytest.mark.parametrize("peer", [
    loopback.dripping(0.2), loopback.dripping(0.2, head=True), loopback.silent,
    loopback.short(b"{}", 100, stall=True),
], ids=["dripping-body", "dripping-head", "silent", "stalled"])
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
    with loopback.serve(loopback.dripping(0.2)) as port, \
            Registry(f"127.0.0.1:{port}", timeout=LIMIT) as reg:
        start = time.monotonic()
        with pytest.raises(RegistryError):
            check_index(reg, parse_reference(f"127.0.0.1:{port}/app:1"), [])
        assert time.monotonic() - start < LIMIT + 1.0


def test_an_upload_has_the_time_to_send_its_body() -> None:
    reg = Registry("127.0.0.1:5000", timeout=LIMIT)
    assert reg._seconds({}, b"") == LIMIT
    assert reg._seconds({"Content-Length": str(10 * 256 * 1024)}, None) == LIMIT + 10
