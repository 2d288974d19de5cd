"""Helpers for the harness's own tests: tiny real bases, and whole runs of the checks."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import docker
from filelock import FileLock

from harness.containers import bases, engine
from harness.containers.probe_container import LABEL
from harness.core.answers import sources
from harness.core.platforms.table import Platform
from harness.machine import debian, runs

ROOT = Path(__file__).resolve().parents[1]
# JUnit test cases for each platform: the build's, and one per built-in source (the declared
# checks' test is deselected when a project declares none).
CHECKS_PER_PLATFORM = 1 + len(sources.NAMES)
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
# A trixie userland with Debian's rustup, whose rustc and cargo are rustup's proxies with no
# default toolchain: ELF binaries of the right architecture that exit 1, as a freshly
# rustup-init'ed image without `rustup default` is.
RUSTUP_PROXY = "harness-tiny-rustup:trixie"
RUSTUP_PROXY_EXTRA = (
    "--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr",
    "--include=busybox-static,dpkg,rustup",
    "--extract-hook=for a in " + " ".join(TINY_APPLETS)
    + '; do ln -sf /usr/bin/busybox "$1/usr/bin/$a"; done; '
    'mkdir -p "$1/tmp" "$1/root" "$1/usr/local/bin"; '
    'ln -sf /usr/bin/rustup "$1/usr/local/bin/rustc"; '
    'ln -sf /usr/bin/rustup "$1/usr/local/bin/cargo"',
)
# The same tiny base on trixie, for the platforms bookworm has no port of (riscv64).
TINY_TRIXIE = "harness-tiny:trixie"
TINY_TRIXIE_EXTRA = (
    "--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr",
    "--include=busybox-static,dpkg,libc6",
    "--extract-hook=for a in " + " ".join(TINY_APPLETS)
    + '; do ln -sf /usr/bin/busybox "$1/usr/bin/$a"; done; mkdir -p "$1/tmp"',
)
# An RPM userland: Debian's rpm without dpkg, so `rpm --eval %{_arch}` is the userland's answer.
TINY_RPM = "harness-tiny-rpm:bookworm"
TINY_RPM_EXTRA = (
    "--include=busybox-static,rpm",
    "--extract-hook=for a in " + " ".join(TINY_APPLETS)
    + '; do ln -sf /bin/busybox "$1/bin/$a"; done; mkdir -p "$1/tmp"; '
    'rm -f "$1/usr/bin/dpkg" "$1/usr/bin/dpkg-query"',
)
RECIPES = {TINY: ("bookworm", TINY_EXTRA), RUSTUP_PROXY: ("trixie", RUSTUP_PROXY_EXTRA),
           TINY_TRIXIE: ("trixie", TINY_TRIXIE_EXTRA), TINY_RPM: ("bookworm", TINY_RPM_EXTRA)}


def make_tiny_base(client: docker.DockerClient, platform: Platform, name: str = TINY) -> str:
    """A small Debian base (busybox + dpkg, ~40 MB; see RECIPES) for ``platform``, cached as
    a harness base under ``name``."""
    suite, extra = RECIPES[name]
    tag = bases.local_tag(name, platform)
    lock = bases.LOCK_DIR / f"{name.replace(':', '-')}-{platform.slug}.lock"
    bases.LOCK_DIR.mkdir(parents=True, exist_ok=True)
    with FileLock(str(lock)):
        if engine.image_exists(client, tag) and bases.matches(client, tag, platform):
            return tag
        mirror = debian.debian_mirror()
        assert mirror, "no Debian mirror in this machine's apt sources"
        bases.bootstrap(client, suite, platform, tag, mirror=mirror, variant="extract",
                        extra=extra, say=lambda _line: None)
    return tag


def debian_package(command: str, package: str) -> str:
    """The path of ``command``, from Debian's ``package``, installed once where it is missing
    (without Recommends, and with no service of it started: a policy-rc.d says no)."""
    # One lock for every package: two installs at once (xdist workers) would each see the
    # policy-rc.d of the other, and the first to end would take it away under the second.
    lock = Path.home() / ".cache" / "harness" / "apt-install.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(lock)):
        if not shutil.which(command):
            policy = Path("/usr/sbin/policy-rc.d")
            made = not policy.exists()
            if made:
                policy.write_text("#!/bin/sh\nexit 101\n")
                policy.chmod(0o755)
            try:
                # Another worker's install (or apt of this machine's own) may hold dpkg's
                # lock: wait for it, as .ci/apt-get does, rather than fail at once.
                subprocess.run(["apt-get", "-o", "DPkg::Lock::Timeout=300", "install", "-y",
                                "--no-install-recommends", package],
                               check=True, capture_output=True,
                               env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
            finally:
                if made:
                    policy.unlink()
    found = shutil.which(command)
    assert found, f"{package} gave no {command}"
    return found


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for_state(status: Path, state: str, timeout: float, poll: float = 0.05) -> None:
    """Until a platform's status file (``report-dir/status/PLATFORM.json``) says ``state``
    (``building``, ``probing``), or ``timeout`` seconds: the moment a test signals a run."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not (status.exists()
                                               and f'"{state}"' in status.read_text()):
        time.sleep(poll)


def probe_containers(client: docker.DockerClient) -> list[str]:
    """The probe containers of the runs of this test (each run's id starts with the test's
    HARNESS_RUN_ID, see conftest.no_leftovers), or of this process where none is set."""
    mine = runs.prefix() or runs.run_id()
    # Sparse: the list alone, no inspect of each container (another run's may be gone by
    # then, and the engine says 404).
    return [c.attrs["Names"][0].lstrip("/")
            for c in client.containers.list(all=True, sparse=True, filters={"label": LABEL})
            if (c.attrs.get("Labels") or {}).get(runs.LABEL, "").startswith(mine)]


def run_nox(*args: str, timeout: float = 3600) -> subprocess.CompletedProcess[str]:
    """A nox session of this project's noxfile, as a user runs it: ``run_nox("-s", "build")``."""
    return subprocess.run([sys.executable, "-m", "nox", "-f", str(ROOT / "noxfile.py"), *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)


def harness_cmd(*args: str, workers: str = "0") -> list[str]:
    """`multiarch-harness build` as `nox -s build` runs it (the plugin, the built-in checks),
    without preflight (the test session made it) and pytest's cache; one process unless
    ``workers`` says otherwise (-n)."""
    return [sys.executable, "-m", "harness", "build", "--no-preflight", "-p", "no:cacheprovider",
            "-n", workers, *args]


def run_harness(*args: str, env: dict[str, str] | None = None, timeout: float = 1800,
                cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """Run the image checks as `nox -s build` does (pytest with the plugin and xdist)."""
    return subprocess.run(harness_cmd(*args), capture_output=True, text=True, timeout=timeout,
                          cwd=cwd, env={**os.environ, **(env or {})}, check=False)


def imagetools(ref: str, what: str) -> dict[str, Any]:
    """`docker buildx imagetools inspect --format '{{json .WHAT}}' REF` (SBOM, Provenance):
    what Docker's own tool reads of a published index, by platform."""
    out = subprocess.run(["docker", "buildx", "imagetools", "inspect", "--format",
                          f"{{{{json .{what}}}}}", ref], capture_output=True, text=True,
                         check=True, timeout=120)
    found: dict[str, Any] = json.loads(out.stdout)
    return found


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`multiarch-harness ARGS` (publish, merge, matrix, …) from the project's root."""
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=ROOT, text=True,
                          capture_output=True, env={**os.environ, **(env or {})}, check=False)


_HOLD = """
import sys
from pathlib import Path
from harness.machine.runs import ReportDirLock
lock = ReportDirLock(Path(sys.argv[1]), "holder").acquire()
print("held", flush=True)
sys.stdin.read()
"""


@contextmanager
def held(report_dir: Path) -> Iterator[subprocess.Popen[str]]:
    """``report_dir`` held by another process, as a run holds it, until the block ends."""
    proc = subprocess.Popen([sys.executable, "-c", _HOLD, str(report_dir)], cwd=ROOT, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "held\n"
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
