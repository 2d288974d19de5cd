"""A counting semaphore across processes, made of lock files: at most N holders at a time.

The workers of a run build every platform at once (the engine shares the machine between the
builds, as plain ``docker buildx build`` of several platforms does), but probe at most one
platform per core at a time: a probe's ELF audit reads a whole image and its hello world
compiles, and four of them on two cores each took three times as long (see
harness.plugin.scheduling). Each slot is one ``filelock`` file; a process holds one while
it probes. A process that dies releases its lock with it.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

POLL = 0.1  # seconds between tries while every slot is taken


class Slots:
    def __init__(self, where: Path, count: int) -> None:
        self.where, self.count = where, max(1, count)

    @contextlib.contextmanager
    def take(self) -> Iterator[float]:
        """Hold a free slot for the ``with`` block; yields the seconds waited for it."""
        self.where.mkdir(parents=True, exist_ok=True)
        start = time.monotonic()
        while True:
            for i in range(self.count):
                lock = FileLock(str(self.where / f"slot-{i}.lock"))
                try:
                    lock.acquire(timeout=0)
                except Timeout:
                    continue
                try:
                    yield time.monotonic() - start
                finally:
                    lock.release()
                return
            time.sleep(POLL)
