"""Probe slots: at most N holders at once, across processes."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from harness.machine.slots import Slots

HOLD = """
import sys, time
from pathlib import Path

from harness.machine.slots import Slots
with Slots(Path(sys.argv[1]), 1).take():
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def test_a_second_process_waits_for_the_only_slot_and_gets_it_when_freed(tmp_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path), "1.0"],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    with Slots(tmp_path, 1).take() as waited:
        assert waited > 0.5  # the holder's 1.0 s, less the moment it took to say "held"
    holder.communicate()


def test_as_many_holders_as_slots_go_at_once(tmp_path: Path) -> None:
    slots, inside, most = Slots(tmp_path, 2), [0], [0]
    lock = threading.Lock()

    def probe() -> None:
        with slots.take():
            with lock:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            time.sleep(0.1)  # long beside taking a slot: the holders overlap
            with lock:
                inside[0] -= 1

    threads = [threading.Thread(target=probe) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most[0] == 2


def test_a_process_that_dies_holding_a_slot_frees_it(tmp_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path), "60"],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    holder.kill()
    holder.communicate()
    with Slots(tmp_path, 1).take() as waited:
        assert waited < 1.0


WAIT = """
import sys, time
from pathlib import Path

from harness.machine.slots import Slots
with Slots(Path(sys.argv[1]), 1).take(int(sys.argv[2])):
    print(time.monotonic(), flush=True)
"""


def _announced(where: Path, pattern: str, count: int) -> None:
    deadline = time.monotonic() + 20
    while len(list(where.glob(pattern))) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(list(where.glob(pattern))) == count, f"{count} waiters announced {pattern}"


def test_the_waiter_of_the_higher_rank_gets_the_slot_first_whoever_came_first(
        tmp_path: Path) -> None:
    # A warm rerun: every build ends at once, and the emulated probes (rank 1) are the long
    # ones: the native one (rank 0) that asked first must let them go ahead.
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path), "60"],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    native = subprocess.Popen([sys.executable, "-c", WAIT, str(tmp_path), "0"],
                              stdout=subprocess.PIPE, text=True)
    _announced(tmp_path, "wait-0-*", 1)  # the native waiter asked before the emulated ones
    emulated = [subprocess.Popen([sys.executable, "-c", WAIT, str(tmp_path), "1"],
                                 stdout=subprocess.PIPE, text=True) for _ in range(2)]
    _announced(tmp_path, "wait-1-*", 2)
    holder.kill()  # its slot comes free with all three waiting
    holder.communicate()
    got = {name: float(p.communicate()[0]) for name, p in
           [("native", native), ("emulated-1", emulated[0]), ("emulated-2", emulated[1])]}
    assert got["native"] > max(got["emulated-1"], got["emulated-2"]), got
    assert not list(tmp_path.glob("wait-*")), "every waiter's announcement is gone"


def test_a_dead_waiter_of_a_higher_rank_does_not_hold_the_others_back(tmp_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path), "60"],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    ghost = subprocess.Popen([sys.executable, "-c", WAIT, str(tmp_path), "5"],
                             stdout=subprocess.PIPE, text=True)
    _announced(tmp_path, "wait-5-*", 1)
    ghost.kill()
    ghost.communicate()
    holder.kill()
    holder.communicate()
    with Slots(tmp_path, 1).take(0) as waited:
        assert waited < 1.0
    assert not list(tmp_path.glob("wait-*"))


def test_a_negative_rank_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="0 or more"), Slots(tmp_path, 1).take(-1):
        pass


EXPECTING = """
import sys, time
from pathlib import Path
from harness.machine.slots import Slots
rank, label, expect = int(sys.argv[2]), sys.argv[3], [e for e in sys.argv[4:] if e]
with Slots(Path(sys.argv[1]), 1).take(rank, label=label, run="run-1", expect=expect):
    print(time.monotonic(), flush=True)
    time.sleep(0.3)
"""


def test_a_native_build_lets_the_emulated_ones_it_expects_ask_first(tmp_path: Path) -> None:
    # The start of a run: the slot is free, and the native platform asks first. It waits
    # for the emulated one it expects, which then goes first.
    native = subprocess.Popen([sys.executable, "-c", EXPECTING, str(tmp_path), "0",
                               "linux-amd64", "linux-arm64"], stdout=subprocess.PIPE, text=True)
    _announced(tmp_path, "wait-0-*", 1)
    time.sleep(0.5)  # the slot is free all this time, and the native waiter leaves it
    assert native.poll() is None, "the native waiter is still waiting"
    emulated = subprocess.Popen([sys.executable, "-c", EXPECTING, str(tmp_path), "1",
                                 "linux-arm64", ""], stdout=subprocess.PIPE, text=True)
    got_native, got_emulated = float(native.communicate()[0]), float(emulated.communicate()[0])
    assert got_emulated < got_native


def test_a_waiter_expected_that_never_comes_holds_the_others_back_no_longer_than_patience(
        tmp_path: Path) -> None:
    start = time.monotonic()
    with Slots(tmp_path, 1).take(0, label="linux-amd64", run="run-2", expect=["linux-arm64"],
                                 patience=0.25) as waited:
        assert 0.25 <= waited < 2.0
    assert time.monotonic() - start < 3.0
    # Another run's marks do not count as this run's.
    with Slots(tmp_path, 1).take(0, label="linux-386", run="run-3", expect=["linux-amd64"],
                                 patience=0.25) as waited:
        assert waited >= 0.25
