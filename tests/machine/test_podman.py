"""--engine podman: the engines it stands for, the containers.conf the service is given, and
the service itself started, answering as Podman, and stopped with nothing left (engine)."""

from __future__ import annotations

import os
import resource
import subprocess
import time
import tomllib
from pathlib import Path

import pytest

from harness.core.failures.errors import CannotCheck, UsageError
from harness.core.platforms.engine_url import EVERY_PLATFORM
from harness.core.platforms.table import parse_platforms
from harness.core.settings.options import BY_KEY
from harness.machine import podman

AMD64_ARM64 = parse_platforms(["linux/amd64", "linux/arm64"])


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The service's files under the test's own cache: never the machine's."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "c"))
    return tmp_path / "c"


def test_engine_podman_alone_is_every_platform_s_and_a_named_one_wins() -> None:
    given = BY_KEY["engines"].convert(["podman", "linux/arm64=tcp://arm:2375"], "command line")
    assert given == {EVERY_PLATFORM: "podman", "linux/arm64": "tcp://arm:2375"}
    found = podman.engines(BY_KEY["engines"].typed(given), AMD64_ARM64)
    assert found == {"linux/amd64": podman.url(), "linux/arm64": "tcp://arm:2375"}
    assert podman.wanted(found)


def test_podman_for_one_platform_is_that_platform_s_only() -> None:
    given = BY_KEY["engines"].typed(BY_KEY["engines"].convert(["linux/aarch64=podman"],
                                                              "command line"))
    assert podman.engines(given, AMD64_ARM64) == {"linux/arm64": podman.url()}
    assert not podman.wanted(podman.engines({}, AMD64_ARM64))


def test_an_engine_url_alone_is_still_not_of_the_form() -> None:
    with pytest.raises(UsageError, match="is not of the form PLATFORM=URL"):
        BY_KEY["engines"].convert(["tcp://x:1"], "command line")
    # Every platform's engine, from pyproject's table, is Podman's or none.
    with pytest.raises(UsageError, match="an engine for every platform is `podman`"):
        BY_KEY["engines"].typed({EVERY_PLATFORM: "tcp://x:1"})


def test_the_socket_is_under_the_harness_s_cache(own_cache: Path) -> None:
    assert podman.url() == f"unix://{own_cache}/harness/podman/podman.sock"


def test_each_container_s_rlimits_fit_this_process_s_hard_limits_soft_equal_to_hard() -> None:
    conf = tomllib.loads(podman.containers_conf())
    limits = {}
    for item in conf["containers"]["default_ulimits"]:
        name, _, values = item.partition("=")
        soft, hard = map(int, values.split(":"))
        limits[name] = (soft, hard)
    assert set(limits) == {"nofile", "nproc"}
    for name, which in (("nofile", resource.RLIMIT_NOFILE), ("nproc", resource.RLIMIT_NPROC)):
        allowed = resource.getrlimit(which)[1]
        soft, hard = limits[name]
        # Equal: Podman 4.3 swaps a SOFT:HARD pair, and runc refuses soft over hard.
        assert soft == hard and (allowed == resource.RLIM_INFINITY or hard <= allowed)


def test_a_pid_file_naming_another_program_is_not_ours_and_is_never_stopped() -> None:
    other = subprocess.Popen(["sleep", "60"])
    try:
        podman.state_dir().mkdir(parents=True)
        (podman.state_dir() / "service.pid").write_text(f"{other.pid}\n")
        assert podman.ours() is None
        assert not podman.stop()
        assert other.poll() is None, "a process the harness did not start was stopped"
    finally:
        other.kill()
        other.wait()


def _left(own_cache: Path) -> list[str]:
    """Processes still running as our service (its socket in their command line)."""
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True,
                         check=True).stdout
    return [line for line in out.splitlines() if str(own_cache) in line]


@pytest.mark.engine
def test_the_service_starts_answers_as_podman_runs_a_container_and_leaves_nothing(
        own_cache: Path) -> None:
    if not podman.installed():
        pytest.skip("no podman here: `multiarch-harness preflight --engine podman` as root "
                    "installs Debian's")
    from harness.containers import engine
    from harness.core.platforms.engine_kind import EngineKind

    said: list[str] = []
    assert podman.start(said.append)
    try:
        assert podman.answers() and said and podman.socket_path().is_socket()
        assert not podman.start(said.append)  # it answers: nothing more is started
        c = engine.client(url=podman.url())
        seen = engine.facts(c)
        assert seen.kind is EngineKind.PODMAN and seen.buildx is None
        # The containers.conf's rlimits are taken: Podman's own defaults would be refused
        # on a machine whose hard limits are lower (this one's).
        one = c.containers.create(_any_image(c), ["sh", "-c", "ulimit -Hn"])
        try:
            one.start()
            assert one.wait()["StatusCode"] == 0
            out = one.logs()
        finally:
            one.remove(force=True)
        assert int(out.strip()) == podman.container_rlimits()["nofile"]
        c.close()
    finally:
        assert podman.stop()
    deadline = time.monotonic() + 10
    while _left(own_cache) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _left(own_cache), "the service is still running"
    assert not podman.socket_path().exists() and podman.ours() is None


def _any_image(c: object) -> str:
    """A small image of this machine's platform in Podman's store: the docker engine's
    amd64 base saved and loaded (no registry answers here)."""
    import docker

    assert isinstance(c, docker.DockerClient)
    local = docker.from_env()
    try:
        ref = next(t for i in local.images.list() for t in i.tags
                   if t.startswith("harness.invalid/base/debian:") and t.endswith("linux-amd64"))
    except StopIteration:
        pytest.skip("no harness base in the docker engine to load into Podman")
    loaded = c.images.load(b"".join(local.images.get(ref).save()))
    return str(loaded[0].id)


def test_a_service_that_never_answers_is_one_line_and_is_stopped_with_nothing_left(
        tmp_path: Path, own_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A `podman` that never serves: the service hung at its start, its command line no
    # longer the service's (so only the handle the harness holds can stop it).
    fake = tmp_path / "bin" / "podman"
    fake.parent.mkdir()
    pid_file = tmp_path / "fake.pid"
    fake.write_text(f"#!/bin/sh\necho $$ > {pid_file}\n"
                    "echo 'Error: cannot set up storage' >&2\nexec sleep 600\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:{os.environ['PATH']}")
    with pytest.raises(CannotCheck) as said:
        podman.start(lambda _line: None, wait=1.0)
    assert said.value.message.startswith("Podman's API service did not answer on ")
    assert "cannot set up storage" in said.value.message  # the log's last line
    assert "service.log" in said.value.fix
    pids = [int(line) for line in pid_file.read_text().split()]
    assert pids and not any(Path(f"/proc/{pid}").exists() for pid in pids), \
        "the service that did not answer is still running"
    assert not podman.socket_path().exists() and not (podman.state_dir() / "service.pid").exists()
