"""ELF headers read from bytes: class, byte order, machine and the ARM float ABI."""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.core.answers import elf
from harness.core.answers.elf import NotElf, parse_header, synthetic_header
from harness.core.answers.normalise import from_elf
from tests.hostile_elf import attributes_longer_than_their_section, finishes, x86_64


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


# -- hostile bytes: every parser makes progress or stops, and raises nothing ---------------

def test_attributes_longer_than_their_section_end_and_keep_what_was_read() -> None:
    """The 150-byte file that hung the audit (even of an amd64 image: the attributes are
    read before the allowed places are left out)."""
    data = attributes_longer_than_their_section()
    assert len(data) == 150
    assert finishes(lambda: elf.arm_attributes(data[:52], data, len(data))) == {6: 10}


def test_a_program_header_table_past_any_file_is_no_exception() -> None:
    """e_phoff = 2**63 gave OverflowError, and the run exited 70."""
    data = x86_64(phoff=2**63, phnum=3)
    assert elf.segments(data) == [] and elf.interpreter(data) is None
    assert elf.dynamic_span(data) is None
    assert elf.x86_isa_needed(data, lambda offset, size: b"") is None
    assert elf.malformed(data, len(data)) is not None


def test_a_loadable_file_is_not_malformed_and_a_table_past_its_end_is() -> None:
    here = Path(sys.executable).resolve()
    assert elf.malformed(here.read_bytes()[:4096], here.stat().st_size) is None
    data = x86_64(phoff=64, phnum=2, segments=((elf.PT_LOAD, 0, 100),))  # one of two there
    assert "past its end" in (elf.malformed(data, len(data)) or "")
    assert "56" in (elf.malformed(x86_64(phentsize=32), 200) or "")  # not the class's size
    assert elf.malformed(x86_64(phnum=0), 64) is None  # no table: nothing to read


def test_a_gnu_property_note_at_an_offset_past_any_file_is_not_read() -> None:
    data = x86_64(segments=((elf.PT_GNU_PROPERTY, 2**63 - 1, 32),))
    asked: list[int] = []

    def read_at(offset: int, size: int) -> bytes | None:
        asked.append(offset)
        return None

    assert elf.x86_isa_needed(data, read_at) is None


ELF_LIKE = st.builds(lambda cls, order, body: b"\x7fELF" + bytes([cls, order]) + body,
                     st.sampled_from([1, 2]), st.sampled_from([1, 2]),
                     st.binary(min_size=0, max_size=600))
# A header of each class with its fields drawn wide (offsets past any file, counts at their
# largest), and any bytes after it.
FIELDS = st.integers(min_value=0, max_value=2**64 - 1)


@st.composite
def elf_headers(draw: st.DrawFn) -> bytes:
    big = draw(st.booleans())
    order = ">" if big else "<"
    if draw(st.booleans()):
        fixed = struct.pack(order + "HHIIIIIHHHHHH", draw(st.sampled_from([2, 3])),
                            draw(st.sampled_from([40, 3, 62])), 1,
                            *(draw(FIELDS) & 0xFFFFFFFF for _ in range(4)),
                            *(draw(FIELDS) & 0xFFFF for _ in range(6)))
        ident = b"\x7fELF\x01"
    else:
        fixed = struct.pack(order + "HHIQQQIHHHHHH", draw(st.sampled_from([2, 3])),
                            draw(st.sampled_from([62, 183, 40])), 1,
                            *(draw(FIELDS) for _ in range(3)), draw(FIELDS) & 0xFFFFFFFF,
                            *(draw(FIELDS) & 0xFFFF for _ in range(6)))
        ident = b"\x7fELF\x02"
    return ident + (b"\x02" if big else b"\x01") + b"\x01" + bytes(8) + fixed + draw(
        st.binary(max_size=400))


def _every_parser(data: bytes, size: int) -> None:
    """Each of elf's readers of a file's bytes, as the audit calls them."""
    def read_at(offset: int, count: int) -> bytes | None:
        return data[offset:offset + count] if 0 <= offset < len(data) else b""

    try:
        elf.parse_header(data)
    except NotElf:
        return
    elf.file_type(data)
    elf.interpreter(data)
    elf.malformed(data, size)
    span = elf.dynamic_span(data)
    if span is not None:
        elf.dynamic(data, data[span[0]:span[0] + min(span[1], 1 << 16)], read_at)
    elf.arm_attributes(data, data, len(data))
    elf.x86_isa_needed(data, read_at)


FUZZ = settings(max_examples=200, deadline=2000, database=None)


@FUZZ
@given(st.one_of(ELF_LIKE, elf_headers()), st.integers(min_value=0, max_value=2**63))
def test_any_bytes_are_read_to_an_answer_in_bounded_time(data: bytes, size: int) -> None:
    finishes(lambda: _every_parser(data, size))


@FUZZ
@given(st.binary(max_size=300), st.integers(min_value=0, max_value=2**32 - 1),
       st.sampled_from(["<", ">"]), st.booleans())
def test_any_attributes_section_is_read_to_an_answer(body: bytes, length: int, order: str,
                                                     vendor: bool) -> None:
    """Any bytes, and the aeabi vendor's subsections with any lengths in them."""
    head = b"A" + struct.pack(order + "I", length) + b"aeabi\0" if vendor else b"A"
    found = finishes(lambda: elf._aeabi(head + body, order))
    assert all(isinstance(k, int) and isinstance(v, int) for k, v in found.items())


def test_a_dynamic_section_without_end_in_sight_is_not_read_in_part() -> None:
    """Each DT_NEEDED is a read of 4 KiB: 65,000 of them in a 1 MiB section are not read."""
    head = x86_64(segments=((elf.PT_LOAD, 0, 1 << 20),))
    strings = {0: b"libc.so.6\0"}

    def read_at(offset: int, size: int) -> bytes | None:
        return strings.get(offset, b"x\0")

    many = (struct.pack("<qQ", elf.DT_STRTAB, 0x400000)  # its strings at the file's start
            + struct.pack("<qQ", elf.DT_NEEDED, 0) * 65_000)
    assert elf.dynamic(head, many, read_at) is None
    few = many[:16 * 3] + struct.pack("<qQ", elf.DT_NULL, 0)
    found = elf.dynamic(head, few, read_at)
    assert found is not None and found.needed == ("libc.so.6", "libc.so.6")


def test_the_names_a_dynamic_section_gives_are_read_once_and_bounded() -> None:
    head = x86_64(segments=((elf.PT_LOAD, 0, 1 << 20),))
    reads: list[int] = []

    def read_at(offset: int, size: int) -> bytes | None:
        reads.append(offset)
        return b"l" * 4000 + b"\0"

    strtab = struct.pack("<qQ", elf.DT_STRTAB, 0x400000)
    same = strtab + struct.pack("<qQ", elf.DT_NEEDED, 0) * 4000
    found = elf.dynamic(head, same, read_at)
    assert found is not None and len(found.needed) == 4000 and len(reads) == 1
    distinct = strtab + b"".join(struct.pack("<qQ", elf.DT_NEEDED, i) for i in range(4000))
    assert elf.dynamic(head, distinct, read_at) is None  # 16 MB of names: not kept
