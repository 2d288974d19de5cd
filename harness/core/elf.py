"""Read the identity of an ELF binary from its first bytes: class, byte order, machine, flags.

Reading the binaries is the only way to see an image whose config says one architecture
while its userland is another, so this is done in Python from bytes copied out of the
container: it works in images that have no ``file`` or ``od``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

HEADER_SIZE = 52  # e_flags ends at byte 40 (32-bit) or 52 (64-bit).
EF_ARM_ABI_FLOAT_HARD = 0x400

_MACHINE_NAMES = {3: "Intel 80386", 8: "MIPS", 20: "PowerPC", 21: "PowerPC64", 22: "IBM S/390",
                  40: "ARM", 62: "x86-64", 183: "AArch64", 243: "RISC-V"}


class NotElf(ValueError):
    """The bytes do not start with an ELF header."""


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


def interpreter(data: bytes) -> str | None:
    """The program interpreter (PT_INTERP) named in ``data``, the first bytes of an ELF file;
    None when it has none, or when it lies beyond ``data``."""
    try:
        bits = 32 if data[4] == 1 else 64
        order = ">" if data[5] == 2 else "<"
        if bits == 32:
            phoff, = struct.unpack_from(order + "I", data, 28)
            phentsize, phnum = struct.unpack_from(order + "HH", data, 42)
        else:
            phoff, = struct.unpack_from(order + "Q", data, 32)
            phentsize, phnum = struct.unpack_from(order + "HH", data, 54)
        for i in range(min(phnum, 64)):
            at = phoff + i * phentsize
            p_type, = struct.unpack_from(order + "I", data, at)
            if p_type != PT_INTERP:
                continue
            if bits == 32:
                offset, = struct.unpack_from(order + "I", data, at + 4)
                size, = struct.unpack_from(order + "I", data, at + 16)
            else:
                offset, = struct.unpack_from(order + "Q", data, at + 8)
                size, = struct.unpack_from(order + "Q", data, at + 32)
            if offset + size > len(data):
                return None
            return data[offset:offset + size].split(b"\0", 1)[0].decode(errors="replace")
    except struct.error:
        return None
    return None
