"""A cancelled run stops like an interrupted one: SIGTERM and SIGHUP become KeyboardInterrupt.

A CI cancel sends SIGTERM, often to one process only. Raised as KeyboardInterrupt, it takes
the path Ctrl-C takes (builds cancelled, probe containers removed, reports written, exit 2);
it is first passed on to this process's children (xdist workers, a buildx build), so that
each of them stops the same way instead of being orphaned.
"""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path
from types import FrameType

SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def children(pid: int | None = None) -> list[int]:
    """The direct children of ``pid`` (this process by default), from /proc."""
    parent = pid or os.getpid()
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # The command name may hold spaces and parentheses: the ppid follows the last ')'.
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == parent:
            found.append(int(stat.parent.name))
    return found


def _interrupt(signum: int, _frame: FrameType | None) -> None:
    for pid in children():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)
    raise KeyboardInterrupt(f"stopped by {signal.Signals(signum).name}")


def install() -> None:
    """Handle SIGTERM and SIGHUP as Ctrl-C. Only the main thread can set handlers; elsewhere
    (an xdist worker's execution thread) the process's own handler stays."""
    for signum in SIGNALS:
        try:
            signal.signal(signum, _interrupt)
        except ValueError:
            return
