"""Prove what the machine can do by doing it, not by the presence of packages.

For each platform: that a binary of it runs on this host (``arch-test``, which executes a
tiny static program of that architecture, natively or through its binfmt handler), and that
a Debian base of it can be bootstrapped from the mirror (``mmdebstrap --simulate``, which
runs mmdebstrap's own emulation check and resolves the whole package set from the mirror in
seconds, without downloading a package). For the engine: that its bridge network exists, since
without it every ``RUN`` step fails. A failed proof is diagnosed like any other failure.
"""

from __future__ import annotations

import concurrent.futures
import subprocess
from dataclasses import dataclass
from pathlib import Path

from harness.core.failures.diagnosis import Diagnosis, Event, Stage, diagnose
from harness.core.platforms.table import Platform

SYS_NET = Path("/sys/class/net")
NOT_FOUND = 127


@dataclass(frozen=True)
class Proof:
    what: str  # "runs", "base", "bridge"
    ok: bool
    detail: str = ""
    diagnosis: Diagnosis | None = None

    def to_dict(self) -> dict[str, object]:
        d = self.diagnosis
        return {"what": self.what, "ok": self.ok, "detail": self.detail,
                "cause": d.cause if d else None, "message": d.message if d else None,
                "fix": d.fix if d else None}


def _run(cmd: list[str], timeout: float) -> tuple[int, str]:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        return 124, f"{' '.join(cmd)} timed out after {timeout:.0f} s: {exc.output or ''}"
    except OSError as exc:  # not installed: the shell's "command not found" status
        return NOT_FOUND, str(exc)
    return proc.returncode, proc.stdout + proc.stderr


def binary_runs(platform: Platform) -> Proof:
    """A static binary of the platform runs here (arch-test's own test program)."""
    cmd = ["arch-test", platform.dpkg_arch]
    code, out = _run(cmd, timeout=60)
    if code == 0:
        return Proof("runs", True, out.strip())
    return Proof("runs", False, out.strip(), diagnose(Event(
        Stage.PROVISION, out, status=code, command=" ".join(cmd), subject=cmd[0],
        platform=platform.name)))


def base_bootstraps(platform: Platform, suite: str, mirror: str) -> Proof:
    """mmdebstrap could make the platform's base: emulation check and package set, simulated."""
    cmd = ["mmdebstrap", "--simulate", "--variant=minbase",
           f"--architectures={platform.dpkg_arch}", suite, "/dev/null",
           f"deb {mirror} {suite} main"]
    code, out = _run(cmd, timeout=180)
    if code == 0:
        return Proof("base", True, f"{suite} {platform.dpkg_arch} from {mirror}")
    # A tool that is not there is the machine's install list; anything else, the bootstrap's.
    stage = Stage.PROVISION if code == NOT_FOUND else Stage.BASE
    return Proof("base", False, out.strip()[-2000:], diagnose(Event(
        stage, out, status=code, command="mmdebstrap --simulate", subject=cmd[0],
        platform=platform.name, host=mirror)))


def bridge_exists(name: str | None) -> Proof:
    """The local engine's default bridge is a network interface of this host."""
    if not name or (SYS_NET / name).exists():
        return Proof("bridge", True, name or "")
    return Proof("bridge", False, name, diagnose(Event(
        Stage.PROVISION, f"could not find bridge {name}")))


def prove_platforms(platforms: list[Platform], base: tuple[str, str] | None,
                    bootstrap: list[Platform] | None = None) -> dict[str, list[Proof]]:
    """Each platform's proofs, run side by side; ``base``: (suite, mirror) of the Debian base
    the build bootstraps for the platforms in ``bootstrap`` (default: all)."""
    todo = platforms if bootstrap is None else bootstrap
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, 2 * len(platforms))) as pool:
        runs = {p.name: pool.submit(binary_runs, p) for p in platforms}
        made = {p.name: pool.submit(base_bootstraps, p, *base) for p in todo} if base else {}
        return {p.name: [runs[p.name].result(), *([made[p.name].result()] if p.name in made
                                                   else [])]
                for p in platforms}
