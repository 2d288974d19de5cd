"""Writing the harness's own files (reports, logs, status) without following links.

The harness runs as root in a directory a user or an earlier job prepared: a link planted in
the report directory (``reports/report.md`` -> ``/etc/...``) must never make it write
elsewhere. Reports are written to a new file and renamed into place (a link there is
replaced, not followed; a reader never sees half a file); logs are opened with
``O_NOFOLLOW`` after a link in their place is removed; the directories the harness owns
inside the report directory (``logs/``, ``status/``) are real directories.

Files a user names (a structure test, a check) are read by :func:`read_regular`: a regular
file only, and only so much of it.
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
import tempfile
from pathlib import Path
from typing import Any, TextIO

from harness.core import jsondoc, sinks


def cache_dir(name: str) -> Path:
    """The harness's cache ``name``: ``$XDG_CACHE_HOME/harness/NAME`` (``~/.cache``)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "harness" / name


def own_dir(path: Path) -> Path:
    """``path`` as a real directory of the harness's: a link in its place is removed first."""
    unlink_link(path)
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_atomic(path: Path, text: str) -> None:
    """``text`` in ``path``, by a new file renamed into place (a link at ``path`` is
    replaced, never written through)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class _Redacting(io.TextIOWrapper):
    """A log's text, credentials redacted as they are written (a log is a sink too)."""

    def write(self, text: str) -> int:
        super().write(sinks.redact(text))
        return len(text)


def open_log(path: Path, append: bool = False) -> TextIO:
    """A log file for writing (truncated, or appended to), never through a link;
    credentials in what is written are redacted."""
    path.parent.mkdir(parents=True, exist_ok=True)
    unlink_link(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | (os.O_APPEND if append else os.O_TRUNC)
    fd = os.open(path, flags, 0o644)
    raw = os.fdopen(fd, "ab" if append else "wb", buffering=0)
    return _Redacting(io.BufferedWriter(raw), encoding="utf-8", errors="replace",
                      write_through=True)


def append_log(path: Path, text: str) -> None:
    with open_log(path, append=True) as fh:
        fh.write(text)


def unlink_link(path: Path) -> None:
    """Remove a link at ``path`` (a file that another program will open for writing)."""
    if path.is_symlink():
        path.unlink()


_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"))


class NotRegular(ValueError):
    """A path that is not a regular file: reading it could block for ever (a FIFO with no
    writer) or never end (``/dev/zero``)."""

    def __init__(self, path: Path, kind: str) -> None:
        super().__init__(f"{path} is {kind}, not a regular file")
        self.kind = kind


class TooBig(ValueError):
    """A regular file longer than the reader takes."""

    def __init__(self, path: Path, limit: int) -> None:
        super().__init__(f"{path} is bigger than {limit} bytes")
        self.limit = limit


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a file")


def regular(path: Path) -> None:
    """``path`` (a link followed) is a regular file, asked without opening it: raises
    :class:`NotRegular` otherwise, ``OSError`` when it cannot be looked at."""
    mode = path.stat().st_mode
    if not stat.S_ISREG(mode):
        raise NotRegular(path, _kind(mode))


def read_regular(path: Path, limit: int) -> bytes:
    """The bytes of the regular file ``path`` (a link followed), at most ``limit`` of them:
    anything else is :class:`NotRegular` before it is read, a longer file :class:`TooBig`
    after ``limit + 1`` bytes. Opened without blocking and checked again once open, so a FIFO
    put in its place after the first look does not hang the read either."""
    regular(path)
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegular(path, _kind(mode))
        chunks, size = [], 0
        while size <= limit and (chunk := os.read(fd, min(limit + 1 - size, 1 << 20))):
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    if size > limit:
        raise TooBig(path, limit)
    return b"".join(chunks)


def read_json(path: Path, max_bytes: int, max_depth: int = jsondoc.MAX_DEPTH) -> Any:
    """The JSON of a file the harness did not just write (a kept answer, a report given to
    it): at most ``max_bytes`` of it are read (one larger is refused, not loaded whole) and
    it is parsed by harness.core.jsondoc; OSError, :class:`jsondoc.Exceeded` or ValueError
    (:class:`NotRegular` and :class:`TooBig` among them: a FIFO is never opened to block)."""
    return jsondoc.parse(read_regular(path, max_bytes), max_bytes=max_bytes,
                         max_depth=max_depth)
