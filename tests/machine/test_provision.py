"""The install list, proved on a clean Debian root: nothing but what provisioning installs.

A machine that once had a package hides its absence from the list (arch-test, a Recommends of
mmdebstrap, was missing for that reason), so this test bootstraps a bare Debian bookworm root
(minbase and python3), runs the harness's own install step in it (``python3 -m
harness.machine.provision install``: the same list and the same apt flags as
``nox -s preflight``), and
then uses, inside that root, every tool the harness needs: a foreign base is bootstrapped in
simulation (mmdebstrap's emulation check needs arch-test), binaries of each default platform
run, the engine, QEMU, binfmt tools and the buildx plugin answer.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from harness.core.platforms.table import DEFAULT_PLATFORMS, parse_platform
from harness.machine.debian import debian_mirror
from tests.helpers import ROOT

# Root on Debian: these install packages or take apt's lock (no engine needed).
pytestmark = pytest.mark.machine

SUITE = "bookworm"
# name -> command run inside the provisioned root; each must exit 0.
CHECKS = {
    "engine": "dockerd --version",
    "docker-cli": "docker --version",
    "buildx-plugin": "docker buildx version",
    "qemu": "qemu-aarch64-static --version && qemu-arm-static --version",
    "binfmt-tools": "update-binfmts --version",
    **{f"runs-{p.dpkg_arch}": f"arch-test {p.dpkg_arch}"
       for p in map(parse_platform, DEFAULT_PLATFORMS)},
    "foreign-base": "mmdebstrap --simulate --variant=minbase --architectures=armhf "
                    f"{SUITE} /dev/null 'deb {{mirror}} {SUITE} main'",
}

def proved(root: Path, install: str, checks: dict[str, str], mirror: str,
           before: tuple[str, ...] = (), after: tuple[str, ...] = ()) -> dict[str, str]:
    """Bootstrap a bare root, run ``provision install [install]`` in it, then each check
    there: its name and "ok" or "FAILED", by check (``before``/``after``: commands around
    them in the root, e.g. mounting binfmt_misc)."""
    script = "; ".join([
        *before,
        *(f"if {cmd.format(mirror=mirror)} >/tmp/check-{name}.log 2>&1; "
          f"then echo '{name} ok'; else echo '{name} FAILED'; cat /tmp/check-{name}.log; fi"
          for name, cmd in checks.items()),
        *after])
    cmd = [
        "mmdebstrap", "--variant=minbase", "--include=python3",
        f'--customize-hook=mkdir -p "$1/opt/h" && cp -r {ROOT / "harness"} "$1/opt/h/"',
        '--customize-hook=chroot "$1" env PYTHONPATH=/opt/h DEBIAN_FRONTEND=noninteractive '
        f"python3 -m harness.machine.provision install {install}".rstrip(),
        f'--customize-hook=chroot "$1" sh -c "{script}" > "$1/checks.txt" 2>&1',
        SUITE, str(root), f"deb {mirror} {SUITE} main",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1500, check=False,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = (root / "checks.txt").read_text()
    found = {line.split()[0]: line.split()[1] for line in report.splitlines()
             if line.split()[:1] and line.split()[0] in checks and len(line.split()) == 2}
    assert found == dict.fromkeys(checks, "ok"), report
    return found


def test_install_list_gives_every_capability_on_a_clean_root(tmp_path: Path) -> None:
    assert shutil.which("mmdebstrap"), "needs mmdebstrap: run `nox -s preflight` as root"
    mirror = debian_mirror()
    assert mirror, "no Debian mirror in this machine's apt sources"
    # binfmt_misc is mounted as provisioning mounts it (mmdebstrap reads the handlers' F flag
    # there); the handlers are the host's: nothing is registered from inside the root.
    proved(tmp_path / "root", "", CHECKS, mirror,
           before=("mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc",),
           after=("umount /proc/sys/fs/binfmt_misc",))


# --engine podman's list alone (`python3 -m harness.machine.provision install podman`).
PODMAN_CHECKS = {
    "podman": "podman --version",
    "conmon": "conmon --version",
    "oci-runtime": "runc --version || crun --version",
    # Without it Podman refuses every container with an init (the one-shot probes').
    "container-init": "test -x /usr/libexec/podman/catatonit",
    "networking": "test -x /usr/lib/cni/bridge || test -x /usr/lib/podman/netavark",
}


def test_podman_s_install_list_gives_what_engine_podman_needs_on_a_clean_root(
        tmp_path: Path) -> None:
    assert shutil.which("mmdebstrap"), "needs mmdebstrap: run `nox -s preflight` as root"
    mirror = debian_mirror()
    assert mirror, "no Debian mirror in this machine's apt sources"
    proved(tmp_path / "root", "podman", PODMAN_CHECKS, mirror)
