"""apt's lock held by another program while preflight sets the machine up: waited for, then
named with its holder (it failed at once, with a message about apt only)."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.core.failures.errors import CannotCheck
from harness.machine import provision

# Root on Debian: these install packages or take apt's lock (no engine needed).
pytestmark = pytest.mark.machine

LISTS_LOCK = Path("/var/lib/apt/lists/lock")
HOLD = ("import fcntl, sys, time; fh = open(sys.argv[1], 'w'); "
        "fcntl.lockf(fh, fcntl.LOCK_EX); print('held', flush=True); time.sleep(float(sys.argv[2]))")


def hold(path: Path, seconds: float) -> subprocess.Popen[str]:
    """Another process holding ``path`` as apt does (an fcntl lock)."""
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(path), str(seconds)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    proc.stdout.close()
    return proc


@pytest.fixture(autouse=True)
def _apt() -> None:
    if not provision.can_provision():
        pytest.skip("needs root on Debian/Ubuntu (apt's locks)")
    # Nobody else holds it now: an apt-get that just ended (the test before) can leave its
    # methods holding it for a moment, so it is waited for, briefly.
    deadline = time.monotonic() + 60
    with LISTS_LOCK.open("a") as fh:
        while True:
            try:
                fcntl.lockf(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                assert time.monotonic() < deadline, "another program holds apt's lists lock"
                time.sleep(0.5)
        fcntl.lockf(fh, fcntl.LOCK_UN)


def test_a_held_lock_is_waited_for() -> None:
    said: list[str] = []
    holder = hold(LISTS_LOCK, 4)
    start = time.monotonic()
    provision._run(["apt-get", "update", "-q"], said.append)
    assert time.monotonic() - start >= 3 and holder.wait(timeout=10) == 0
    assert any("waiting for it" in line for line in said)


def test_a_lock_held_too_long_is_named_with_its_holder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(provision, "LOCK_WAIT", 3.0)
    holder = hold(LISTS_LOCK, 15)
    try:
        with pytest.raises(CannotCheck) as info:
            provision._run(["apt-get", "update", "-q"], lambda _line: None)
    finally:
        holder.kill()
        holder.wait()
    assert f"It is held by process {holder.pid}" in info.value.message
    assert "let that program finish" in info.value.fix


CI = Path(__file__).resolve().parents[2] / ".ci"


def test_ci_waits_for_a_held_lock_as_preflight_does() -> None:
    """.ci/run's own apt-get (shellcheck, before the harness is installed) failed at once on a
    held lock: every apt-get there goes through .ci/apt-get, which waits for it."""
    script = (CI / "run").read_text()
    bare = [line for line in script.splitlines()
            if "apt-get " in line and not line.lstrip().startswith("#")
            and ".ci/apt-get" not in line and "/apt-get" not in line]
    assert not bare, bare
    holder = hold(LISTS_LOCK, 4)
    start = time.monotonic()
    run = subprocess.run([str(CI / "apt-get"), "update", "-qq"], capture_output=True,
                         text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stderr
    assert time.monotonic() - start >= 3 and holder.wait(timeout=10) == 0
    assert "waiting for it" in run.stderr


def test_ci_names_a_lock_held_too_long_with_its_holder() -> None:
    holder = hold(LISTS_LOCK, 15)
    try:
        run = subprocess.run([str(CI / "apt-get"), "update", "-qq"], capture_output=True,
                             text=True, timeout=60, check=False,
                             env={**os.environ, "APT_LOCK_WAIT": "3"})
    finally:
        holder.kill()
        holder.wait()
    assert run.returncode != 0
    assert f"It is held by process {holder.pid}" in run.stderr
