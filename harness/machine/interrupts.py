"""A cancelled run stops like an interrupted one: SIGTERM and SIGHUP become KeyboardInterrupt.

A CI cancel sends SIGTERM, often to one process only. Raised as KeyboardInterrupt, it takes
the path Ctrl-C takes (builds cancelled, probe containers removed, reports written, exit 2);
it is first passed on to this process's children (xdist workers, a buildx build), so that
each of them stops the same way instead of being orphaned.

Ctrl-C itself stops the run even where the run was started with SIGINT ignored (a shell
without job control starts its background commands so, and Python then leaves SIGINT
ignored): the docker CLI and buildx, in Go, take SIGINT whatever they inherit, so a Ctrl-C
would otherwise cancel the builds under a run that goes on as if nothing happened.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from pathlib import Path
from types import FrameType

SIGNALS = (signal.SIGTERM, signal.SIGHUP)
# Set once this process is told to stop (or stops its own builds): a build thread whose buildx
# ends then is interrupted, whatever buildx printed as it went (harness.core.failures.diagnosis).
_stopping = threading.Event()
_signalled = threading.Event()  # by Ctrl-C, SIGTERM or SIGHUP (not by its own record())


def stopping() -> bool:
    """Whether this process is being stopped: Ctrl-C, SIGTERM or SIGHUP came, or
    :func:`record` was called (its builds cancelled)."""
    return _stopping.is_set()


def signalled() -> bool:
    """Whether Ctrl-C, SIGTERM or SIGHUP came: the run was interrupted, whatever pytest's
    own status came to be."""
    return _signalled.is_set()


def record() -> None:
    """This process stops its work: from now on, whatever ends is interrupted."""
    _stopping.set()


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
    _signalled.set()
    _stopping.set()  # before the children hear it: their end must find it set
    for pid in children():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)
    raise KeyboardInterrupt(f"stopped by {signal.Signals(signum).name}")


def _ctrl_c(signum: int, frame: FrameType | None) -> None:
    """Ctrl-C as Python takes it (KeyboardInterrupt), recorded first. Not passed on: a
    terminal's Ctrl-C reaches the whole foreground group by itself."""
    _signalled.set()
    _stopping.set()
    signal.default_int_handler(signum, frame)


def install() -> None:
    """Handle SIGTERM and SIGHUP as Ctrl-C, and Ctrl-C as Python does by default. Only the
    main thread can set handlers; elsewhere (an xdist worker's execution thread) the
    process's own handlers stay."""
    try:
        signal.signal(signal.SIGINT, _ctrl_c)  # even where it was started ignored
        for signum in SIGNALS:
            signal.signal(signum, _interrupt)
    except ValueError:
        return
