"""Which platforms a host runs without emulation: only those a binary of has run there.

A CPU family runs its own binaries, and may run a 32-bit mode besides: AArch32 on aarch64,
i386 on x86_64. That mode is optional: many aarch64 CPUs have none (GitHub's
ubuntu-24.04-arm runners, other clouds' arm64 machines: "exec format error"), and a kernel
may be built or booted without it (``ia32_emulation=0``). So such a platform is native only
once a tiny program of it (:func:`tiny_program`) ran on the host with no handler in the way;
where it did not, QEMU's handler for it is registered (:func:`register_line`) and it runs
emulated. Pure: the caller runs the program and reads binfmt_misc (``harness.machine.host``).
"""

from __future__ import annotations

import struct
from collections.abc import Callable

from harness.core.outcomes import RunKind, RunMode
from harness.core.platforms.table import EM_386, EM_ARM, PLATFORMS, Platform

# Platforms whose binaries a CPU family may execute without emulation.
FAMILY: dict[str, frozenset[str]] = {
    # The amd64 levels too: the CPU is not asked whether it has them (that is the isa
    # audit's and the CPU's business), as BuildKit runs them natively.
    "x86_64": frozenset({"linux/amd64", "linux/amd64/v2", "linux/amd64/v3", "linux/amd64/v4",
                         "linux/386"}),
    "i686": frozenset({"linux/386"}),
    "aarch64": frozenset({"linux/arm64", "linux/arm/v7", "linux/arm/v6", "linux/arm/v5"}),
    "armv7l": frozenset({"linux/arm/v7", "linux/arm/v6", "linux/arm/v5"}),
    "ppc64le": frozenset({"linux/ppc64le"}),
    "s390x": frozenset({"linux/s390x"}),
    "riscv64": frozenset({"linux/riscv64"}),
}
# Docker's and Go's names for the same hosts (`docker info` may say either).
_KERNEL = {"amd64": "x86_64", "arm64": "aarch64"}

# Whether a tiny program of the platform ran on the host with no handler in the way.
Proof = Callable[[Platform], bool]

# The programs: exit(0) by the 32-bit Linux syscall, nothing else.
_EXIT = {
    # mov r0, #0; mov r7, #1 (__NR_exit); svc #0 -- ARM state, valid from ARMv4 on, EABI
    EM_ARM: (bytes.fromhex("0000a0e3" "0170a0e3" "000000ef"), 0x05000000),
    # xor ebx, ebx; mov eax, 1 (__NR_exit); int 0x80
    EM_386: (bytes.fromhex("31db" "b801000000" "cd80"), 0),
}
_BASE = 0x10000  # the lowest address the kernel maps by default (vm.mmap_min_addr)

# QEMU's binfmt_misc entry for each 32-bit mode: its target name, and the magic and mask of
# the ELF header it claims (those of QEMU's scripts/qemu-binfmt-conf.sh and Debian's).
HANDLERS: dict[int, tuple[str, bytes, bytes]] = {
    EM_ARM: ("arm", bytes.fromhex("7f454c4601010100000000000000000002002800"),
             bytes.fromhex("ffffffffffffff00fffffffffffffffffeffffff")),
    EM_386: ("i386", bytes.fromhex("7f454c4601010100000000000000000002000300"),
             bytes.fromhex("fffffffffffefe00fffffffffffffffffeffffff")),
}
# tonistiigi/binfmt's names for them.
_BINFMT_IMAGE = {EM_ARM: "arm", EM_386: "386"}


def kernel_arch(host_arch: str) -> str:
    """``uname -m``'s name for a host architecture (``arm64`` is ``aarch64``)."""
    return _KERNEL.get(host_arch, host_arch)


def _own(host_arch: str) -> Platform | None:
    """The platform of the host's own binaries (the one ``uname -m`` names)."""
    arch = kernel_arch(host_arch)
    return next((p for p in PLATFORMS if arch in p.uname), None)


def in_family(platform: Platform, host_arch: str) -> bool:
    return platform.name in FAMILY.get(kernel_arch(host_arch), frozenset())


def needs_proof(platform: Platform, host_arch: str) -> bool:
    """Whether the host's CPU family runs ``platform`` only in an optional mode (a binary of
    another ELF class or machine than the host's own), so that it must be seen to run."""
    own = _own(host_arch)
    if own is None or not in_family(platform, host_arch):
        return False
    return (platform.bits, platform.big_endian, platform.elf_machine) != (
        own.bits, own.big_endian, own.elf_machine)


def decide(platform: Platform, host_arch: str, handler: RunMode | None,
           ran: bool | None) -> RunMode:
    """How ``platform`` runs on a host: ``handler``, the QEMU handler binfmt_misc holds for
    it, wins (the kernel asks handlers before its own loader); else natively when the host's
    CPU family runs it and, for an optional mode, ``ran`` (a binary of it ran there with no
    handler; None: not tried); else not at all."""
    if handler is not None:
        return handler
    if not in_family(platform, host_arch):
        return RunMode(RunKind.UNAVAILABLE)
    if needs_proof(platform, host_arch) and not ran:
        return RunMode(RunKind.UNAVAILABLE)
    return RunMode(RunKind.NATIVE)


def tiny_program(platform: Platform) -> bytes | None:
    """A static ELF of the platform that does ``exit(0)`` (some 100 bytes), for the modes
    :func:`needs_proof` asks about; None for others."""
    found = _EXIT.get(platform.elf_machine)
    if found is None or platform.bits != 32 or platform.big_endian:
        return None
    code, flags = found
    header_size, entry_size = 52, 32
    size = header_size + entry_size + len(code)
    ident = b"\x7fELF" + bytes([1, 1, 1, 0]) + bytes(8)  # ELF32, little-endian, SysV
    header = struct.pack("<16sHHIIIIIHHHHHH", ident, 2, platform.elf_machine, 1,
                         _BASE + header_size + entry_size, header_size, 0, flags,
                         header_size, entry_size, 1, 0, 0, 0)
    # One PT_LOAD of the whole file, readable and executable.
    segment = struct.pack("<IIIIIIII", 1, 0, _BASE, _BASE, size, size, 5, 0x1000)
    return header + segment + code


def handler_name(platform: Platform) -> str | None:
    """The binfmt_misc entry QEMU registers for the platform's mode (``qemu-arm``)."""
    found = HANDLERS.get(platform.elf_machine)
    return f"qemu-{found[0]}" if found else None


def register_line(platform: Platform, interpreter: str, flags: str = "F") -> str:
    """What to write to /proc/sys/fs/binfmt_misc/register for QEMU's handler of the
    platform's 32-bit mode. F: the kernel opens the interpreter once, now, so that it
    serves containers, whose filesystem has no QEMU."""
    target, magic, mask = HANDLERS[platform.elf_machine]

    def escaped(data: bytes) -> str:
        return "".join(f"\\x{b:02x}" for b in data)

    return f":qemu-{target}:M::{escaped(magic)}:{escaped(mask)}:{interpreter}:{flags}"


def why_not(platform: Platform, host_arch: str) -> tuple[str, str]:
    """(message, fix) for a platform of the host's family that did not run natively."""
    target = HANDLERS.get(platform.elf_machine, ("the platform's",))[0]
    mode = "AArch32" if platform.elf_machine == EM_ARM else "32-bit"
    return (f"{platform.name} cannot run on this {host_arch} host: its CPU or kernel does not "
            f"execute {mode} binaries (a tiny {platform.name} program did not run), and no "
            "QEMU handler is registered for it",
            f"register QEMU's {target} handler with the F flag: as root `nox -s preflight` "
            f"does it (Debian's qemu-user-static registers none for {target} on an "
            f"{kernel_arch(host_arch)} host), or `docker run --privileged --rm "
            f"tonistiigi/binfmt --install {_BINFMT_IMAGE.get(platform.elf_machine, 'all')}`")
