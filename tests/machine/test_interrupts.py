"""Stopping a run: Ctrl-C, and a CI cancel's SIGTERM taken as Ctrl-C and passed on to the
run's children. Real processes and real signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# A run in miniature: the handlers installed, a child started, then waiting to be stopped.
RUN = """\
import subprocess, sys, time
from harness.machine import interrupts
interrupts.install()
child = subprocess.Popen(["sleep", "60"], stdout=subprocess.DEVNULL)
try:  # the pid inside: the test's signal may come before the sleep starts
    print(child.pid, flush=True)
    time.sleep(60)
except KeyboardInterrupt as exc:
    print(f"interrupted: {exc}", flush=True)
    print(f"stopping: {interrupts.stopping()}, {interrupts.signalled()}", flush=True)
    sys.exit(2)
"""


def start(ignore_sigint: bool = False) -> tuple[subprocess.Popen[str], int]:
    def ignored() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    proc = subprocess.Popen([sys.executable, "-c", RUN], cwd=ROOT, stdout=subprocess.PIPE,
                            text=True, preexec_fn=ignored if ignore_sigint else None)
    assert proc.stdout is not None
    return proc, int(proc.stdout.readline())


def gone(pid: int, within: float = 10.0) -> bool:
    """Whether ``pid`` has exited (a zombie of an exited parent counts: it is no longer run)."""
    deadline = time.monotonic() + within
    while True:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return True
        if state == "Z":
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def test_ctrl_c_stops_a_run_started_with_sigint_ignored() -> None:
    """A background command of a shell without job control starts with SIGINT ignored;
    buildx under it still takes Ctrl-C, so the run must too."""
    proc, child = start(ignore_sigint=True)
    try:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=10)
        assert proc.returncode == 2 and "interrupted" in out
    finally:
        proc.kill()
        if not gone(child, 0):
            os.kill(child, signal.SIGKILL)


def test_a_ci_cancel_stops_the_run_and_its_children() -> None:
    proc, child = start()
    try:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
        assert proc.returncode == 2 and "interrupted: stopped by SIGTERM" in out
        assert gone(child), "the run's child was left running"
    finally:
        proc.kill()
        if not gone(child, 0):
            os.kill(child, signal.SIGKILL)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_the_process_knows_it_is_being_stopped(signum: int) -> None:
    """What a build thread asks when its buildx ends (harness.containers.build): Ctrl-C and a
    cancel alike, so that a build ended by them is not taken for a failing one."""
    proc, child = start()
    try:
        proc.send_signal(signum)
        out, _ = proc.communicate(timeout=10)
        assert proc.returncode == 2 and "stopping: True, True" in out, out
    finally:
        proc.kill()
        if not gone(child, 0):
            os.kill(child, signal.SIGKILL)
