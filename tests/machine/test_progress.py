"""The live view's table: a line per platform, from the workers' status files."""

from __future__ import annotations

import io
import time
from pathlib import Path

from rich.console import Console

from harness.core.platforms.table import parse_platform
from harness.machine.progress import LiveBoard, StatusBoard


def test_a_line_per_platform_with_the_build_output_as_text(tmp_path: Path) -> None:
    arm = StatusBoard(tmp_path, parse_platform("linux/arm64"), min_interval=0)
    arm.set("building")
    arm.line("#5 [2/3] RUN echo [bold red]not markup[/bold red] \x1b[31m" + "x" * 300)
    StatusBoard(tmp_path, parse_platform("linux/amd64"), min_interval=0).set("quirk")
    board = LiveBoard(tmp_path, ["linux/amd64", "linux/arm64", "linux/386"], io.StringIO())
    out = io.StringIO()
    Console(file=out, width=100, color_system=None).print(board.table())
    lines = out.getvalue().splitlines()
    assert [line.split()[:2] for line in lines] == [
        ["linux/amd64", "quirk"], ["linux/arm64", "building"], ["linux/386", "waiting"]]
    assert "[bold red]not markup[/bold red]" in lines[1]  # shown as it was printed
    assert "\x1b" not in out.getvalue() and all(len(line) <= 100 for line in lines)
    assert lines[0].split()[2].endswith("s") and len(lines[0].split()) == 3  # no build line


def test_the_view_waits_for_ready_though_the_builds_have_begun(tmp_path: Path) -> None:
    """The builds begin before xdist's workers are up (harness.plugin.head_start): the view
    must not draw under xdist's "bringing up nodes" line, which xdist rewrites in place."""
    StatusBoard(tmp_path, parse_platform("linux/arm64"), min_interval=0).set("building")
    board = LiveBoard(tmp_path, ["linux/arm64"], io.StringIO(), poll=0.05)
    board.start()
    try:
        time.sleep(0.15)  # three of its polls
        assert not board.showing
        board.ready()
        deadline = time.monotonic() + 5
        while not board.showing and time.monotonic() < deadline:
            time.sleep(0.05)
        assert board.showing
    finally:
        board.stop()
