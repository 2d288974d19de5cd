"""Shared fixtures for the harness's own tests: the engine, and small real bases; and the
default Debian bases made in the background while the unit tests run (tests/warm_bases.py).

The image checks themselves (``harness/plugin/checks.py``) get theirs from the plugin
(``harness.plugin``), which ``multiarch-harness build`` and ``nox -s build`` activate.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import pytest
from xdist.scheduler import LoadScopeScheduling

from harness.containers import engine
from harness.core.platforms.table import parse_platform
from harness.machine import runs
from tests import parallel
from tests.helpers import FIXTURES, make_tiny_base, probe_containers

# The engine tests that build on the default Debian bases (tests/warm_bases.py makes them
# beside the unit tests when the run holds one of these).
NEEDS_DEBIAN_BASES = ("test_attestations.py", "test_end_to_end.py")


@dataclass
class _Warming:
    """The background process making those bases, its log, and what it said."""

    proc: subprocess.Popen[bytes]
    where: Path
    said: list[str] = field(default_factory=list)


_warming: list[_Warming] = []


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start making the default Debian bases in the background when a test that builds on
    them is to run (not in an xdist worker: the controller does it once, below)."""
    if not hasattr(session.config, "workerinput") and not session.config.option.collectonly:
        _warm_bases_for([item.nodeid for item in session.items])


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node: Any, ids: Sequence[str]) -> None:
    """Under xdist the controller collects nothing: it learns the tests from its workers."""
    _warm_bases_for(ids)


class _Scopes(LoadScopeScheduling):  # type: ignore[misc]
    """xdist's units of work: each test file, or the files that share one (tests/parallel.py)."""

    def _split_scope(self, nodeid: str) -> str:
        return parallel.scope(nodeid)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> _Scopes:
    return _Scopes(config, log)


def _warm_bases_for(nodeids: Sequence[str]) -> None:
    if _warming or not any(Path(n.split("::", 1)[0]).name in NEEDS_DEBIAN_BASES
                           for n in nodeids):
        return
    where = Path(tempfile.mkdtemp(prefix="harness-warm-bases-"))
    with (where / "warm-bases.log").open("wb") as log:
        # A session of its own: a test's Ctrl-C to its process group never reaches it.
        _warming.append(_Warming(subprocess.Popen(
            [sys.executable, "-m", "tests.warm_bases"], cwd=Path(__file__).parent,
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True), where))


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Stop the background bases if the run ended first (mmdebstrap removes its own temp
    directory on SIGTERM); keep what it said for the summary."""
    for warm in _warming:
        if warm.proc.poll() is None:
            os.killpg(warm.proc.pid, signal.SIGTERM)
            try:
                warm.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(warm.proc.pid, signal.SIGKILL)
                warm.proc.wait()
        lines = (warm.where / "warm-bases.log").read_text(errors="replace").splitlines()
        warm.said = [line for line in lines if line.startswith("warm-bases:")]
        if warm.proc.returncode != 0:
            warm.said += [f"warm-bases: ended with status {warm.proc.returncode}: {line}"
                          for line in lines[-3:]]
        shutil.rmtree(warm.where, ignore_errors=True)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for warm in _warming:
        for line in warm.said:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    """The engine under test (one is required: run `nox -s tests`, which sets it up)."""
    client = engine.client()
    yield client
    client.close()


@pytest.fixture(scope="session")
def tiny_base(docker_client: docker.DockerClient) -> Callable[[str], str]:
    """``tiny_base("linux/arm64")``: the local tag of a tiny base of that platform."""
    return lambda name: make_tiny_base(docker_client, parse_platform(name))


@pytest.fixture(scope="session")
def fake_rustc(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """A build context holding a static x86_64 `rustc` that claims the given host triple."""

    def make(host: str) -> Path:
        context = tmp_path_factory.mktemp("fake-rustc")
        (context / "Dockerfile").write_bytes((FIXTURES / "fake-rustc" / "Dockerfile").read_bytes())
        subprocess.run(["gcc", "-static", "-Os", f'-DHOST="{host}"', "-o",
                        str(context / "rustc"), str(FIXTURES / "fake-rustc" / "rustc.c")],
                       check=True)
        return context

    return make


@pytest.fixture
def no_leftovers(docker_client: docker.DockerClient,
                 monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fails the test if it leaves a probe container behind. Every run the test starts, in
    this process or another, has an id that starts with the test's own (``HARNESS_RUN_ID``),
    and only the containers labelled so count: another harness run on this engine (a second
    CI job, a developer's build) is not this test's leftover."""
    monkeypatch.setenv(runs.ENV, f"test-{uuid.uuid4().hex[:12]}")
    before = set(probe_containers(docker_client))
    yield
    left = set(probe_containers(docker_client)) - before
    assert not left, f"probe containers left behind: {sorted(left)}"
