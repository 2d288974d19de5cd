"""The probes that run beside each other (harness.containers.probes._beside); the probes
themselves are in tests/engine/test_probing.py."""

from __future__ import annotations

import threading

import pytest

from harness.containers import probes


def test_an_interrupt_beside_a_long_probe_does_not_wait_for_it() -> None:
    """Ctrl-C while the hello world compiles (minutes under QEMU) leaves at once: the
    probe's container is removed next, which ends the compile."""
    release = threading.Event()
    with pytest.raises(KeyboardInterrupt), probes._beside() as pool:
        compiling = pool.submit(release.wait, 60)
        raise KeyboardInterrupt
    assert not compiling.done()  # not waited for
    release.set()
    assert compiling.result(timeout=5) is True


def test_on_the_way_out_without_an_error_every_probe_beside_is_waited_for() -> None:
    release = threading.Event()
    with probes._beside() as pool:
        done = pool.submit(release.wait, 60)
        threading.Timer(0.2, release.set).start()
    assert done.done() and done.result() is True
