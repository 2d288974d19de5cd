"""Map each source's raw answer onto the canonical platforms it is consistent with.

Every function returns the names of the platforms (``linux/arm/v7``) that the answer fits, or
an empty tuple when it fits none in the table. A set rather than one platform, because some
sources cannot tell variants apart (an ARM ELF machine fits v5, v6 and v7).
"""

from __future__ import annotations

import re

from harness.elf import ElfIdent
from harness.platforms import PLATFORMS, find

Platforms = tuple[str, ...]


def from_config(os: str, architecture: str, variant: str | None) -> Platforms:
    p = find(architecture, variant, os=os)
    return (p.name,) if p else ()


def from_dpkg(answer: str) -> Platforms:
    arch = answer.strip()
    return tuple(p.name for p in PLATFORMS if arch in p.dpkg_arches)


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
