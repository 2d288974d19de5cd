"""Audit every ELF file of an image against its platform (the ``elf-audit`` source).

A multi-arch image goes wrong most often in one binary: a ``COPY --from`` of a stage built on
``$BUILDPLATFORM`` without a cross target puts an x86_64 program into an arm64 image whose
userland and config are right. On an x86_64 host that program even runs. Only reading every
executable and shared object shows it: machine, class, byte order, the ARM float ABI, and the
program interpreter (``PT_INTERP``), against the platform table.

Pure: it judges (path, first bytes) pairs; ``harness.containers.audit_pass`` streams them from the
engine.
"""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from harness.core.answers import elf, normalise
from harness.core.platforms.table import Platform

HEAD = 4096  # bytes read of each file: the header, the program headers and the interpreter
LISTED = 1000  # foreign paths kept in the report (the count is always whole)

# Each platform's program interpreters, glibc and musl, by file name (merged /usr or not).
LOADERS = {
    "linux/amd64": ("ld-linux-x86-64.so.2", "ld-musl-x86_64.so.1"),
    "linux/386": ("ld-linux.so.2", "ld-musl-i386.so.1"),
    "linux/arm64": ("ld-linux-aarch64.so.1", "ld-musl-aarch64.so.1"),
    "linux/arm/v7": ("ld-linux-armhf.so.3", "ld-musl-armhf.so.1"),
    "linux/arm/v6": ("ld-linux-armhf.so.3", "ld-linux.so.3", "ld-musl-armhf.so.1",
                     "ld-musl-arm.so.1"),
    "linux/arm/v5": ("ld-linux.so.3", "ld-musl-arm.so.1"),
    "linux/ppc64le": ("ld64.so.2", "ld-musl-powerpc64le.so.1"),
    "linux/s390x": ("ld64.so.1", "ld-musl-s390x.so.1"),
    "linux/riscv64": ("ld-linux-riscv64-lp64d.so.1", "ld-musl-riscv64.so.1"),
}
# Debian's multiarch directories: each platform's own, and every other one (foreign on purpose
# once a user adds that architecture).
MULTIARCH = {
    "linux/amd64": ("x86_64-linux-gnu",), "linux/386": ("i386-linux-gnu",),
    "linux/arm64": ("aarch64-linux-gnu",), "linux/arm/v7": ("arm-linux-gnueabihf",),
    "linux/arm/v6": ("arm-linux-gnueabi", "arm-linux-gnueabihf"),
    "linux/arm/v5": ("arm-linux-gnueabi",), "linux/ppc64le": ("powerpc64le-linux-gnu",),
    "linux/s390x": ("s390x-linux-gnu",), "linux/riscv64": ("riscv64-linux-gnu",),
}
# The x86-64 levels share plain amd64's loader and directories.
for _level in ("v2", "v3", "v4"):
    LOADERS[f"linux/amd64/{_level}"] = LOADERS["linux/amd64"]
    MULTIARCH[f"linux/amd64/{_level}"] = MULTIARCH["linux/amd64"]
# Where Debian puts code of another architecture on purpose: the other word size's libraries,
# cross toolchains and their sysroots, QEMU's own binaries, firmware, boot loaders, Rust's
# standard libraries for other targets.
# (fnmatch's * crosses "/": directories named by triplet are listed per triplet below.)
DEBIAN_FOREIGN = ("/usr/lib32/*", "/lib32/*", "/usr/libx32/*", "/libx32/*",
                  "/usr/lib/gcc-cross/*", "/usr/libexec/qemu-binfmt/*",
                  "/usr/bin/qemu-*", "/usr/lib/firmware/*", "/lib/firmware/*",
                  "/usr/lib/grub/*", "/usr/lib/rustlib/*")


def allowed_foreign(platform: Platform, extra: Iterable[str] = ()) -> tuple[str, ...]:
    """The globs of paths whose foreign ELF files are expected for ``platform``."""
    own = set(MULTIARCH.get(platform.name, ()))
    others = sorted({t for ts in MULTIARCH.values() for t in ts} - own)
    lib64 = ("/usr/lib64/*", "/lib64/*") if platform.bits == 32 else ()
    # Other architectures' multiarch directories, and cross toolchains' sysroots (/usr/TRIPLET).
    by_triplet = (f"{d}/{t}/*" for t in others for d in ("/usr/lib", "/lib", "/usr"))
    return (*DEBIAN_FOREIGN, *lib64, *by_triplet, *extra)


@dataclass(frozen=True)
class Foreign:
    path: str
    what: str  # "ELF 64-bit LSB x86-64", "interpreter /lib64/ld-linux-x86-64.so.2"

    def __str__(self) -> str:
        return f"{self.path} ({self.what})"


@dataclass
class Audit:
    files: int = 0  # ELF executables and shared objects read
    allowed: int = 0  # foreign (or unloadable) ones where foreign code is expected
    foreign: list[Foreign] = field(default_factory=list)
    count: int = 0  # all foreign ones (``foreign`` keeps the first LISTED)
    # Files no loader can read, on any machine (elf.malformed): the first LISTED, and all.
    malformed: list[Foreign] = field(default_factory=list)
    malformed_count: int = 0
    # Files whose reading or judgement raised what the harness did not expect (its bug): the
    # first LISTED, and all; each file's own, every other file judged.
    internal: list[Foreign] = field(default_factory=list)
    internal_count: int = 0

    def failed(self, path: str, exc: BaseException) -> None:
        """``path``'s reading or judgement raised ``exc``: kept as that file's, bounded."""
        self.internal_count += 1
        if len(self.internal) < LISTED:
            self.internal.append(Foreign(path, f"{type(exc).__name__}: {str(exc)[:100]}"))

    def summary(self) -> str:
        return (f"{self.files} ELF files, {self.count} of another platform"
                + (f", {self.malformed_count} no loader can read" if self.malformed_count
                   else "")
                + (f", {self.allowed} foreign where allowed" if self.allowed else ""))


def archive_path(name: str) -> str:
    """The absolute path of a member of an exported filesystem (``usr/bin/x``, ``./.x``)."""
    return "/" + name.removeprefix("./").lstrip("/")


def judge_file(platform: Platform, head: bytes) -> str | None:
    """Why the ELF file whose first bytes are ``head`` is not of ``platform``; None if it is
    (or is no executable or shared object at all)."""
    try:
        ident = elf.parse_header(head)
    except elf.NotElf:
        return None
    if elf.file_type(head) not in (elf.ET_EXEC, elf.ET_DYN):
        return None  # objects, kernel modules, core files: nothing runs them as they are
    if platform.name not in normalise.from_elf(ident):
        return ident.describe()
    interp = elf.interpreter(head)
    if interp and posixpath.basename(interp) not in LOADERS.get(platform.name, ()):
        return f"interpreter {interp}"
    return None


def unloadable(head: bytes, size: int) -> str | None:
    """Why no loader of any machine can read the executable or shared object of ``size``
    bytes whose first bytes are ``head`` (see :func:`harness.core.answers.elf.malformed`)."""
    try:
        elf.parse_header(head)
    except elf.NotElf:
        return None
    if elf.file_type(head) not in (elf.ET_EXEC, elf.ET_DYN):
        return None
    return elf.malformed(head, size)


def audit(platform: Platform, files: Iterable[tuple[str, bytes, int]],
          allow: Iterable[str] = (), result: Audit | None = None,
          judge: Callable[[Platform, bytes], str | None] = judge_file) -> Audit:
    """Every ELF file of ``files`` (path, first bytes, size) judged for ``platform`` (into
    ``result``, where the reader keeps its own per-file failures). A file no loader can read
    is a finding of its own (it runs on no machine), and the audit goes on: one malformed
    file never hides what the others are, nor does one the judgement fails on (an
    ``internal`` finding naming it: a harness bug must not mask a real fail)."""
    globs = allowed_foreign(platform, allow)
    result = Audit() if result is None else result
    for path, head, size in files:
        if head[:4] != b"\x7fELF":
            continue
        result.files += 1
        try:
            broken = unloadable(head, size)
            why = broken or judge(platform, head)
        except Exception as exc:  # any bug, kept as this file's
            result.failed(path, exc)
            continue
        if why is None:
            continue
        if any(fnmatch.fnmatchcase(path, g) for g in globs):
            result.allowed += 1
            continue
        if broken:
            result.malformed_count += 1
            if len(result.malformed) < LISTED:
                result.malformed.append(Foreign(path, broken))
            continue
        result.count += 1
        if len(result.foreign) < LISTED:
            result.foreign.append(Foreign(path, why))
    return result

