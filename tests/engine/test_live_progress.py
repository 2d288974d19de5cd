"""The live view in a real terminal: a run under tmux, its screen captured mid-run (one line
per platform, updating in place) and at the end (the verdict table); and the plain lines
with --progress plain."""

from __future__ import annotations

import re
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import ROOT, TINY, debian_package, harness_cmd

SLOW = """\
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
RUN for i in 1 2 3 4 5 6 7 8; do echo "step $i of the slow build"; sleep 1; done
"""
PLATFORMS = ("linux/amd64", "linux/386")


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Callable[..., Callable[[], str]]]:
    """``terminal(*harness args)``: the run in a 140x40 tmux pane; returns the screen reader
    (``reader(scrollback=True)`` reads the lines that scrolled off the top too)."""
    debian_package("tmux", "tmux")
    session = f"harness-{uuid.uuid4().hex[:8]}"

    def start(*args: str) -> Callable[..., str]:
        command = " ".join(f"'{a}'" for a in harness_cmd(*args, workers="2"))
        subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "140", "-y", "40",
                        f"cd {ROOT} && TERM=xterm-256color {command}; echo EXIT=$?; "
                        "sleep 300"], check=True)

        def read(scrollback: bool = False) -> str:
            since = ["-S", "-"] if scrollback else []
            return subprocess.run(["tmux", "capture-pane", "-p", *since, "-t", session],
                                  capture_output=True, text=True, check=True).stdout

        return read

    yield start
    subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True, check=False)


def wait_for(screen: Callable[[], str], pattern: str, timeout: float = 300) -> str:
    deadline = time.monotonic() + timeout
    while True:
        text = screen()
        if re.search(pattern, text, re.MULTILINE):
            return text
        assert time.monotonic() < deadline, f"never saw {pattern!r}:\n{text}"
        time.sleep(0.3)


def args(tmp_path: Path, *extra: str) -> list[str]:
    (tmp_path / "Dockerfile").write_text(SLOW)
    return [f"--dockerfile={tmp_path / 'Dockerfile'}", f"--build-arg=BASE_IMAGE={TINY}",
            "--require=", f"--report-dir={tmp_path / 'r'}", "--image=harness-test/live",
            "--no-cache", f"--platform={','.join(PLATFORMS)}", *extra]


def test_one_line_per_platform_updated_in_place(terminal: Any, tmp_path: Path,
                                                tiny_base: Any) -> None:
    for p in PLATFORMS:
        tiny_base(p)
    screen = terminal(*args(tmp_path))
    first = wait_for(screen, r"^linux/amd64 +building .*step \d of the slow build")
    time.sleep(2.5)
    later = wait_for(screen, r"^linux/386 +building")
    for p in PLATFORMS:  # one line each, redrawn, not a line per change
        assert len(re.findall(rf"^{re.escape(p)} ", later, re.MULTILINE)) == 1, later
    clock = re.compile(r"^linux/amd64 +building +(\S+)", re.MULTILINE)
    assert clock.search(first) and clock.search(later)
    assert clock.search(first)[1] != clock.search(later)[1]  # the time in the phase moves
    assert "[harness]" not in later  # no plain lines mixed in
    end = wait_for(screen, r"^EXIT=\d+")
    assert "EXIT=0" in end, end
    assert re.search(r"^PLATFORM +VERDICT", end, re.MULTILINE), end
    assert re.search(r"^linux/amd64 +pass +\d+s", end, re.MULTILINE), end  # the live view
    assert re.search(r"^linux/386 +quirk +\d+s", end, re.MULTILINE), end


def test_progress_plain_prints_a_line_per_change(terminal: Any, tmp_path: Path,
                                                 tiny_base: Any) -> None:
    for p in PLATFORMS:
        tiny_base(p)
    screen = terminal(*args(tmp_path, "--progress=plain"))
    wait_for(screen, r"^EXIT=\d+")
    # builds start before the workers come up, so their lines are above a 40-line screen's top
    end = screen(scrollback=True)
    assert "EXIT=0" in end, end
    assert re.search(r"^\[harness\] linux/amd64 +building", end, re.MULTILINE), end
