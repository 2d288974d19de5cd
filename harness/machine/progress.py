"""Progress during long builds: workers write their phase, the controller shows it.

xdist workers cannot write to the terminal, so each platform's worker keeps a small status
file (``report-dir/status/PLATFORM.json``). In a terminal, :class:`LiveBoard` shows one line
per platform, updated in place (phase, time in it, the last build line), as buildx's tty
mode does; elsewhere (CI logs, ``--progress plain``) :class:`ProgressPrinter` prints phase
changes as they happen and, for phases that last, a line every ``interval`` seconds.
The live view is rich's (a well-kept library for exactly this: redrawing, terminal width,
no escape codes where the output is not a terminal) rather than hand-written escape codes.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from harness.core.jsondoc import JSON
from harness.core.platforms.table import Platform
from harness.core.platforms.unit import Unit
from harness.core.sinks import terminal
from harness.machine import files


class StatusBoard:
    """The worker side: one platform's current phase, kept in a file."""

    def __init__(self, directory: Path, platform: Platform | Unit,
                 min_interval: float = 0.5) -> None:
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
        self.last_line = terminal(line.strip(), 160)
        self._write(force=False)

    def _write(self, force: bool) -> None:
        now = time.time()
        if not force and now - self._last_write < self.min_interval:
            return
        self._last_write = now
        data = {"platform": self.platform.name, "phase": self.phase, "since": self.since,
                "line": self.last_line, "updated": now}
        files.write_atomic(self.path, json.dumps(data))  # the reader never sees half a file


STATUS_BYTES = 1 << 20  # a status is one line of a few hundred bytes (StatusBoard)


def read_statuses(directory: Path) -> list[JSON]:
    found = []
    for path in sorted(directory.glob("*.json")):
        try:
            found.append(files.read_json(path, STATUS_BYTES))
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


class LiveBoard:
    """The controller side in a terminal: a live table, a line per platform."""

    def __init__(self, directory: Path, platforms: list[str], file: TextIO,
                 before: Callable[[], None] = lambda: None, poll: float = 0.2) -> None:
        from rich.console import Console
        from rich.live import Live

        self.directory = directory
        self.platforms = platforms
        self.before = before
        self.poll = poll  # seconds between looks at whether the view may start
        self.console = Console(file=file, highlight=False)
        self._live = Live(get_renderable=self.table, console=self.console,
                          refresh_per_second=4, transient=False, redirect_stdout=False,
                          redirect_stderr=False)
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._started = False
        self._thread = threading.Thread(target=self._wait, name="harness-live", daemon=True)

    def table(self) -> Any:
        from rich.table import Table
        from rich.text import Text

        now = time.time()
        statuses = {st["platform"]: st for st in read_statuses(self.directory)}
        grid = Table.grid(padding=(0, 2), expand=True)
        for column in ("platform", "phase", "time", "line"):
            grid.add_column(column, no_wrap=True, overflow="ellipsis",
                            ratio=1 if column == "line" else None)
        for name in self.platforms:
            st = statuses.get(name)
            if st is None:
                grid.add_row(Text(name, style="bold"), Text("waiting", style="dim"), "", "")
                continue
            phase = st["phase"]
            lasting = phase.endswith("ing")
            style = {"pass": "green", "quirk": "yellow", "fail": "red"}.get(
                phase.split()[-1], "red" if "error" in phase else "cyan" if lasting else "")
            # Text, not markup: a build line's brackets are not rich's to read.
            grid.add_row(Text(name, style="bold"), Text(phase, style=style),
                         Text(_clock(now - st["since"])),
                         Text(st.get("line") or "", style="dim") if lasting else Text(""))
        return grid

    def start(self) -> None:
        self._thread.start()

    @property
    def showing(self) -> bool:
        """Whether the view has taken the screen."""
        return self._started

    def ready(self) -> None:
        """pytest and xdist have said what they say first: the view may take the screen."""
        self._ready.set()

    def _wait(self) -> None:
        """The view starts with the first platform's work, once pytest and xdist have said
        what they say first (ready: their lines would otherwise cut into it; xdist rewrites
        its "bringing up nodes" line in place while the builds already run)."""
        while not self._stop.wait(self.poll):
            if self._ready.is_set() and read_statuses(self.directory):
                self.before()
                self._live.start()
                self._started = True
                return

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        if self._started:
            self._live.stop()  # the last state stays on the screen


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"
