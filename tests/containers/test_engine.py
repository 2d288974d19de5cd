"""The engine's client against an engine address where something accepts connections and
never answers: the first call is given up within its deadline, never the SDK's 600 s."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from harness.containers import engine
from harness.core.errors import EngineUnavailable


def test_an_engine_that_accepts_and_never_answers_is_unavailable_within_the_ping_deadline(
        monkeypatch: pytest.MonkeyPatch) -> None:
    said: list[BaseException] = []

    def connect() -> None:
        try:
            engine.client()
        except BaseException as exc:  # what the client said, for the test thread
            said.append(exc)

    # The deadline made short (15 s in use): what is proved is that the first call keeps to
    # PING_TIMEOUT, not the client's 600 s, whatever PING_TIMEOUT is.
    monkeypatch.setattr(engine, "PING_TIMEOUT", 0.5)
    # Connections complete (the kernel's backlog); nothing reads or answers.
    with socket.create_server(("127.0.0.1", 0), backlog=16) as silent:
        monkeypatch.setenv("DOCKER_HOST", f"tcp://127.0.0.1:{silent.getsockname()[1]}")
        start = time.monotonic()
        thread = threading.Thread(target=connect, daemon=True)
        thread.start()
        thread.join(engine.PING_TIMEOUT + 5)
        took = time.monotonic() - start
    thread.join(10)  # closed: a client still waiting gets its answer now
    assert took < engine.PING_TIMEOUT + 5, "the client still waited on a silent engine"
    assert len(said) == 1 and isinstance(said[0], EngineUnavailable), said
    assert said[0].message.startswith("no container engine answers at tcp://127.0.0.1:")
