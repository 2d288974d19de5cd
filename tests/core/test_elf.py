"""ELF headers read from bytes: class, byte order, machine and the ARM float ABI."""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import pytest

from harness.core.elf import NotElf, parse_header, synthetic_header
from harness.core.normalise import from_elf


def header(bits: int, big: bool, machine: int, flags: int = 0) -> bytes:
    order = ">" if big else "<"
    ident = b"\x7fELF" + bytes([1 if bits == 32 else 2, 2 if big else 1, 1]) + bytes(9)
    body = struct.pack(order + "HHI", 2, machine, 1)
    if bits == 32:
        body += struct.pack(order + "IIII", 0, 0, 0, flags)
    else:
        body += struct.pack(order + "QQQI", 0, 0, 0, flags)
    return ident + body + bytes(16)


def test_reads_the_running_interpreter() -> None:
    ident = parse_header(Path(sys.executable).resolve().read_bytes()[:64])
    assert ident.bits == 64 and not ident.big_endian


@pytest.mark.parametrize(("bits", "big", "machine", "flags", "platforms"), [
    (64, False, 62, 0, ("linux/amd64",)),
    (32, False, 3, 0, ("linux/386",)),
    (64, False, 183, 0, ("linux/arm64",)),
    (32, False, 40, 0x5000400, ("linux/arm/v7",)),
    (32, False, 40, 0x5000200, ("linux/arm/v5",)),
    (64, True, 22, 0, ("linux/s390x",)),
])
def test_maps_headers_to_platforms(bits: int, big: bool, machine: int, flags: int,
                                   platforms: tuple[str, ...]) -> None:
    ident = parse_header(header(bits, big, machine, flags))
    assert (ident.bits, ident.big_endian, ident.machine) == (bits, big, machine)
    assert set(platforms) <= set(from_elf(ident))
    assert "linux/amd64" not in from_elf(ident) or machine == 62


def test_hard_float_arm_is_not_armel() -> None:
    ident = parse_header(header(32, False, 40, 0x5000400))
    assert ident.arm_hard_float
    assert "linux/arm/v5" not in from_elf(ident)
    assert ident.describe() == "ELF 32-bit LSB ARM (hard-float)"


@pytest.mark.parametrize("data", [b"", b"#!/bin/sh\necho hi\n", b"\x7fELF\x09\x01" + bytes(30)])
def test_rejects_what_is_not_elf(data: bytes) -> None:
    with pytest.raises(NotElf):
        parse_header(data)


def test_synthetic_header_is_what_binfmt_matches() -> None:
    data = synthetic_header(64, False, 183)
    assert data[:4] == b"\x7fELF" and data[4] == 2 and data[18:20] == b"\xb7\x00"
