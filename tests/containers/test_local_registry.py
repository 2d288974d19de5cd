"""The local registry's readiness wait (testcontainers' HTTP wait strategy), against a real
HTTP server on loopback standing in for the registry's /v2/."""

from __future__ import annotations

import http.server
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from harness.containers.local_registry import wait_answering
from harness.core.failures.errors import CannotCheck


class _Target:
    """What a wait strategy asks of a container: where it answers."""

    def __init__(self, port: int) -> None:
        self.port = port

    def get_container_host_ip(self) -> str:
        return "127.0.0.1"

    def get_exposed_port(self, port: int) -> int:
        return self.port

    def get_wrapped_container(self) -> Any:
        return None

    def get_logs(self) -> tuple[bytes, bytes]:
        return b"", b""

    def reload(self) -> None:
        pass

    @property
    def status(self) -> str:
        return "running"


def _serve(status: int) -> Iterator[int]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status if self.path == "/v2/" else 404)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(params=[200, 401])
def answering(request: pytest.FixtureRequest) -> Iterator[int]:
    yield from _serve(request.param)


def test_a_registry_that_answers_v2_is_ready(answering: int) -> None:
    started = time.monotonic()
    wait_answering(_Target(answering), timeout=5)
    assert time.monotonic() - started < 2


def test_a_registry_that_never_answers_is_cannot_check_with_its_timeout() -> None:
    with socket.socket() as free:  # a port nothing listens on
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(CannotCheck) as caught:
        wait_answering(_Target(port), timeout=1)
    assert time.monotonic() - started < 5
    assert caught.value.message == "the registry did not answer within 1 s"
    assert caught.value.fix == "see `docker logs` of the registry container"


def test_a_server_that_answers_another_status_is_not_a_registry() -> None:
    for port in _serve(500):
        with pytest.raises(CannotCheck, match="did not answer within 1 s"):
            wait_answering(_Target(port), timeout=1)
