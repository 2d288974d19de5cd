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
    """Handle SIGTERM and SIGHUP as Ctrl-C, and Ctrl-C as Python does by default. Only the
    main thread can set handlers; elsewhere (an xdist worker's execution thread) the
    process's own handlers stay."""
    try:
        if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        for signum in SIGNALS:
            signal.signal(signum, _interrupt)
    except ValueError:
        return
