"""Scheduling: one platform per unit of work, base tags per platform, progress lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.containers.bases import local_tag
from harness.core.platforms.table import PLATFORMS, parse_platform
from harness.machine.debian import debian_suite
from harness.machine.progress import ProgressPrinter, StatusBoard
from harness.plugin import scheduling
from harness.plugin.scheduling import platform_of


def test_each_platform_is_one_unit_of_work() -> None:
    assert platform_of("tests/images/test_image.py::test_builds[linux/arm/v7]") == "linux/arm/v7"
    assert platform_of("tests/images/test_image.py::test_uname_is_platform[linux/arm64]") == \
        "linux/arm64"
    assert platform_of("tests/unit/test_x.py::test_plain") == "tests/unit/test_x.py::test_plain"
    # the platform is parametrised last: other parameters (a declared check, a user's own
    # parametrize) come before it in the id
    assert platform_of("::test_declared_check[app-version-linux/arm/v7]") == "linux/arm/v7"
    assert platform_of("checks/test_app.py::test_lib[libssl.so-3-linux/386]") == "linux/386"


def test_every_platform_gets_its_own_base_tag() -> None:
    tags = {local_tag("debian:bookworm-slim", p) for p in PLATFORMS}
    assert len(tags) == len(PLATFORMS)
    assert local_tag("debian:bookworm-slim", parse_platform("linux/arm/v7")) == \
        "harness.invalid/base/debian:bookworm-slim-linux-arm-v7"
    assert local_tag("docker.io/library/debian", parse_platform("linux/386")) == \
        "harness.invalid/base/library/debian:latest-linux-386"


def test_debian_suite_of_a_base() -> None:
    assert debian_suite("debian:bookworm-slim") == "bookworm"
    assert debian_suite("docker.io/library/debian:trixie") == "trixie"
    assert debian_suite("ubuntu:24.04") is None


def test_progress_prints_phase_changes_and_heartbeats(tmp_path: Path) -> None:
    lines: list[str] = []
    board = StatusBoard(tmp_path, parse_platform("linux/arm64"), min_interval=0)
    printer = ProgressPrinter(tmp_path, lines.append, interval=30)
    board.set("building")
    printer.poll(now=board.since + 1)
    board.line("Step 3/5 : RUN apt-get install rustc")
    printer.poll(now=board.since + 10)  # same phase, not yet due: quiet
    printer.poll(now=board.since + 40)  # due: a heartbeat with the last log line
    board.set("probing")
    printer.poll(now=board.since + 1)
    assert len(lines) == 3
    assert lines[0].split()[1:4] == ["linux/arm64", "building", "1s"]
    assert " 40s" in lines[1] and lines[1].endswith("Step 3/5 : RUN apt-get install rustc")
    assert "probing" in lines[2]
    assert json.loads((tmp_path / "linux-arm64.json").read_text())["phase"] == "probing"


def test_slim_bases_leave_out_what_debian_slim_leaves_out() -> None:
    from harness.containers.bases import slim_options

    options = slim_options()
    assert "--dpkgopt=path-exclude=/usr/share/man/*" in options
    assert "--dpkgopt=path-include=/usr/share/doc/*/copyright" in options


@pytest.mark.parametrize(("spec", "expected"), [
    ("popen", f"popen//nice={scheduling.WORKER_NICE}"),
    ("4*popen", f"4*popen//nice={scheduling.WORKER_NICE}"),
    ("popen//python=python3.12", f"popen//python=python3.12//nice={scheduling.WORKER_NICE}"),
    ("popen//nice=3", "popen//nice=3"),  # the user's own
    ("ssh=ci@arm-box//python=python3", "ssh=ci@arm-box//python=python3"),  # not this machine
    ("socket=10.0.0.2:8888", "socket=10.0.0.2:8888"),
])
def test_local_workers_yield_the_cpu_to_the_builds(spec: str, expected: str) -> None:
    assert scheduling.niced(spec) == expected
