"""Progress during long builds: workers write their phase, the controller prints it.

xdist workers cannot write to the terminal, so each platform's worker keeps a small status
file (``report-dir/status/PLATFORM.json``) and a thread in the controlling process prints
phase changes as they happen and, for phases that last, a line every ``interval`` seconds
with the time spent and the last line of the log.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.core.diagnosis import clean
from harness.core.platforms import Platform


class StatusBoard:
    """The worker side: one platform's current phase, kept in a file."""

    def __init__(self, directory: Path, platform: Platform, min_interval: float = 0.5) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / f"{platform.slug}.json"
        self.platform = platform
        self.phase = ""
        self.since = time.time()
        self._last_write = 0.0
        self.min_interval = min_interval
        self.last_line = ""

    def set(self, phase: str, line: str = "") -> None:
        self.phase, self.since, self.last_line = phase, time.time(), line
        self._write(force=True)

    def line(self, line: str) -> None:
        """A log line of the current phase; the file is rewritten at most twice a second.
        Build output is the image's: escaped and bounded before it reaches a terminal."""
        self.last_line = clean(line.strip(), 160)
        self._write(force=False)

    def _write(self, force: bool) -> None:
        now = time.time()
        if not force and now - self._last_write < self.min_interval:
            return
        self._last_write = now
        data = {"platform": self.platform.name, "phase": self.phase, "since": self.since,
                "line": self.last_line, "updated": now}
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, self.path)  # atomic: the reader never sees half a file


def read_statuses(directory: Path) -> list[dict[str, Any]]:
    found = []
    for path in sorted(directory.glob("*.json")):
        try:
            found.append(json.loads(path.read_text()))
        except (OSError, ValueError):
            continue
    return found


class ProgressPrinter:
    """The controller side: a daemon thread that prints what each platform is doing."""

    def __init__(self, directory: Path, write: Callable[[str], None],
                 interval: float = 30.0) -> None:
        self.directory = directory
        self.write = write
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="harness-progress", daemon=True)
        self._seen: dict[str, tuple[str, float]] = {}
        self._told: dict[str, float] = {}

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            self.poll()

    def poll(self, now: float | None = None) -> None:
        now = now or time.time()
        for st in read_statuses(self.directory):
            name, phase, since = st["platform"], st["phase"], st["since"]
            changed = self._seen.get(name) != (phase, since)
            due = now - self._told.get(name, 0) >= self.interval
            if not changed and not (due and phase.endswith("ing")):
                continue
            self._seen[name] = (phase, since)
            self._told[name] = now
            elapsed = now - since
            tail = f" | {st['line']}" if st.get("line") and phase.endswith("ing") else ""
            self.write(f"[harness] {name:<14} {phase:<12} {_clock(elapsed)}{tail}")


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"
