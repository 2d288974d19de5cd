"""How the host runs each platform: natively, under a registered QEMU handler, or not at all.

The kernel consults binfmt_misc before its own ELF loader, so a registered handler wins even
for a platform the CPU could run; otherwise the CPU family decides.
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from harness.core.diagnosis import no_handler_fix as _no_handler_fix
from harness.core.elf import synthetic_header
from harness.core.outcomes import RunKind, RunMode
from harness.core.platforms import Platform

BINFMT_DIR = Path("/proc/sys/fs/binfmt_misc")
PROC_STAT = Path("/proc/stat")

# Platforms whose binaries a CPU family executes without emulation (32-bit x86 on x86_64,
# AArch32 on most, not all, aarch64 CPUs).
NATIVE = {
    # The amd64 levels too: the CPU is not asked whether it has them (that is the isa
    # audit's and the CPU's business), as BuildKit runs them natively.
    "x86_64": {"linux/amd64", "linux/amd64/v2", "linux/amd64/v3", "linux/amd64/v4",
               "linux/386"},
    "i686": {"linux/386"},
    "aarch64": {"linux/arm64", "linux/arm/v7", "linux/arm/v6", "linux/arm/v5"},
    "armv7l": {"linux/arm/v7", "linux/arm/v6", "linux/arm/v5"},
    "ppc64le": {"linux/ppc64le"},
    "s390x": {"linux/s390x"},
    "riscv64": {"linux/riscv64"},
}

NATIVE = {**NATIVE, "amd64": NATIVE["x86_64"], "arm64": NATIVE["aarch64"]}
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


def run_mode(platform: Platform, host_arch: str, handlers: list[Handler]) -> RunMode:
    header = synthetic_header(platform.bits, platform.big_endian, platform.elf_machine)
    for h in handlers:
        if h.enabled and h.matches(header):
            return RunMode(RunKind.QEMU, h.name, h.interpreter, h.flags,
                           qemu_version(h.interpreter))
    if platform.name in NATIVE.get(host_arch, set()):
        return RunMode(RunKind.NATIVE)
    return RunMode(RunKind.UNAVAILABLE)


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
    line; this is the one place that needs it: `multiarch-harness bench`); None off Linux."""
    try:
        return parse_proc_stat(stat.read_text(), os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError):
        return None
