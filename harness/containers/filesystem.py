"""A running container's filesystem, read entry by entry for the audits.

Two ways, the same entries:

- **its root directory on this host** (``/proc/PID/root`` of the container's first process),
  walked with directory file descriptors (a stack of them, not recursion) so that no
  symlink of the image is ever followed, and only as far as the container's own root
  filesystem (mounts of the
  engine's, ``/proc``, ``/dev``, ``/etc/hosts``, ours, are left out, as ``docker export``
  leaves them out). Only the first bytes of each file are read, and the rest where an audit
  asks, at its offset: the engine archives nothing. Used where the engine runs on this
  machine and this process may read another's root (root, as CI and preflight run);
- **the engine's export** (``docker export``): a tar stream of everything, read once from
  start to end. Used everywhere else (a tcp:// or ssh:// engine, no privileges, a container
  whose process this machine's ``/proc`` does not show).

Measured on the four Rust images (about 1 GB each, bench run 9): see docs/benchmarks.md.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import resource
import stat
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from harness.core.answers import audit

HOST_ROOT = "/proc/{pid}/root"


@dataclass
class Entry:
    path: str  # absolute, as in the image
    kind: str  # "file", "symlink", "hardlink", "other" (directories, devices, fifos)
    link: str = ""  # a symlink's target, a hard link's first path
    size: int = 0
    fh: Any = None  # a file's reader from its start (valid until the next entry)
    fd: int | None = None  # a file's descriptor where it can be read at any offset


class Reads:
    """A total on what is read whole of one image's files (each file up to ``each`` bytes):
    past it a file is read only in part, and ``cut`` names it, so that the audit can say
    what it did not read instead of judging on part of it."""

    def __init__(self, total: int, each: int | None = None) -> None:
        self.left = total
        self.each = total if each is None else each
        self.cut: list[str] = []  # the first few files not read whole
        self.cut_count = 0

    def read(self, entry: Entry) -> bytes:
        """The file's bytes, as many as the budget leaves."""
        data: bytes = entry.fh.read(max(min(self.each, self.left), 0))
        self.left -= len(data)
        if len(data) < entry.size:
            self.cut_count += 1
            if len(self.cut) < 3:
                self.cut.append(entry.path)
        return data

    def describe(self, what: str, total: int) -> str:
        """What was cut, for the report: ``what`` the files, ``total`` the budget."""
        first = ", ".join(self.cut)
        return (f"{what} are more than the {total >> 20} MiB read of one image: {self.cut_count}"
                f" not read whole ({first}{', ...' if self.cut_count > len(self.cut) else ''})")


def host_root(container: Any, docker_host: str | None) -> str | None:
    """The container's root directory as this process can read it, or None: the engine is
    elsewhere, the process is not ours to see (another PID namespace) or not ours to read."""
    if docker_host and not docker_host.startswith("unix://"):
        return None
    with contextlib.suppress(Exception):
        container.reload()
        pid = int(container.attrs["State"]["Pid"] or 0)
        if pid <= 0:
            return None
        with open(f"/proc/{pid}/cgroup") as fh:  # the same process as the engine's?
            if container.id not in fh.read():
                return None
        root = HOST_ROOT.format(pid=pid)
        os.listdir(root)  # may we read it?
        return root
    return None


def from_root(root: str, skip: str) -> Iterator[Entry]:
    """Every entry below ``root`` on its own filesystem, ``skip`` (a directory) left out."""
    # /proc/PID/root is itself a link: opened here (following it, this once), then walked
    # from its descriptor, where no link is followed.
    rootfd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        yield from _walk(rootfd, skip)
    finally:
        os.close(rootfd)


# The longest path the kernel opens by name (PATH_MAX, its NUL included): nothing names, so
# nothing loads or runs, a file below a directory whose path is as long, so the walk does
# not descend into one. That bounds the depth (2,048 levels) and so the directories held
# open at once, one a level.
PATH_MAX = 4096
OPEN_DIRECTORY = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def _walk(rootfd: int, skip: str) -> Iterator[Entry]:
    """Depth first, by a stack of open directories rather than recursion (os.fwalk recurses
    once a level: 2,000 levels raised RecursionError)."""
    _enough_descriptors(PATH_MAX // 2 + 64)
    root_dev = os.fstat(rootfd).st_dev
    first: dict[tuple[int, int], str] = {}
    stack: list[tuple[str, int, Iterator[str]]] = []  # a directory, its fd, subdirectories
    top = os.open(".", OPEN_DIRECTORY, dir_fd=rootfd)
    stack.append(("/", top, iter(())))  # every open directory is on the stack, to close
    try:
        subdirs: list[str] = []
        yield from _entries("/", top, skip, root_dev, first, subdirs)
        stack[-1] = ("/", top, iter(subdirs))
        while stack:
            where, dirfd, pending = stack[-1]
            name = next(pending, None)
            if name is None:
                stack.pop()
                os.close(dirfd)
                continue
            try:
                fd = os.open(name, OPEN_DIRECTORY, dir_fd=dirfd)
            except OSError:  # removed or replaced (by a link) meanwhile: not walked
                continue
            here = posixpath.join(where, name)
            stack.append((here, fd, iter(())))  # held for closing until it is listed
            subdirs = []
            yield from _entries(here, fd, skip, root_dev, first, subdirs)
            stack[-1] = (here, fd, iter(subdirs))
    finally:
        for _where, fd, _pending in stack:
            os.close(fd)


def _entries(where: str, dirfd: int, skip: str, root_dev: int,
             first: dict[tuple[int, int], str], subdirs: list[str]) -> Iterator[Entry]:
    """The entries of one directory; the subdirectories to walk into ``subdirs``."""
    with os.scandir(dirfd) as listing:
        names = [e.name for e in listing]
    for name in names:
        path = posixpath.join(where, name)
        try:
            st = os.stat(name, dir_fd=dirfd, follow_symlinks=False)
            target = os.readlink(name, dir_fd=dirfd) if stat.S_ISLNK(st.st_mode) else ""
        except FileNotFoundError:
            # Removed meanwhile: runc's own .pivot_root* directory, on containerd's store,
            # is there while the container starts, and is no file of the image.
            continue
        if stat.S_ISLNK(st.st_mode):
            yield Entry(path, "symlink", target)
            continue
        if stat.S_ISDIR(st.st_mode):
            if path != skip:
                yield Entry(path, "other")  # a mount point too (/proc), as the export has it
                if st.st_dev == root_dev and len(path.encode()) < PATH_MAX:
                    subdirs.append(name)
            continue
        if not stat.S_ISREG(st.st_mode) or st.st_dev != root_dev:
            yield Entry(path, "other")
            continue
        if st.st_nlink > 1:
            known = first.setdefault((st.st_dev, st.st_ino), path)
            if known != path:
                yield Entry(path, "hardlink", known)
                continue
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC,
                         dir_fd=dirfd)
        except OSError:  # replaced meanwhile (by a link, a fifo): not the image's file
            continue
        with os.fdopen(fd, "rb", buffering=0) as fh:
            yield Entry(path, "file", size=st.st_size, fh=fh, fd=fd)


def _enough_descriptors(count: int) -> None:
    """Raise this process's soft limit of open files to ``count`` where it is lower (and
    the hard limit allows): a deep tree holds one directory open a level."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < count:
        wanted = count if hard == resource.RLIM_INFINITY else min(count, hard)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def from_export(tar: tarfile.TarFile) -> Iterator[Entry]:
    """Every entry of the engine's export, in its order."""
    for member in tar:
        path = audit.archive_path(member.name)
        if member.issym():
            yield Entry(path, "symlink", member.linkname)
        elif member.islnk():
            yield Entry(path, "hardlink", audit.archive_path(member.linkname))
        elif member.isreg():
            yield Entry(path, "file", size=member.size, fh=tar.extractfile(member))
        else:
            yield Entry(path, "other")
