"""How the host runs each platform: natively, under a registered QEMU handler, or not at all.

The kernel consults binfmt_misc before its own ELF loader, so a registered handler wins even
for a platform the CPU could run; otherwise the CPU family decides, and for a 32-bit mode of
it (AArch32, i386) a tiny program of the platform run here (``harness.core.platforms.native``).
"""

from __future__ import annotations

import errno
import functools
import os
import platform as host_platform
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from harness.core.answers.elf import synthetic_header
from harness.core.failures.diagnosis import no_handler_fix as _no_handler_fix
from harness.core.outcomes import RunKind, RunMode
from harness.core.platforms import native
from harness.core.platforms.table import Platform
from harness.machine import files

BINFMT_DIR = Path("/proc/sys/fs/binfmt_misc")
PROC_STAT = Path("/proc/stat")

__all__ = ["RunMode"]


@dataclass(frozen=True)
class Handler:
    """One binfmt_misc entry."""

    name: str
    enabled: bool
    interpreter: str
    flags: str
    offset: int
    magic: bytes
    mask: bytes

    def matches(self, header: bytes) -> bool:
        chunk = header[self.offset:self.offset + len(self.magic)]
        if len(chunk) < len(self.magic):
            return False
        mask = self.mask or b"\xff" * len(self.magic)
        return all((c & m) == (g & m) for c, g, m in zip(chunk, self.magic, mask, strict=True))


def parse_handler(name: str, text: str) -> Handler | None:
    """Parse the text of /proc/sys/fs/binfmt_misc/NAME; None for extension-based entries."""
    fields: dict[str, str] = {}
    enabled = False
    for line in text.splitlines():
        if line.strip() in ("enabled", "disabled"):
            enabled = line.strip() == "enabled"
        elif " " in line:
            key, _, value = line.partition(" ")
            fields[key.rstrip(":")] = value.strip()
    if "magic" not in fields:
        return None
    return Handler(
        name=name,
        enabled=enabled,
        interpreter=fields.get("interpreter", ""),
        flags=fields.get("flags", ""),
        offset=int(fields.get("offset", "0")),
        magic=bytes.fromhex(fields["magic"]),
        mask=bytes.fromhex(fields.get("mask", "")),
    )


def read_handlers(directory: Path = BINFMT_DIR) -> list[Handler]:
    """The registered handlers; empty when binfmt_misc is not mounted or globally disabled."""
    status = directory / "status"
    try:
        if status.read_text().strip() != "enabled":
            return []
    except OSError:
        return []
    handlers = []
    for entry in sorted(directory.iterdir()):
        if entry.name in ("status", "register"):
            continue
        try:
            handler = parse_handler(entry.name, entry.read_text())
        except (OSError, ValueError):
            continue
        if handler:
            handlers.append(handler)
    return handlers


@functools.cache
def qemu_version(interpreter: str) -> str | None:
    """``7.2.22`` from ``qemu-aarch64 version 7.2.22 (Debian …)``; None if it cannot tell."""
    # Debian's handlers are `*-binfmt-P` links that expect binfmt's argument layout; the
    # binary they point to answers --version normally.
    binary = os.path.realpath(interpreter)
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True,
                             timeout=10, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    m = re.search(r"version (\S+)", out)
    return m[1] if m else None


def executes(program: bytes) -> bool:
    """Whether the kernel runs ``program`` to exit 0 here (natively, or through the
    binfmt_misc handler that claims it); False on "exec format error", and where no
    directory lets it be run at all (then nothing is proved)."""
    # The harness's cache first, not /tmp: a CI's /tmp may be mounted noexec.
    for where in (files.cache_dir("proofs"), Path(tempfile.gettempdir())):
        try:
            where.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=where, prefix="proof-") as temp:
                path = Path(temp) / "exit0"
                path.write_bytes(program)
                path.chmod(0o700)
                return subprocess.run([str(path)], capture_output=True, timeout=30,
                                      check=False, stdin=subprocess.DEVNULL).returncode == 0
        except OSError as exc:
            if exc.errno == errno.ENOEXEC:
                return False
        except subprocess.TimeoutExpired:
            return False
    return False


@functools.cache
def runs_here(platform: Platform) -> bool:
    """A tiny program of the platform ran on this machine (once per process)."""
    program = native.tiny_program(platform)
    return program is not None and executes(program)


def _this_machine(platform: Platform, host_arch: str) -> bool:
    """The proof for a host that is this machine; no other host's can be had from here."""
    same = native.kernel_arch(host_arch) == native.kernel_arch(host_platform.machine())
    return same and runs_here(platform)


def run_mode(platform: Platform, host_arch: str, handlers: list[Handler],
             proof: native.Proof | None = None) -> RunMode:
    """How ``platform`` runs on a host of ``host_arch`` with these handlers; ``proof`` tells
    whether a binary of it ran there with no handler (default: this machine, by running
    one), and is asked only for a 32-bit mode of the CPU family (AArch32, i386)."""
    header = synthetic_header(platform.bits, platform.big_endian, platform.elf_machine)
    handler = next((RunMode(RunKind.QEMU, h.name, h.interpreter, h.flags,
                            qemu_version(h.interpreter))
                    for h in handlers if h.enabled and h.matches(header)), None)
    ran = None
    if handler is None and native.needs_proof(platform, host_arch):
        ran = proof(platform) if proof else _this_machine(platform, host_arch)
    return native.decide(platform, host_arch, handler, ran)


def no_handler_fix(platform: Platform) -> str:
    return _no_handler_fix(platform.name)


@dataclass(frozen=True)
class CpuSeconds:
    """Core-seconds this machine's CPUs spent busy and idle (waiting for I/O counts as
    idle: a core that waits could have run something else)."""

    busy: float
    idle: float

    def __sub__(self, other: CpuSeconds) -> CpuSeconds:
        return CpuSeconds(self.busy - other.busy, self.idle - other.idle)


def parse_proc_stat(text: str, ticks_per_second: float) -> CpuSeconds | None:
    """The all-CPU line of /proc/stat (``cpu user nice system idle iowait irq softirq
    steal ...``, in clock ticks); None when it has no such line. Steal (time the
    hypervisor gave to others) counts as busy: no process here could have had it."""
    for line in text.splitlines():
        fields = line.split()
        if fields and fields[0] == "cpu" and len(fields) >= 9:
            user, nice, system, idle, iowait, irq, softirq, steal = map(int, fields[1:9])
            return CpuSeconds((user + nice + system + irq + softirq + steal) / ticks_per_second,
                              (idle + iowait) / ticks_per_second)
    return None


def cpu_seconds(stat: Path = PROC_STAT) -> CpuSeconds | None:
    """This machine's CPU use since boot, from the kernel (psutil.cpu_times() reads the same
    line; this is the one place that needs it: the bench, `devtools/bench.py`); None off Linux."""
    try:
        return parse_proc_stat(stat.read_text(), os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError):
        return None
