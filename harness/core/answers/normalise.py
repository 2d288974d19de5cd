"""Map each source's raw answer onto the canonical platforms it is consistent with.

Every function returns the names of the platforms (``linux/arm/v7``) that the answer fits, or
an empty tuple when it fits none in the table. A set rather than one platform, because some
sources cannot tell variants apart (an ARM ELF machine fits v5, v6 and v7).
"""

from __future__ import annotations

import re

from harness.core.answers.elf import ElfIdent
from harness.core.platforms.table import PLATFORMS, find

Platforms = tuple[str, ...]


def from_config(os: str, architecture: str, variant: str | None) -> Platforms:
    p = find(architecture, variant, os=os)
    return (p.name,) if p else ()


def from_dpkg(answer: str) -> Platforms:
    arch = answer.strip()
    return tuple(p.name for p in PLATFORMS if arch in p.dpkg_arches)


# Userlands that are not Debian's name their architecture their own way.
# Alpine (`apk --print-arch`): its armhf is ARMv6 hard-float, published as linux/arm/v6.
APK = {"x86_64": ("linux/amd64",), "x86": ("linux/386",), "aarch64": ("linux/arm64",),
       "armv7": ("linux/arm/v7",), "armhf": ("linux/arm/v6",), "ppc64le": ("linux/ppc64le",),
       "s390x": ("linux/s390x",), "riscv64": ("linux/riscv64",)}
# RPM (`rpm --eval %{_arch}`): Fedora and SUSE spell the ARM level; Debian's own rpm says
# `arm` on armhf (measured), which fits every 32-bit ARM platform.
RPM = {"x86_64": ("linux/amd64",), **dict.fromkeys(("i386", "i486", "i586", "i686", "athlon"),
                                                   ("linux/386",)),
       "aarch64": ("linux/arm64",),
       **dict.fromkeys(("armv7hl", "armv7hnl", "armv7l"), ("linux/arm/v7",)),
       **dict.fromkeys(("armv6hl", "armv6l"), ("linux/arm/v6",)),
       **dict.fromkeys(("armv5tel", "armv5tl"), ("linux/arm/v5",)),
       "arm": ("linux/arm/v7", "linux/arm/v6", "linux/arm/v5"),
       "ppc64le": ("linux/ppc64le",), "s390x": ("linux/s390x",), "riscv64": ("linux/riscv64",)}


def from_apk(answer: str) -> Platforms:
    return APK.get(answer.strip(), ())


def from_rpm(answer: str) -> Platforms:
    return RPM.get(answer.strip(), ())


def from_uname(answer: str) -> Platforms:
    machine = answer.strip()
    return tuple(p.name for p in PLATFORMS if machine in p.uname)


def from_long_bit(answer: str) -> Platforms:
    bits = answer.strip()
    return tuple(p.name for p in PLATFORMS if str(p.bits) == bits)


def rustc_host(answer: str) -> str | None:
    """The ``host:`` line of ``rustc -vV``."""
    m = re.search(r"^host:\s*(\S+)", answer, re.MULTILINE)
    return m[1] if m else None


def rustc_release(answer: str) -> str | None:
    m = re.search(r"^release:\s*(\S+)", answer, re.MULTILINE)
    return m[1] if m else None


def from_rust_triple(triple: str) -> Platforms:
    return tuple(p.name for p in PLATFORMS if triple in p.rust_triples)


def from_elf(ident: ElfIdent) -> Platforms:
    fits = []
    for p in PLATFORMS:
        if (p.bits, p.big_endian, p.elf_machine) != (ident.bits, ident.big_endian, ident.machine):
            continue
        if p.arm_hard_float is not None and p.arm_hard_float != ident.arm_hard_float:
            continue
        fits.append(p.name)
    return tuple(fits)
