"""Writing the harness's own files (reports, logs, status) without following links.

The harness runs as root in a directory a user or an earlier job prepared: a link planted in
the report directory (``reports/report.md`` -> ``/etc/...``) must never make it write
elsewhere. Reports are written to a new file and renamed into place (a link there is
replaced, not followed; a reader never sees half a file); logs are opened with
``O_NOFOLLOW`` after a link in their place is removed; the directories the harness owns
inside the report directory (``logs/``, ``status/``) are real directories.
"""

from __future__ import annotations

import contextlib
import io
import os
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


def read_json(path: Path, max_bytes: int, max_depth: int = jsondoc.MAX_DEPTH) -> Any:
    """The JSON of a file the harness did not just write (a kept answer, a report given to
    it): at most ``max_bytes`` of it are read (one larger is refused, not loaded whole) and
    it is parsed by harness.core.jsondoc; OSError, :class:`jsondoc.Exceeded` or ValueError."""
    with open(path, "rb") as fh:
        data = fh.read(max_bytes + 1)
    return jsondoc.parse(data, max_bytes=max_bytes, max_depth=max_depth)
