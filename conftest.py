"""Shared fixtures for the harness's own tests: the engine, and small real bases.

The image checks themselves (``harness/plugin/checks.py``) get theirs from the plugin
(``harness.plugin``), which ``multiarch-harness build`` and ``nox -s build`` activate.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import pytest

from harness.containers import engine
from harness.core.platforms import parse_platform
from tests.helpers import FIXTURES, make_tiny_base, probe_containers


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
def no_leftovers(docker_client: docker.DockerClient) -> Iterator[None]:
    """Fails the test if it leaves a probe container behind."""
    before = set(probe_containers(docker_client))
    yield
    left = set(probe_containers(docker_client)) - before
    assert not left, f"probe containers left behind: {sorted(left)}"
