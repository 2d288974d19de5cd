"""A counting semaphore across processes, made of lock files: at most N holders at a time,
the waiters of a higher rank served first.

The workers of a run build every platform at once (the engine shares the machine between the
builds, as plain ``docker buildx build`` of several platforms does), but probe at most one
platform per core at a time: a probe's ELF audit reads a whole image and its hello world
compiles, and four of them on two cores each took three times as long (see
harness.plugin.scheduling). Each slot is one ``filelock`` file; a process holds one while
it probes. A process that dies releases its lock with it.

When the builds end together (a warm rerun), the order of the probes is the run's length:
an emulated platform's probe takes several times a native one's (its hello world compiles
under QEMU), so it should start first and the short ones fill in beside it. A waiter
therefore announces its rank in a lock file of its own, held while it waits (so a dead
waiter's announcement is seen as dead), and takes a free slot only when fewer waiters of a
higher rank (or of the same rank, come earlier) are waiting than slots are free. Races
between the announcements and the slots only change who goes first, never how many hold.

At the start of a run every worker asks at once, and the first to ask would take the free
slots whatever its rank (a native build once took a slot in the first second, and an
emulated one waited for it: docs/benchmarks.md). So a waiter may name the waiters it expects
to go first (``expect``, by label): it takes no slot until each of them has asked once in
this run (a ``seen-RUN-LABEL`` file), or until ``patience`` has run out (one that never comes, say
because its engine failed, must not hold the others back).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from filelock import FileLock, Timeout

POLL = 0.05  # seconds between tries while every slot is taken
PATIENCE = 10.0  # seconds a waiter waits for those it expects to go first
STALE = 3600.0  # seconds after which another run's marks are removed
_SEQ = itertools.count()


def _free(lock: FileLock) -> bool:
    """Whether nobody holds ``lock`` (tried and let go at once)."""
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return False
    lock.release()
    return True


class Slots:
    def __init__(self, where: Path, count: int) -> None:
        self.where, self.count = where, max(1, count)

    def _slot(self, i: int) -> FileLock:
        return FileLock(str(self.where / f"slot-{i}.lock"))

    def _ahead(self, mine: str, rank: int) -> int:
        """Live waiters served before a waiter of ``rank`` whose announcement is ``mine``:
        a higher rank, or the same rank announced earlier. A dead waiter's file is removed."""
        count, me = 0, _order(mine)
        for path in self.where.glob("wait-*.lock"):
            theirs = _order(path.name)
            if path.name == mine or theirs is None or me is None or theirs >= me:
                continue
            if _free(FileLock(str(path))):  # nobody waits behind it any more
                path.unlink(missing_ok=True)
                continue
            count += 1
        return count

    @contextlib.contextmanager
    def take(self, rank: int = 0, *, label: str = "", run: str = "",
             expect: Iterable[str] = (), patience: float = PATIENCE) -> Iterator[float]:
        """Hold a free slot for the ``with`` block; yields the seconds waited for it. Of the
        waiters, the higher ``rank`` (0 or more) goes first, then the one that came first;
        none is taken before the waiters labelled ``expect`` have asked in ``run`` (or
        ``patience`` seconds have passed)."""
        if rank < 0:
            raise ValueError(f"a slot's rank is 0 or more, not {rank}")
        self.where.mkdir(parents=True, exist_ok=True)
        start = time.monotonic()
        if label and run:
            self._seen(run, label)
        name = f"wait-{rank}-{time.monotonic_ns()}-{os.getpid()}-{next(_SEQ)}.lock"
        announced = FileLock(str(self.where / name))
        announced.acquire()
        expected = [self.where / f"seen-{run}-{e}" for e in expect] if run else []
        try:
            held = self._wait(name, rank, expected, start + patience)
        finally:
            (self.where / name).unlink(missing_ok=True)
            announced.release()
        try:
            yield time.monotonic() - start
        finally:
            held.release()

    def _seen(self, run: str, label: str) -> None:
        """Say that ``label`` has asked in ``run``; other runs' old marks are removed."""
        (self.where / f"seen-{run}-{label}").touch()
        for old in self.where.glob("seen-*"):
            with contextlib.suppress(OSError):
                if not old.name.startswith(f"seen-{run}-") and \
                        old.stat().st_mtime < time.time() - STALE:
                    old.unlink()

    def _wait(self, name: str, rank: int, expected: list[Path], deadline: float) -> FileLock:
        while True:
            if expected and time.monotonic() < deadline:
                expected = [e for e in expected if not e.exists()]
                if expected:
                    time.sleep(POLL)
                    continue
            ahead = self._ahead(name, rank)
            free = [i for i in range(self.count) if _free(self._slot(i))] if ahead else \
                list(range(self.count))
            if len(free) > ahead:
                for i in free:
                    lock = self._slot(i)
                    try:
                        lock.acquire(timeout=0)
                    except Timeout:
                        continue
                    return lock
            time.sleep(POLL)


def _order(name: str) -> tuple[int, int] | None:
    """Where an announcement ``wait-RANK-WHEN-….lock`` is served: the higher rank first, then
    the earlier; None for a file that is not one."""
    try:
        _, rank, when, _rest = name.split("-", 3)
        return -int(rank), int(when)
    except ValueError:
        return None
