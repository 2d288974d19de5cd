"""Set up what the harness needs on a Debian or Ubuntu machine, as root.

A container engine (docker.io, started as ``dockerd`` when there is no systemd), QEMU's user
mode handlers registered through binfmt_misc, the buildx plugin (from the next Debian suite
where the machine's own suite has none) and mmdebstrap for bases when no registry is reachable.
Elsewhere nothing is installed: :func:`missing_fix` says what to install.
"""

from __future__ import annotations

import os
import platform as host_platform
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from harness.core.failures.diagnosis import Event, Stage, diagnose
from harness.core.failures.errors import CannotCheck, from_diagnosis
from harness.core.platforms import native
from harness.core.platforms.table import PLATFORMS
from harness.machine import polling
from harness.machine.debian import BUILDX_SOURCES, debian_mirror
from harness.machine.host import read_handlers, run_mode

# Installed without Recommends, so what the harness relies on is named here: arch-test is only
# a Recommends of mmdebstrap, and mmdebstrap refuses every foreign base without it.
PACKAGES = ("docker.io", "qemu-user-static", "binfmt-support", "mmdebstrap", "arch-test")
# --engine podman only; its Depends bring conmon, an OCI runtime and its networking.
# catatonit is only a Recommends, and without it Podman refuses every container with an init
# ("container-init binary not found on the host"): the probes' one-shot containers have one.
PODMAN_PACKAGES = ("podman", "catatonit")
APT_INSTALL = ("apt-get", "install", "-y", "-q", "--no-install-recommends")
DOCKERD_LOG = Path("/var/log/harness-dockerd.log")
SOCKET = Path("/var/run/docker.sock")
SOCKET_URL = f"unix://{SOCKET}"
BINFMT = Path("/proc/sys/fs/binfmt_misc")
# Debian bookworm ships no buildx; trixie's docker-buildx needs only libc6 >= 2.34.
BUILDX_SUITE = "trixie"
_SOURCES = BUILDX_SOURCES
_PIN = Path("/etc/apt/preferences.d/harness-buildx")

Say = Callable[[str], None]


def os_release() -> dict[str, str]:
    try:
        text = Path("/etc/os-release").read_text()
    except OSError:
        return {}
    return {k: v.strip('"') for k, _, v in (line.partition("=") for line in text.splitlines())
            if k}


def can_provision() -> bool:
    info = os_release()
    family = {info.get("ID", "")} | set(info.get("ID_LIKE", "").split())
    return os.geteuid() == 0 and bool(family & {"debian", "ubuntu"}) and bool(
        shutil.which("apt-get"))


def missing_fix() -> str:
    if os.geteuid() != 0:
        return "run `nox -s preflight` as root on Debian/Ubuntu to set everything up, or install "\
               "a Docker engine, qemu-user-static with binfmt-support, and mmdebstrap"
    return "install a Docker engine, QEMU user-mode handlers (qemu-user-static + " \
           "binfmt-support, or `docker run --privileged tonistiigi/binfmt --install all`) " \
           "and mmdebstrap"


# apt's lock held by another program (unattended-upgrades, an apt-get of the user's) is
# waited for this long: apt-get install waits by itself (DPkg::Lock::Timeout), apt-get update
# does not, so it is tried again until then.
LOCK_WAIT = 300.0


def _run(cmd: list[str], say: Say, check: bool = True) -> subprocess.CompletedProcess[str]:
    say("$ " + " ".join(cmd))
    if cmd[0] == "apt-get":
        cmd = [cmd[0], "-o", f"DPkg::Lock::Timeout={LOCK_WAIT:.0f}", *cmd[1:]]
    deadline = time.monotonic() + LOCK_WAIT
    while True:
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False,
                              env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
                              stdin=subprocess.DEVNULL)
        if proc.returncode == 0 or not check:
            return proc
        d = diagnose(Event(Stage.PROVISION, output=proc.stdout + proc.stderr,
                           status=proc.returncode, command=" ".join(cmd)))
        if d.cause != "apt-locked" or time.monotonic() > deadline:
            break
        say("  apt is locked by another program: waiting for it")
        time.sleep(2.0)
    if check and proc.returncode != 0:
        if d.cause == "provision-failed":  # nothing more specific: say what to install
            raise CannotCheck(f"`{' '.join(cmd)}` failed: {d.message}", missing_fix())
        raise from_diagnosis(d)
    return proc


_updated = False


def apt_install(packages: list[str], say: Say) -> None:
    global _updated
    if not _updated:
        _run(["apt-get", "update", "-q"], say)
        _updated = True
    _run([*APT_INSTALL, *packages], say)


def missing_packages() -> list[str]:
    return [p for p in PACKAGES if not _installed(p)]


def install_packages(say: Say) -> None:
    needed = missing_packages()
    if needed:
        apt_install(needed, say)


def _installed(package: str) -> bool:
    try:
        proc = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package],
                              capture_output=True, text=True, check=False)
    except OSError:  # not a dpkg system: nothing is known to be installed
        return False
    return "install ok installed" in proc.stdout


def enable_binfmt(say: Say) -> None:
    if not (BINFMT / "status").exists():
        _run(["mount", "-t", "binfmt_misc", "binfmt_misc", str(BINFMT)], say)
    _run(["update-binfmts", "--enable"], say, check=False)  # fails harmlessly per format
    register_missing_modes(say)


def register_missing_modes(say: Say, arch: str | None = None, directory: Path = BINFMT,
                           proof: native.Proof | None = None) -> list[str]:
    """QEMU's handler, with the F flag, for each 32-bit mode of this CPU family that no
    handler serves and whose tiny program did not run (AArch32 on most cloud arm64 CPUs):
    Debian's qemu-user-static registers none for the host's own family. The handlers
    registered, by name; ``arch`` and ``proof`` stand for this machine's (tests)."""
    arch = arch or host_platform.machine()
    handlers = read_handlers(directory)
    done: list[str] = []
    for platform in PLATFORMS:
        name = native.handler_name(platform)
        if name is None or name in done or not native.needs_proof(platform, arch):
            continue
        if run_mode(platform, arch, handlers, proof).can_run:
            continue
        # Static, as F opens it now for every container, whose filesystem has no libraries
        # of this host's.
        interpreter = shutil.which(f"{name}-static")
        if interpreter is None:
            say(f"{platform.name} does not run natively here and there is no {name}-static "
                "to register for it (apt-get install qemu-user-static)")
            continue
        line = native.register_line(platform, os.path.realpath(interpreter))
        say(f"this {arch} CPU does not run {platform.name} natively: registering {name} "
            f"({interpreter}, flags F)")
        (directory / "register").write_text(line)
        done.append(name)
    return done


def engine_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=5).ping()
    except Exception:
        return False
    return True


def start_engine(say: Say, wait: float = 60.0) -> None:
    if engine_answers():
        return
    if os.environ.get("DOCKER_HOST") and os.environ["DOCKER_HOST"] != SOCKET_URL:
        # The user chose another engine: never start a local one in its place.
        raise CannotCheck(f"no container engine answers at {os.environ['DOCKER_HOST']} "
                          "(DOCKER_HOST)", "start that engine, or unset DOCKER_HOST for the "
                          "local one (`nox -s preflight` then starts it)")
    if Path("/run/systemd/system").is_dir() and shutil.which("systemctl"):
        _run(["systemctl", "start", "docker"], say)
    else:
        say(f"starting dockerd (log: {DOCKERD_LOG})")
        with DOCKERD_LOG.open("a") as log:
            # A session of its own, so the engine outlives this process.
            subprocess.Popen(["dockerd"], stdout=log, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, start_new_session=True)
    if polling.until(lambda: True if engine_answers() else None, wait, 0.5) is None:
        raise CannotCheck(f"dockerd did not answer within {wait:.0f} s", f"read {DOCKERD_LOG}")


def install_buildx(say: Say) -> None:
    if shutil.which("docker") and subprocess.run(
            ["docker", "buildx", "version"], capture_output=True, check=False).returncode == 0:
        return
    if os_release().get("ID") == "ubuntu" or _candidate("docker-buildx"):
        apt_install(["docker-buildx"], say)
        return
    mirror = debian_mirror()
    if not mirror:
        say("no buildx plugin and no Debian mirror to take it from: the classic builder is used")
        return
    say(f"adding Debian {BUILDX_SUITE} at low priority, for the docker-buildx plugin only")
    _SOURCES.write_text(f"Types: deb\nURIs: {mirror}\nSuites: {BUILDX_SUITE}\nComponents: main\n"
                        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n")
    # Priority 100: nothing else is ever taken from that suite unless asked for by name.
    _PIN.write_text(f"Package: *\nPin: release n={BUILDX_SUITE}\nPin-Priority: 100\n")
    global _updated
    _updated = False
    apt_install([f"docker-buildx/{BUILDX_SUITE}"], say)


def _candidate(package: str) -> bool:
    proc = subprocess.run(["apt-cache", "policy", package], capture_output=True, text=True,
                          check=False)
    return "Candidate:" in proc.stdout and "Candidate: (none)" not in proc.stdout


def provision(say: Say = print, buildx: bool = True) -> None:
    """Install and start everything; each step is skipped where it is already done."""
    if not can_provision():
        raise CannotCheck("cannot set up the machine: not root on Debian/Ubuntu", missing_fix())
    install_packages(say)
    enable_binfmt(say)
    start_engine(say)
    if buildx:
        install_buildx(say)


def install(say: Say = print) -> None:
    """Only the packages (and the buildx plugin): what a clean root needs, nothing started."""
    install_packages(say)
    install_buildx(say)


def install_podman(say: Say = print) -> None:
    """Debian's podman, for ``--engine podman``, where it is missing (its service is started
    for the run by harness.machine.podman, not here)."""
    needed = missing_podman()
    if needed:
        apt_install(needed, say)


def missing_podman() -> list[str]:
    return [p for p in PODMAN_PACKAGES if not _installed(p)]


if __name__ == "__main__":
    # `python3 -m harness.machine.provision install`: the install list alone, with the
    # standard library only, as the test of the install list runs it on a bare Debian root.
    import sys

    if sys.argv[1:] not in (["install"], ["install", "podman"]):
        sys.exit("usage: python3 -m harness.machine.provision install [podman]")
    (install_podman if sys.argv[2:] else install)(say=lambda line: print(line, flush=True))
