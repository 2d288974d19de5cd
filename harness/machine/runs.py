"""Each run's own: its id, and its report directory held for as long as it runs.

Two runs that share a report directory would read each other's ``status/`` files (a worker
adopts the build its controller handed over there, and the controller gathers the results
kept there), and so report each other's verdicts. The rule is one run per report directory:
the run that starts holds a lock on it (``status/run.lock``, a ``filelock`` file the kernel
frees when its holder dies, so a killed run never leaves it taken), and a second run with the
same directory refuses before any work, in one line that names the holder and the fix.

Every run has an id, the same in each of its processes (the controller hands it to its
workers), recorded in report.json and set as the ``dev.harness.run`` label of every container
the run starts, so that whoever looks for a run's containers finds those and no other run's.
It is made at random, after ``HARNESS_RUN_ID`` where that is set (``1234-3f9a…``: a CI's own
run id, or a test's, so that it finds the containers of every run it started): two runs given
the same ``HARNESS_RUN_ID`` (a CI's jobs of one workflow run) still have ids of their own.
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from pathlib import Path
from types import TracebackType

from filelock import FileLock, Timeout

from harness.core import sinks
from harness.core.clock import stamp
from harness.core.failures.errors import UsageError
from harness.machine import files

ENV = "HARNESS_RUN_ID"
LABEL = "dev.harness.run"  # on every container a run starts: the run's id
LOCK = "run.lock"  # in the report directory's status/
HOLDER = "run.holder"  # who holds it (not .json: the progress views read status/*.json)

_made = uuid.uuid4().hex  # this process's own id, where none is given
_joined: str | None = None  # the id of the run this process is a worker of


def clean(text: str) -> str:
    """An id as a label value and a file name part: letters, digits, ``_ . -``, at most 64."""
    return re.sub(r"[^A-Za-z0-9_.-]", "-", text)[:64]


def run_id() -> str:
    """This run's id: the controller's where this process is one of its workers, else one
    made for this process, after ``HARNESS_RUN_ID`` (see :func:`prefix`)."""
    if _joined:
        return _joined
    return prefix() + _made[:16]


def prefix() -> str:
    """What every run id starts with where ``HARNESS_RUN_ID`` is set (``ID-``), else ``""``."""
    given = clean(os.environ.get(ENV, ""))[:47]
    return f"{given}-" if given else ""


def join(run: str) -> None:
    """Take the run id of the controller this worker works for."""
    global _joined
    _joined = clean(run) or None


def labels() -> dict[str, str]:
    """The labels that say a container is this run's."""
    return {LABEL: run_id()}


class ReportDirLock:
    """The report directory held for one run: :meth:`acquire` takes it or raises the one-line
    usage error; :meth:`release` (or the process's end) frees it."""

    def __init__(self, report_dir: Path, run: str = "") -> None:
        self.report_dir = report_dir
        self.run = run or run_id()
        self._lock: FileLock | None = None

    def acquire(self) -> ReportDirLock:
        status = files.own_dir(self.report_dir / "status")
        path = status / LOCK
        files.unlink_link(path)  # filelock opens it for writing: never through a link
        lock = FileLock(str(path))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            raise UsageError(f"report directory {self.report_dir} is in use by "
                             f"{holder(self.report_dir)}",
                             "pass another --report-dir, or wait for that run to end") from None
        self._lock = lock
        files.write_atomic(status / HOLDER, json.dumps(
            {"pid": os.getpid(), "run": self.run, "started": stamp(time.time())}))
        return self

    def release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> ReportDirLock:
        return self.acquire()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def holder(report_dir: Path) -> str:
    """Who holds ``report_dir``, as the refusal names it: ``run PID (started TIME)``, or
    ``another run`` where it has not said so yet (it writes that just after it takes the
    lock). What the file says is data: bounded and escaped."""
    try:
        data = json.loads((report_dir / "status" / HOLDER).read_text(encoding="utf-8"))
        pid, started = int(data["pid"]), sinks.terminal(str(data["started"]), 40)
    except (OSError, ValueError, KeyError, TypeError):
        return "another run"
    try:
        os.kill(pid, 0)
    except ProcessLookupError:  # a file left by an earlier run: the holder has not said yet
        return "another run"
    except OSError:  # there, but not ours to signal
        pass
    return f"run {pid} (started {started})"
