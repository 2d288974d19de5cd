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
from harness.containers.build import resolve
from harness.core.failures.errors import EngineUnavailable
from harness.core.platforms.engine_kind import EngineKind
from tests import fake_engine
from tests.fake_engine import API_VERSION, Answer, FakeEngine


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


def test_the_engine_facts_come_from_its_version_and_info(fake: FakeEngine) -> None:
    seen = engine.facts(fake.client())
    assert (seen.version, seen.api_version, seen.arch, seen.name) == (
        "24.0.7", API_VERSION, "x86_64", "fake-engine")
    assert seen.containerd_store  # driver-type io.containerd.snapshotter.v1
    assert seen.runtime["kernel"] == "6.1.0"
    assert "runtime" not in seen.to_dict()


def test_the_chosen_engine_answers_and_gets_the_long_timeout_after_its_ping(
        fake: FakeEngine) -> None:
    c = engine.client(timeout=321)
    assert fake.called("GET", "/_ping") and c.api.timeout == 321
    assert engine.answers(c) and c.api.timeout == 321  # put back after the short ping


def test_no_engine_at_the_socket_is_unavailable_naming_where_it_looked(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/none.sock")
    with pytest.raises(EngineUnavailable) as said:
        engine.client()
    assert said.value.message.startswith(
        f"no container engine answers at unix://{tmp_path}/none.sock (DOCKER_HOST): ")
    assert "unset DOCKER_HOST" in said.value.fix


def test_an_engine_that_went_away_does_not_answer(tmp_path: Path) -> None:
    with fake_engine.serve(tmp_path) as gone:
        c = gone.client()
        assert engine.answers(c)
    assert not engine.answers(c)


def test_an_image_the_engine_does_not_have_does_not_exist(fake: FakeEngine) -> None:
    fake.image("here:1", arch="arm", variant="v7")
    assert engine.image_exists(fake.client(), "here:1")
    assert not engine.image_exists(fake.client(), "gone:1")
    assert engine.image_platform(fake.client(), "here:1") == ("linux", "arm", "v7")


def test_a_unix_socket_engine_is_on_this_host_and_a_remote_tcp_one_is_not() -> None:
    assert engine.on_this_host("unix:///var/run/docker.sock")
    assert engine.on_this_host("tcp://127.0.0.1:2375") and engine.on_this_host("tcp://[::1]:2375")
    assert not engine.on_this_host("tcp://10.0.0.5:2376")
    assert not engine.on_this_host("ssh://me@far")
    # a socket forwarded from another machine: its engine names another host
    assert not engine.on_this_host("unix:///tmp/fwd.sock", host_name="not-" + socket.gethostname())


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
    from harness.core.failures.errors import UsageError

    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    engine.select_context("nowhere-at-all")
    with pytest.raises(UsageError, match="there is no docker context 'nowhere-at-all'") as e:
        engine.chosen()
    assert "docker context ls" in e.value.fix and e.value.cause == "context-unknown"


def test_an_engine_that_names_podman_in_its_components_is_driven_as_podman(
        fake: FakeEngine) -> None:
    # Podman 4.3.1's compatible service answers /version so (Debian bookworm).
    fake.on("GET", "/version", Answer(200, {
        "Components": [{"Name": "Podman Engine", "Version": "4.3.1"},
                       {"Name": "Conmon", "Version": "conmon version 2.1.6"}],
        "Version": "4.3.1", "ApiVersion": "1.41", "MinAPIVersion": "1.24"}))
    fake.on("GET", "/info", Answer(200, {"Architecture": "amd64", "OSType": "linux",
                                         "Name": "vm", "Driver": "overlay"}))
    seen = engine.facts(fake.client())
    assert seen.arch == "x86_64"  # `uname -m`'s name, as Docker's engine says it
    assert (seen.kind, seen.version, seen.api_version) == (EngineKind.PODMAN, "4.3.1", "1.41")
    # No BuildKit there: whatever buildx the docker CLI has, builds take the classic path.
    assert seen.buildx is None and resolve("auto", seen.buildx) == "classic"
    assert seen.to_dict()["kind"] == "Podman"


def test_docker_s_engine_is_docker(fake: FakeEngine) -> None:
    assert engine.facts(fake.client()).kind is EngineKind.DOCKER


def test_a_container_s_own_rlimits_on_podman_carry_nofile_and_nproc_docker_s_do_not(
        fake: FakeEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import docker

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # no service of ours: own limits
    core = [docker.types.Ulimit(name="core", soft=0, hard=0)]
    assert engine.ulimits(fake.client(), core) == core
    engine._kinds.clear()
    fake.on("GET", "/version", Answer(200, {
        "Components": [{"Name": "Podman Engine", "Version": "4.3.1"}], "Version": "4.3.1",
        "ApiVersion": "1.41"}))
    given = engine.ulimits(fake.client(), core)
    # Podman takes a container's rlimits in place of containers.conf's and adds its own
    # nofile and nproc, which a lower hard limit refuses: both are given, soft == hard.
    assert [u.name for u in given] == ["core", "nofile", "nproc"]
    assert all(u.soft == u.hard for u in given)
    engine._kinds.clear()
