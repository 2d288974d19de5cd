"""A container's files read through the engine's archive API: as a stream, only as far as
asked, symlinks followed, so that images without ``file`` or ``od`` can be read too."""

from __future__ import annotations

import contextlib
import posixpath
import tarfile
from collections.abc import Iterator
from typing import Any

import docker.errors

from harness.machine.streams import ChunkFile


@contextlib.contextmanager
def tar_stream(chunks: Any) -> Iterator[tarfile.TarFile]:
    """A tar archive from the engine (an archive copy, an export), read as a stream: only as
    far as asked, and the transfer stopped when done."""
    reader = ChunkFile(chunks)
    try:
        with tarfile.open(fileobj=reader, mode="r|") as tar:
            yield tar
    finally:
        reader.close()



def stat_path(container: Any, path: str) -> tarfile.TarInfo | None:
    """``path``'s own tar header in ``container`` (a symlink not followed), or None."""
    try:
        stream, _stat = container.get_archive(path)
    except docker.errors.NotFound:
        return None
    with tar_stream(stream) as tar:
        return tar.next()


def read_path(container: Any, path: str, limit: int, hops: int = 8
              ) -> tuple[str, bytes] | None:
    """(the path symlinks led to, its first ``limit`` bytes) in ``container``; None when
    there is no such file. Read as a stream: the rest of the file is never transferred."""
    found = read_sized(container, path, limit, hops)
    return None if found is None else found[:2]


def read_sized(container: Any, path: str, limit: int, hops: int = 8
               ) -> tuple[str, bytes, int] | None:
    """:func:`read_path`, and the file's whole size (its tar header's), so that a reader
    knows what it did not read."""
    for _ in range(hops):
        try:
            stream, _stat = container.get_archive(path)
        except docker.errors.NotFound:
            return None
        with tar_stream(stream) as tar:
            member = tar.next()
            if member is None:
                return None
            if member.issym():
                target = member.linkname
                path = target if target.startswith("/") else posixpath.normpath(
                    posixpath.join(posixpath.dirname(path), target))
                continue
            fh = tar.extractfile(member)
            return path, (fh.read(limit) if fh else b""), member.size
    return None
