"""Read the identity of an ELF binary from its first bytes: class, byte order, machine, flags.

Reading the binaries is the only way to see an image whose config says one architecture
while its userland is another, so this is done in Python from bytes copied out of the
container: it works in images that have no ``file`` or ``od``.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

HEADER_SIZE = 52  # e_flags ends at byte 40 (32-bit) or 52 (64-bit).
EF_ARM_ABI_FLOAT_HARD = 0x400

_MACHINE_NAMES = {3: "Intel 80386", 8: "MIPS", 20: "PowerPC", 21: "PowerPC64", 22: "IBM S/390",
                  40: "ARM", 62: "x86-64", 183: "AArch64", 243: "RISC-V"}


class NotElf(ValueError):
    """The bytes do not start with an ELF header."""


def _unpack(fmt: str, data: bytes, at: int) -> tuple[int, ...]:
    """``struct.unpack_from``, for an offset read from the file itself: one that lies outside
    ``data`` is a ``struct.error`` as a short read is (never an OverflowError, never counted
    from the end as a negative offset would be)."""
    if not 0 <= at <= len(data):
        raise struct.error(f"offset {at} outside {len(data)} bytes")
    return struct.unpack_from(fmt, data, at)


@dataclass(frozen=True)
class ElfIdent:
    bits: int
    big_endian: bool
    machine: int
    flags: int

    @property
    def arm_hard_float(self) -> bool:
        return bool(self.flags & EF_ARM_ABI_FLOAT_HARD)

    def describe(self) -> str:
        """What ``file`` would say, briefly: ``ELF 32-bit LSB ARM (hard-float)``."""
        name = _MACHINE_NAMES.get(self.machine, f"machine {self.machine}")
        text = f"ELF {self.bits}-bit {'MSB' if self.big_endian else 'LSB'} {name}"
        if self.machine == 40:
            text += " (hard-float)" if self.arm_hard_float else " (soft-float)"
        return text


def parse_header(data: bytes) -> ElfIdent:
    """Parse an ELF header; raise :class:`NotElf` for anything else."""
    if len(data) < 20 or data[:4] != b"\x7fELF":
        raise NotElf("not an ELF file")
    ei_class, ei_data = data[4], data[5]
    if ei_class not in (1, 2) or ei_data not in (1, 2):
        raise NotElf(f"bad ELF identification (class {ei_class}, data {ei_data})")
    bits = 32 if ei_class == 1 else 64
    order = "<" if ei_data == 1 else ">"
    (machine,) = struct.unpack_from(order + "H", data, 18)
    flags_at = 36 if bits == 32 else 48
    flags = struct.unpack_from(order + "I", data, flags_at)[0] if len(data) >= flags_at + 4 else 0
    return ElfIdent(bits=bits, big_endian=ei_data == 2, machine=machine, flags=flags)


def synthetic_header(bits: int, big_endian: bool, machine: int) -> bytes:
    """The first 20 bytes of an executable of this kind, as binfmt_misc matches them."""
    order = ">" if big_endian else "<"
    ident = b"\x7fELF" + bytes([1 if bits == 32 else 2, 2 if big_endian else 1, 1]) + bytes(9)
    return ident + struct.pack(order + "HH", 2, machine)  # e_type ET_EXEC, e_machine


ET_EXEC, ET_DYN = 2, 3
PT_INTERP = 3


def file_type(data: bytes) -> int:
    """e_type: 2 an executable, 3 a shared object (or PIE), 1 a relocatable object."""
    order = ">" if data[5] == 2 else "<"
    return int(struct.unpack_from(order + "H", data, 16)[0])


@dataclass(frozen=True)
class Segment:
    """One program header: its type, where it lies in the file and in memory."""

    type: int
    offset: int
    vaddr: int
    filesz: int


PT_LOAD, PT_DYNAMIC = 1, 2


def segments(data: bytes) -> list[Segment]:
    """The program headers of an ELF file whose first bytes are ``data`` (those that lie
    within them; at most 64)."""
    found: list[Segment] = []
    try:
        bits = 32 if data[4] == 1 else 64
        order = ">" if data[5] == 2 else "<"
        phoff, phentsize, phnum = _table(data)
        for i in range(min(phnum, 64)):
            at = phoff + i * phentsize
            if bits == 32:
                p_type, offset, vaddr, _paddr, filesz = _unpack(order + "5I", data, at)
            else:
                p_type, _flags, offset, vaddr, _paddr, filesz = _unpack(
                    order + "2I4Q", data, at)
            found.append(Segment(p_type, offset, vaddr, filesz))
    except (struct.error, IndexError):
        pass
    return found


def _table(data: bytes) -> tuple[int, int, int]:
    """(e_phoff, e_phentsize, e_phnum): where the program header table is."""
    order = ">" if data[5] == 2 else "<"
    if data[4] == 1:
        phoff, = _unpack(order + "I", data, 28)
        phentsize, phnum = _unpack(order + "HH", data, 42)
    else:
        phoff, = _unpack(order + "Q", data, 32)
        phentsize, phnum = _unpack(order + "HH", data, 54)
    return phoff, phentsize, phnum


def malformed(head: bytes, size: int) -> str | None:
    """Why neither the kernel nor the dynamic loader can load the ELF file of ``size`` bytes
    whose first bytes are ``head``, whatever the machine: its program header table, which
    both read first (binfmt_elf's load_elf_phdrs, ld.so's _dl_map_object_from_fd), lies
    past the file's end or is not of its class's entry size. None when it can be read (or
    ``head`` is no ELF header)."""
    try:
        phoff, phentsize, phnum = _table(head)
    except (struct.error, IndexError):
        return None
    if phnum == 0:
        return None
    entry = 32 if head[4] == 1 else 56
    if phentsize != entry:
        return f"its program headers are {phentsize} bytes each, not {entry}"
    if phoff + phnum * phentsize > size:
        return (f"its program header table ({phnum} entries at offset {phoff}) lies past its "
                f"end ({size} bytes)")
    return None


def interpreter(data: bytes) -> str | None:
    """The program interpreter (PT_INTERP) named in ``data``, the first bytes of an ELF file;
    None when it has none, or when it lies beyond ``data``."""
    for seg in segments(data):
        if seg.type == PT_INTERP:
            if seg.offset + seg.filesz > len(data):
                return None
            return data[seg.offset:seg.offset + seg.filesz].split(b"\0", 1)[0].decode(
                errors="replace")
    return None


def dynamic_span(data: bytes) -> tuple[int, int] | None:
    """(offset, size) of the dynamic section (PT_DYNAMIC) in the file; None without one."""
    for seg in segments(data):
        if seg.type == PT_DYNAMIC:
            return seg.offset, seg.filesz
    return None


DT_NULL, DT_NEEDED, DT_STRTAB, DT_RPATH, DT_RUNPATH = 0, 1, 5, 15, 29
# Entries of a dynamic section read (glibc's own libc has 30; a big program a few hundred):
# past these a file's strings would be read 4 KiB each, for ever more names.
DYNAMIC_ENTRIES = 4096
# Characters of a file's library names and search paths kept (a big program's: a few KiB):
# 4,096 names of 4,000 characters each, in each of 10,000 files, would be 160 GB.
DYNAMIC_TEXT = 64 << 10


@dataclass(frozen=True)
class Dynamic:
    """What the dynamic loader reads of a file: the libraries it needs, and where to look."""

    needed: tuple[str, ...] = ()
    rpath: tuple[str, ...] = ()
    runpath: tuple[str, ...] = ()


def dynamic(head: bytes, dyn: bytes, read_at: Callable[[int, int], bytes | None]
            ) -> Dynamic | None:
    """The dynamic section ``dyn`` of the file whose first bytes are ``head`` read: its
    strings are taken from the file through ``read_at(offset, size)`` (None where that part
    of the file is not at hand). None when it cannot be read whole."""
    bits = 32 if head[4] == 1 else 64
    order = ">" if head[5] == 2 else "<"
    entry = struct.Struct(order + ("iI" if bits == 32 else "qQ"))
    tags: list[tuple[int, int]] = []
    for at in range(0, len(dyn) - entry.size + 1, entry.size):
        if len(tags) == DYNAMIC_ENTRIES:
            return None  # no end in sight: not read, rather than read in part
        tag, value = entry.unpack_from(dyn, at)
        if tag == DT_NULL:
            break
        tags.append((tag, value))
    strtab = next((v for t, v in tags if t == DT_STRTAB), None)
    if strtab is None:
        return None
    base = _file_offset(segments(head), strtab)
    if base is None:
        return None

    texts: dict[int, str] = {}  # each string read once, however many entries name it
    kept = [0]  # characters of them, bounded: they are kept for every ELF file of the image

    def text(offset: int) -> str | None:
        if offset not in texts:
            chunk = read_at(base + offset, 4096)
            if chunk is None or b"\0" not in chunk:
                return None
            texts[offset] = chunk.split(b"\0", 1)[0].decode(errors="replace")
            kept[0] += len(texts[offset])
        return texts[offset] if kept[0] <= DYNAMIC_TEXT else None

    names: dict[int, list[str]] = {DT_NEEDED: [], DT_RPATH: [], DT_RUNPATH: []}
    for tag, value in tags:
        if tag in names:
            found = text(value)
            if found is None:
                return None
            names[tag].append(found)
    return Dynamic(tuple(names[DT_NEEDED]),
                   tuple(d for v in names[DT_RPATH] for d in v.split(":") if d),
                   tuple(d for v in names[DT_RUNPATH] for d in v.split(":") if d))


def _file_offset(loads: list[Segment], vaddr: int) -> int | None:
    """Where the address ``vaddr`` lies in the file, by the segment that maps it."""
    for seg in loads:
        if seg.type == PT_LOAD and seg.vaddr <= vaddr < seg.vaddr + seg.filesz:
            return vaddr - seg.vaddr + seg.offset
    return None


SHT_ARM_ATTRIBUTES = 0x70000003
# ARM build attributes (the "aeabi" vendor's, ARM IHI 0045): the tags read here.
TAG_CPU_ARCH, TAG_FP_ARCH, TAG_SIMD_ARCH = 6, 10, 12


def arm_attributes(head: bytes, tail: bytes, size: int) -> dict[int, int] | None:
    """The integer build attributes of a 32-bit ARM file's ``.ARM.attributes`` section, from
    its first bytes (the ELF header) and its last ``tail`` bytes (where the section and the
    section headers of a linked file lie); None when they are not within those bytes."""
    order = ">" if head[5] == 2 else "<"
    try:
        shoff, = _unpack(order + "I", head, 32)
        shentsize, shnum = _unpack(order + "HH", head, 46)
        start = size - len(tail)
        for i in range(min(shnum, 4096)):
            at = shoff + i * shentsize - start
            if at < 0:
                return None
            _name, sh_type, _flags, _addr, offset, length = _unpack(order + "6I", tail, at)
            if sh_type == SHT_ARM_ATTRIBUTES:
                if offset < start:
                    return None
                return _aeabi(tail[offset - start:offset - start + length], order)
    except struct.error:
        return None
    return None


class _Truncated(Exception):
    """A number or a field runs past the end of what holds it: read no further."""


def _uleb(data: bytes, at: int, end: int) -> tuple[int, int]:
    """The ULEB128 number at ``at`` and the offset after it, always past ``at``; raises
    :class:`_Truncated` where it does not end before ``end`` or within 64 bits (an
    endless one would be a number of any size)."""
    value = shift = 0
    while at < end and shift < 64:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at
    raise _Truncated


def _aeabi(section: bytes, order: str) -> dict[int, int]:
    """The file-scope integer attributes of the ``aeabi`` subsection. Every length the
    section gives is held to what encloses it, and each step moves on or stops, so any bytes
    are read in one pass (a subsection longer than its section had ``_uleb`` stop
    advancing, and the audit loop for ever)."""
    found: dict[int, int] = {}
    if not section or section[0] != ord("A"):
        return found
    at = 1
    try:
        while at + 4 <= len(section):
            length, = _unpack(order + "I", section, at)
            if length < 5:
                break
            end = min(at + length, len(section))
            vendor_end = section.find(b"\0", at + 4, end)
            if vendor_end < 0:
                break
            if section[at + 4:vendor_end] == b"aeabi":
                _subsections(section, vendor_end + 1, end, order, found)
            at = end
    except (_Truncated, struct.error):
        pass
    return found


def _subsections(section: bytes, pos: int, end: int, order: str, found: dict[int, int]
                 ) -> None:
    """The subsections from ``pos`` to ``end``: the attributes of Tag_File into ``found``."""
    while pos < end:
        start = pos
        scope, pos = _uleb(section, pos, end)
        if pos + 4 > end:
            return
        size, = _unpack(order + "I", section, pos)
        pos += 4
        if start + size < pos:  # shorter than its own tag and size: nothing to trust
            return
        sub_end = min(start + size, end)
        if scope == 1:  # Tag_File: the attributes of the whole file
            while pos < sub_end:
                tag, pos = _uleb(section, pos, sub_end)
                if tag in (4, 5, 67) or (tag > 32 and tag % 2):  # NUL-ended strings
                    nul = section.find(b"\0", pos, sub_end)
                    pos = sub_end if nul < 0 else nul + 1
                elif tag == 32:  # Tag_compatibility: a number, then a string
                    _flag, pos = _uleb(section, pos, sub_end)
                    nul = section.find(b"\0", pos, sub_end)
                    pos = sub_end if nul < 0 else nul + 1
                else:
                    found[tag], pos = _uleb(section, pos, sub_end)
        pos = sub_end


PT_NOTE, PT_GNU_PROPERTY = 4, 0x6474E553
NT_GNU_PROPERTY_TYPE_0 = 5
GNU_PROPERTY_X86_ISA_1_NEEDED = 0xC0008002
# The x86-64 micro-architecture levels of that property's bit mask.
X86_LEVELS = {1: "x86-64-baseline", 2: "x86-64-v2", 4: "x86-64-v3", 8: "x86-64-v4"}


def x86_isa_needed(head: bytes, read_at: Callable[[int, int], bytes | None]) -> int | None:
    """The X86_ISA_1_NEEDED bit mask of an x86 file's GNU property note (what `readelf -n`
    shows as "x86 ISA needed"); None when it has none."""
    bits = 32 if head[4] == 1 else 64
    order = ">" if head[5] == 2 else "<"
    align = 8 if bits == 64 else 4
    notes = [s for s in segments(head) if s.type == PT_GNU_PROPERTY] or \
        [s for s in segments(head) if s.type == PT_NOTE]
    for seg in notes:
        data = read_at(seg.offset, min(seg.filesz, 4096))
        if not data:
            continue
        at = 0
        try:
            while at + 12 <= len(data):
                namesz, descsz, ntype = _unpack(order + "3I", data, at)
                name_at = at + 12
                desc_at = name_at + ((namesz + 3) & ~3)
                if ntype == NT_GNU_PROPERTY_TYPE_0 and data[name_at:name_at + 4] == b"GNU\0":
                    pos, end = desc_at, desc_at + descsz
                    while pos + 8 <= end:
                        pr_type, pr_size = _unpack(order + "2I", data, pos)
                        if pr_type == GNU_PROPERTY_X86_ISA_1_NEEDED and pr_size >= 4:
                            return int(_unpack(order + "I", data, pos + 8)[0])
                        pos += 8 + ((pr_size + align - 1) & ~(align - 1))
                at = desc_at + ((descsz + align - 1) & ~(align - 1))
        except struct.error:
            continue
    return None
