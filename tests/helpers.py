"""Helpers for the harness's own tests: tiny real bases, and whole runs of the checks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import docker
from filelock import FileLock

from harness import bases, debian, engine
from harness.platforms import Platform
from harness.probes import LABEL

ROOT = Path(__file__).resolve().parents[1]
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


def make_tiny_base(client: docker.DockerClient, platform: Platform) -> str:
    """A ~40 MB Debian base (busybox + dpkg) for ``platform``, cached as a harness base."""
    tag = bases.local_tag(TINY, platform)
    lock = bases.LOCK_DIR / f"tiny-{platform.slug}.lock"
    bases.LOCK_DIR.mkdir(parents=True, exist_ok=True)
    with FileLock(str(lock)):
        if engine.image_exists(client, tag) and bases.matches(client, tag, platform):
            return tag
        mirror = debian.debian_mirror()
        assert mirror, "no Debian mirror in this machine's apt sources"
        bases.bootstrap(client, "bookworm", platform, tag, mirror=mirror, variant="extract",
                        extra=TINY_EXTRA, say=lambda _line: None)
    return tag


def probe_containers(client: docker.DockerClient) -> list[str]:
    return [c.name for c in client.containers.list(all=True, filters={"label": LABEL})]


def run_harness(*args: str, env: dict[str, str] | None = None, timeout: float = 1800,
                cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run the image checks as `nox -s build` does (pytest with the plugin and xdist)."""
    cmd = [sys.executable, "-m", "pytest", "-p", "harness.plugin", str(ROOT / "tests/images"),
           "-p", "no:cacheprovider", "-q", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=cwd,
                          env={**os.environ, **(env or {})}, check=False)
