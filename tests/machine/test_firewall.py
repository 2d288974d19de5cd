"""The service's way into this host: the rule made and taken away, a rule left by a killed
run swept, and a bridge that is not on this machine an error (nothing could be shut)."""

from __future__ import annotations

import subprocess
import uuid

import pytest

from harness.core.failures.errors import CannotCheck
from harness.machine import firewall


def rules() -> str:
    return subprocess.run(["iptables", "-w", "-S", "INPUT"], capture_output=True, text=True,
                          check=True, timeout=60).stdout


def test_a_bridge_that_is_not_on_this_machine_cannot_be_shut() -> None:
    with pytest.raises(CannotCheck) as info:
        firewall.shut("hs-nowhere0")
    assert info.value.message == ("the service's network bridge hs-nowhere0 is not on this "
                                  "machine, so its way to this host cannot be shut")
    assert "root" in info.value.fix


@pytest.mark.machine
def test_a_rule_left_by_a_killed_run_is_swept_and_a_live_one_kept() -> None:
    gone, live = f"hs-{uuid.uuid4().hex[:8]}", f"hs-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "link", "add", live, "type", "bridge"], check=True, timeout=30)
    try:
        firewall.shut(live)
        # As a run killed with SIGKILL leaves it: its bridge removed, its rule not.
        subprocess.run(["iptables", "-w", "-I", "INPUT", *firewall.rule(gone)], check=True,
                       timeout=60)
        assert gone in rules() and live in rules()
        firewall.sweep()
        assert gone not in rules() and live in rules()
        firewall.reopen(live)
        assert live not in rules()
    finally:
        firewall.reopen(live)
        firewall.reopen(gone)
        subprocess.run(["ip", "link", "del", live], check=False, timeout=30)


def test_a_bridge_without_an_address_here_cannot_be_asked_through() -> None:
    """An interface with an IPv4 address here routes the service's address through it; one
    without (Podman's internal bridge, or none at all) would send the request elsewhere."""
    firewall.addressed("lo")  # 127.0.0.1
    with pytest.raises(CannotCheck, match=r"bridge hs-nothere has no address on this host"):
        firewall.addressed("hs-nothere")
