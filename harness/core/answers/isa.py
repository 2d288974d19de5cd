"""The CPU level a binary needs, against the level its platform guarantees (the ``isa``
source).

``linux/arm/v6`` promises an ARMv6 core (the Raspberry Pi Zero's and 1's ARM1176); a program
built for ARMv7 (``movw``, Thumb-2) runs under QEMU's default CPU and on every ARMv7 board,
and dies with SIGILL on those. The linker records what each file needs in its ARM build
attributes (``Tag_CPU_arch``); a file that needs a later architecture than its platform's
variant fails the platform.

On x86-64 the GNU property note ``X86_ISA_1_NEEDED`` says which micro-architecture levels
a file needs (``readelf -n``: "x86 ISA needed: x86-64-baseline, x86-64-v3", written by
``gcc -mneeded`` or ``ld -z x86-64-v3``); plain ``linux/amd64`` promises the baseline.

Judged: ``Tag_CPU_arch`` of *programs* on 32-bit ARM platforms (arm/v5, arm/v6, arm/v7), and
the x86 level of programs on linux/amd64.
Libraries are listed, not judged: a library may carry code for a later CPU that it only runs
after asking the CPU what it has, and the linker merges that into the file's attributes
(Debian bookworm's armhf libgcrypt says ARMv8-A for its crypto extension code). For the same
reason ``Tag_FP_arch`` and ``Tag_Advanced_SIMD_arch`` (NEON) are not judged. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.core.answers.elf import TAG_CPU_ARCH, X86_LEVELS
from harness.core.platforms.table import Platform

LISTED = 200

# Tag_CPU_arch values (ARM IHI 0045, "Addenda to the ABI"), and their names.
CPU_ARCH = {0: "pre-ARMv4", 1: "ARMv4", 2: "ARMv4T", 3: "ARMv5T", 4: "ARMv5TE", 5: "ARMv5TEJ",
            6: "ARMv6", 7: "ARMv6KZ", 8: "ARMv6T2", 9: "ARMv6K", 10: "ARMv7", 11: "ARMv6-M",
            12: "ARMv6S-M", 13: "ARMv7E-M", 14: "ARMv8-A", 15: "ARMv8-R", 16: "ARMv8-M.base",
            17: "ARMv8-M.main", 18: "ARMv8.1-M.main", 19: "ARMv9-A"}
# What each 32-bit ARM variant's CPUs execute: arm/v6 is the ARM1176 (ARMv6KZ, no Thumb-2,
# so not v6T2); arm/v5 is ARMv5TE(J); arm/v7 an ARMv7-A core (M-profile code runs on none).
ALLOWED = {
    "linux/arm/v5": frozenset({0, 1, 2, 3, 4, 5}),
    "linux/arm/v6": frozenset({0, 1, 2, 3, 4, 5, 6, 7, 9}),
    "linux/arm/v7": frozenset({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}),
}
OFFERS = {"linux/arm/v5": "ARMv5TE", "linux/arm/v6": "ARMv6KZ (ARM1176)",
          "linux/arm/v7": "ARMv7-A"}


# x86-64: the levels (X86_ISA_1_NEEDED bits) each platform's CPUs have. Plain linux/amd64
# promises the baseline only; linux/amd64/vN every level up to N.
X86_BASELINE = 1
X86_ALLOWED = {"linux/amd64": X86_BASELINE, "linux/amd64/v2": 0b11, "linux/amd64/v3": 0b111,
               "linux/amd64/v4": 0b1111}
X86_NEEDED = -1  # the key under which an x86 file's level mask is passed to judge_file


def applies(platform: Platform) -> bool:
    return platform.name in ALLOWED or platform.name in X86_ALLOWED


def judge_file(platform: Platform, attributes: dict[int, int]) -> str | None:
    """Why a file with these build attributes (ARM), or this x86 ISA level mask (under
    ``X86_NEEDED``), cannot run on every CPU of ``platform``."""
    if X86_NEEDED in attributes:
        allowed_mask = X86_ALLOWED.get(platform.name)
        extra = attributes[X86_NEEDED] & ~allowed_mask if allowed_mask is not None else 0
        if not extra:
            return None
        levels = ", ".join(name for bit, name in X86_LEVELS.items() if extra & bit)
        top = (allowed_mask + 1) >> 1 if allowed_mask else 1  # the highest level offered
        offers = X86_LEVELS.get(top, "x86-64-baseline")
        return f"built for {levels}, more than {platform.name} offers ({offers})"
    arch = attributes.get(TAG_CPU_ARCH)
    allowed = ALLOWED.get(platform.name)
    if arch is None or allowed is None or arch in allowed:
        return None
    return (f"built for {CPU_ARCH.get(arch, f'Tag_CPU_arch {arch}')}, more than "
            f"{platform.name} offers ({OFFERS[platform.name]})")


@dataclass
class Isa:
    files: int = 0  # files whose attributes were read
    count: int = 0  # files that need more than the platform offers
    needs: list[str] = field(default_factory=list)  # "PATH: why", the first LISTED
    libraries: list[str] = field(default_factory=list)  # the same of libraries, not judged
    seen: dict[str, int] = field(default_factory=dict)  # architecture name -> files

    def add(self, platform: Platform, path: str, attributes: dict[int, int],
            program: bool) -> None:
        self.files += 1
        arch = attributes.get(TAG_CPU_ARCH)
        if arch is not None:
            name = CPU_ARCH.get(arch, str(arch))
            self.seen[name] = self.seen.get(name, 0) + 1
        mask = attributes.get(X86_NEEDED)
        if mask is not None:
            name = next((n for bit, n in sorted(X86_LEVELS.items(), reverse=True)
                         if mask & bit), "none")  # the highest level it needs
            self.seen[name] = self.seen.get(name, 0) + 1
        why = judge_file(platform, attributes)
        if why and program:
            self.count += 1
            if len(self.needs) < LISTED:
                self.needs.append(f"{path}: {why}")
        elif why and len(self.libraries) < LISTED:
            self.libraries.append(f"{path}: {why}")

    def summary(self) -> str:
        return (f"{self.files} files' CPU level read, {self.count} programs need a later CPU "
                "than the platform's")
