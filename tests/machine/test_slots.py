"""Probe slots: at most N holders at once, across processes."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

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
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path), "1.5"],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    with Slots(tmp_path, 1).take() as waited:
        assert waited > 1.0  # the holder's 1.5 s, less the moment it took to say "held"
    holder.communicate()


def test_as_many_holders_as_slots_go_at_once(tmp_path: Path) -> None:
    slots, inside, most = Slots(tmp_path, 2), [0], [0]
    lock = threading.Lock()

    def probe() -> None:
        with slots.take():
            with lock:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            time.sleep(0.3)
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
