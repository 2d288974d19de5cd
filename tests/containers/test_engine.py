"""The engine's client against an engine address where something accepts connections and
never answers: the first call is given up within its deadline, never the SDK's 600 s."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

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


@pytest.fixture
def selected() -> Iterator[None]:
    yield None
    engine.select_context(None)


@pytest.mark.usefixtures("selected")
def test_the_default_context_is_docker_host_or_the_socket_whatever_the_config_says(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`docker --context default` is "Current DOCKER_HOST based configuration": DOCKER_HOST,
    else the socket, never DOCKER_CONTEXT or the config's current context."""
    monkeypatch.setenv("DOCKER_CONTEXT", "far")
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    engine.select_context("default")
    assert engine.chosen().url == engine.DEFAULT_SOCKET
    env = engine.cli_env(None)
    assert env is not None and env["DOCKER_HOST"] == engine.DEFAULT_SOCKET  # over DOCKER_CONTEXT
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:9")
    assert engine.chosen() == engine.Chosen("tcp://127.0.0.1:9", "DOCKER_HOST")


@pytest.mark.usefixtures("selected")
@pytest.mark.skipif(shutil.which("docker") is None, reason="`docker context inspect` needs "
                    "the docker CLI")
def test_an_unknown_context_is_a_usage_error(monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path) -> None:
    from harness.core.errors import UsageError

    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    engine.select_context("nowhere-at-all")
    with pytest.raises(UsageError, match="there is no docker context 'nowhere-at-all'") as e:
        engine.chosen()
    assert "docker context ls" in e.value.fix and e.value.cause == "context-unknown"
