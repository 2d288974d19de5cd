"""A service container's way to this host shut: an iptables rule on the host's INPUT chain.

An internal Docker network has no route out, but its bridge holds the gateway address on
this host, so a container on it reaches every service of the host that listens on 0.0.0.0
(Docker's isolation rules are in FORWARD; traffic to the host itself goes through INPUT).
The rule rejects every packet that comes in on the network's bridge and does not belong to
a connection the host opened: the harness still asks the service (its connections are the
host's own), the service can start none towards the host, on any address or port.
"""

from __future__ import annotations

import fcntl
import shutil
import socket
import struct
import subprocess
from pathlib import Path

from harness.core.failures.errors import CannotCheck

COMMENT = "harness-service"  # every rule of the harness's, told apart by it
SIOCGIFADDR = 0x8915  # Linux's ioctl for an interface's IPv4 address
PREFIX = "hs-"  # the bridges the harness names for its service networks
FIX = ("run the harness as root on the engine's host (the service check shuts the service's "
       "way to this host with iptables), or drop the service check")


def rule(interface: str) -> list[str]:
    """The rule's arguments, after the chain."""
    return ["-i", interface, "-m", "conntrack", "!", "--ctstate", "ESTABLISHED,RELATED",
            "-m", "comment", "--comment", COMMENT, "-j", "REJECT"]


def there(interface: str) -> None:
    """CannotCheck unless ``interface`` is on this machine (the rule would shut nothing)."""
    if not Path("/sys/class/net", interface).exists():
        raise CannotCheck(f"the service's network bridge {interface} is not on this machine, "
                          "so its way to this host cannot be shut", FIX)


def addressed(interface: str) -> None:
    """CannotCheck unless ``interface`` holds an IPv4 address on this host: without one, this
    host has no route to the network through it, and the service's address would be asked
    of whatever the default route leads to (measured: Podman 4.3's internal networks, whose
    bridge has none, and a 404 from this machine's gateway, as if the service had answered)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            fcntl.ioctl(s.fileno(), SIOCGIFADDR, struct.pack("256s", interface.encode()[:15]))
        except OSError as exc:
            raise CannotCheck(f"the service's network bridge {interface} has no address on "
                              "this host, so this host cannot reach the service on it",
                              "run service checks on Docker's engine (Podman gives an "
                              "internal network's bridge no address), or drop the service "
                              "check") from exc


def shut(interface: str, *, made_later: bool = False) -> None:
    """Shut the way from ``interface`` (a bridge on this host) into this host; CannotCheck
    when it cannot be (no iptables, not root, no such interface here: a promise of
    isolation that cannot be kept is not a check). ``made_later``: the engine makes the
    bridge with its first container (Podman); the rule, matched by name, is there before
    it, and the caller asks :func:`there` once it should be."""
    if not made_later:
        there(interface)
    iptables = shutil.which("iptables")
    if iptables is None:
        raise CannotCheck("the service's way to this host cannot be shut: no iptables "
                          "on this machine", FIX)
    try:
        done = subprocess.run([iptables, "-w", "30", "-I", "INPUT", *rule(interface)],
                              capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        raise CannotCheck(f"the service's way to this host cannot be shut: {exc}", FIX) from exc
    if done.returncode != 0:
        said = (done.stderr.strip().splitlines() or ["iptables failed"])[0][:200]
        raise CannotCheck(f"the service's way to this host cannot be shut: {said}", FIX)


def reopen(interface: str) -> None:
    """Take the rule away again (nothing when it is not there)."""
    iptables = shutil.which("iptables")
    if iptables is None:
        return
    subprocess.run([iptables, "-w", "30", "-D", "INPUT", *rule(interface)],
                   capture_output=True, timeout=60, check=False)


def sweep() -> None:
    """Take away the rules of bridges that are gone: a run killed outright (SIGKILL) leaves
    its rule behind, matching nothing, for ever. A bridge that is there is another run's."""
    iptables = shutil.which("iptables")
    if iptables is None:
        return
    try:
        listed = subprocess.run([iptables, "-w", "30", "-S", "INPUT"], capture_output=True,
                                text=True, timeout=60, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return
    for line in listed.splitlines():
        words = line.split()
        if COMMENT not in words or "-i" not in words or words[:2] != ["-A", "INPUT"]:
            continue
        interface = words[words.index("-i") + 1]
        if interface.startswith(PREFIX) and not Path("/sys/class/net", interface).exists():
            reopen(interface)
