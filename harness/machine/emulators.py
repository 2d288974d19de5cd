"""A second QEMU, to tell an emulator's crash from the image's.

QEMU's user mode has bugs of its own (a guest that dies with ``qemu: uncaught target signal
11`` under one version and runs under the next: docker/buildx#1169, tonistiigi/binfmt#215).
When a probe dies that way, the same command is run again under another QEMU: Debian
trixie's (10.0), fetched once with ``apt-get download`` and unpacked under the cache, one
binary at a time, never installed (the handlers registered in binfmt_misc stay as they are).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

from harness.machine import files
from harness.machine.host import qemu_version

SUITE = "trixie"
PACKAGE = f"qemu-user/{SUITE}"


def cache_dir() -> Path:
    return files.cache_dir("qemu-trixie")


@dataclass(frozen=True)
class Emulator:
    """A QEMU user-mode binary of this machine, and its version."""

    path: Path
    version: str

    def describe(self) -> str:
        return f"QEMU {self.version} ({self.path.name})"


def _deb(where: Path) -> Path:
    """The package, downloaded once."""
    found = sorted(where.glob("qemu-user_*.deb"))
    if found:
        return found[-1]
    subprocess.run(["apt-get", "download", PACKAGE], cwd=where, check=True,
                   capture_output=True, timeout=600, stdin=subprocess.DEVNULL)
    found = sorted(where.glob("qemu-user_*.deb"))
    if not found:
        raise FileNotFoundError(f"apt-get download {PACKAGE} left no package")
    return found[-1]


def _unpack(deb: Path, name: str, target: Path) -> None:
    """``usr/bin/NAME`` of the package, written to ``target`` (and nothing else of it)."""
    with subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(deb)],
                          stdout=subprocess.PIPE) as proc:
        assert proc.stdout is not None
        with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
            for member in tar:
                if member.isfile() and member.name.lstrip("./") == f"usr/bin/{name}":
                    source = tar.extractfile(member)
                    assert source is not None
                    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
                    with os.fdopen(fd, "wb") as out:
                        out.write(source.read())
                    os.chmod(temp, 0o755)
                    os.replace(temp, target)
                    break
        proc.stdout.close()
    if not target.exists():
        raise FileNotFoundError(f"{deb.name} has no usr/bin/{name}")


@functools.cache
def second(handler: str) -> Emulator | None:
    """Trixie's build of ``handler`` (``qemu-aarch64``): fetched on first use, cached after;
    None where it cannot be had (no trixie in apt's sources, no network, not Debian)."""
    if not handler.startswith("qemu-") or "/" in handler:
        return None
    where = cache_dir()
    try:
        where.mkdir(parents=True, exist_ok=True)
        binary = where / handler
        with FileLock(str(where / ".lock")):
            if not binary.exists():
                _unpack(_deb(where), handler, binary)
    except (OSError, subprocess.SubprocessError):
        return None
    version = qemu_version(str(binary))
    return Emulator(binary, version) if version else None


@functools.cache
def installed(name: str) -> Emulator | None:
    """This machine's own ``name`` (``qemu-x86_64``), as Debian's qemu-user-static installs
    it (``qemu-x86_64-static``) or qemu-user does; None where neither is on PATH."""
    for candidate in (f"{name}-static", name):
        found = shutil.which(candidate)
        if found:
            version = qemu_version(found)
            if version:
                return Emulator(Path(os.path.realpath(found)), version)
    return None
