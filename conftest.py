"""Shared fixtures for the harness's own tests: the engine, and small real bases.

The image checks themselves (``tests/images``) get their fixtures from ``harness.plugin``,
loaded with ``-p harness.plugin`` by ``nox -s build``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import pytest
from filelock import FileLock

from harness import bases, engine
from harness.platforms import Platform, parse_platform

ROOT = Path(__file__).parent
FIXTURES = ROOT / "tests" / "fixtures"
TINY = "harness-tiny:bookworm"
# busybox gives the shell and tools; dpkg answers for the userland. The extract variant only
# unpacks packages, so even foreign tiny bases are made in seconds without emulation.
TINY_APPLETS = ("sh", "uname", "sleep", "cat", "rm", "mkdir", "test", "ls", "linux32", "head")
TINY_EXTRA = (
    "--include=busybox-static,dpkg",
    "--extract-hook=for a in " + " ".join(TINY_APPLETS)
    + '; do ln -sf /bin/busybox "$1/bin/$a"; done; mkdir -p "$1/tmp"',
)


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    """The engine under test (one is required: run `nox -s tests`, which sets it up)."""
    client = engine.client()
    yield client
    client.close()


def make_tiny_base(client: docker.DockerClient, platform: Platform) -> str:
    """A ~40 MB Debian base (busybox + dpkg) for ``platform``, cached as a harness base."""
    tag = bases.local_tag(TINY, platform)
    lock = bases.LOCK_DIR / f"tiny-{platform.slug}.lock"
    bases.LOCK_DIR.mkdir(parents=True, exist_ok=True)
    with FileLock(str(lock)):
        if engine.image_exists(client, tag) and bases.matches(client, tag, platform):
            return tag
        mirror = bases.debian_mirror()
        assert mirror, "no Debian mirror in this machine's apt sources"
        bases.bootstrap(client, "bookworm", platform, tag, mirror=mirror, variant="extract",
                        extra=TINY_EXTRA, say=lambda _line: None)
    return tag


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


def probe_containers(client: docker.DockerClient) -> list[str]:
    from harness.probes import LABEL

    return [c.name for c in client.containers.list(all=True, filters={"label": LABEL})]


@pytest.fixture
def no_leftovers(docker_client: docker.DockerClient) -> Iterator[None]:
    """Fails the test if it leaves a probe container behind."""
    before = set(probe_containers(docker_client))
    yield
    left = set(probe_containers(docker_client)) - before
    assert not left, f"probe containers left behind: {sorted(left)}"


def run_harness(*args: str, env: dict[str, str] | None = None, timeout: float = 1800,
                cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run the image checks as `nox -s build` does (pytest with the plugin and xdist)."""
    cmd = [sys.executable, "-m", "pytest", "-p", "harness.plugin", str(ROOT / "tests/images"),
           "-p", "no:cacheprovider", "-q", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=cwd,
                          env={**os.environ, **(env or {})}, check=False)
