"""Crafted ELF files for the tests of every parser of image bytes: each what a hostile (or
broken) image can hold, a few hundred bytes at most."""

from __future__ import annotations

import struct
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
SHT_ARM_ATTRIBUTES = 0x70000003


def finishes(call: Callable[[], T], seconds: float = 5.0) -> T:
    """``call()``'s result; fails the test when it has not returned within ``seconds`` (a
    parser that loops for ever would otherwise hang the whole run)."""
    box: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            box.append(call())
        except BaseException as exc:  # re-raised in the test's own thread
            errors.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s: it does not end"
    if errors:
        raise errors[0]
    return box[0]


def arm32(attributes: bytes, e_type: int = 2) -> bytes:
    """A 32-bit little-endian ARM ELF file: its header, ``attributes`` as its
    ``.ARM.attributes`` section, and one section header after it."""
    sh_at = 52 + len(attributes)
    header = (b"\x7fELF\x01\x01\x01" + bytes(9)
              + struct.pack("<HHIIIIIHHHHHH", e_type, 40, 1, 0, 0, sh_at, 0x5000400, 52,
                            32, 0, 40, 1, 0))
    section = struct.pack("<10I", 0, SHT_ARM_ATTRIBUTES, 0, 0, 52, len(attributes), 0, 0,
                          1, 0)
    return header + attributes + section


def attributes_longer_than_their_section() -> bytes:
    """The 150-byte ARM file that hung the audit: its Tag_File subsection says it is 1,000
    bytes long inside a section of a few (``_uleb`` stopped advancing at the section's end)."""
    body = b"\x01" + struct.pack("<I", 1000) + b"\x06\x0a"
    vendor = b"aeabi\0" + body
    section = b"A" + struct.pack("<I", 4 + len(vendor)) + vendor
    data = arm32(section)
    return data + bytes(150 - len(data))


def x86_64(phoff: int = 64, phnum: int = 1, phentsize: int = 56,
           segments: tuple[tuple[int, int, int], ...] = ()) -> bytes:
    """A 64-bit x86-64 executable's header, then its program headers: (type, offset,
    filesz) each."""
    header = (b"\x7fELF\x02\x01\x01" + bytes(9)
              + struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, 0x401000, phoff, 0, 0, 64,
                            phentsize, phnum, 64, 0, 0))
    table = b"".join(struct.pack("<IIQQQQQQ", t, 4, off, 0x400000, 0, size, size, 8)
                     for t, off, size in segments)
    return header + table
