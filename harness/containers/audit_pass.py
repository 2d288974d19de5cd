"""The one-pass audit: every file of the container's filesystem streamed once from the
engine (or read in place on this host), for the ELF audit, the linkage and the CPU levels, and
the native modules found on the way; kept by image ID for the next run (harness.machine.kept).
Nothing runs in the image, nothing is emulated."""

from __future__ import annotations

import os
import tarfile
import time
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from harness.containers import filesystem
from harness.containers.answer_cache import kept_observations
from harness.containers.hello import HELLO_DIR
from harness.containers.image_files import tar_stream
from harness.containers.probe_container import ImageProbe
from harness.containers.probe_result import KEPT, Span, Timed
from harness.core.answers import audit, elf, extensions, isa, linkage
from harness.core.answers import observation as obs
from harness.core.answers.elf import HEADER_SIZE
from harness.core.platforms.table import EM_ARM, EM_X86_64, Platform
from harness.machine import kept


def audit_files(probe: ImageProbe, platform: Platform, allow: tuple[str, ...], *,
                deep: bool = True) -> Timed:
    """Every ELF file of the container's filesystem, streamed from the engine (nothing runs
    in the image, nothing is emulated): the ELF audit (``elf-audit``) of each file's first
    bytes, and in the same pass what the loader needs of it (``linkage``): its dynamic
    section, the image's symlinks and the loader's configuration. ``deep=False``: the ELF
    audit alone (the bench's measure of what linkage and isa cost)."""
    start, started = time.monotonic(), time.time()
    tree = linkage.Tree(library_path=_library_path(probe))
    isa_seen = isa.Isa()
    finder = extensions.Finder()  # Python's extension modules, for native-modules
    lists: dict[str, bytes] = {}  # dpkg's file lists, for the files no package owns
    # What is read whole, in all (linkage's budgets): the loader's files, then the lists.
    config_reads = filesystem.Reads(linkage.CONFIG_BUDGET, linkage.CONFIG_LIMIT)
    list_reads = filesystem.Reads(linkage.LISTS_BUDGET)
    # The distributions' RECORDs and package.json files only name the native modules found.
    text_reads = filesystem.Reads(extensions.TEXT_BUDGET, extensions.TEXT_LIMIT)

    def files(entries: Iterator[filesystem.Entry]) -> Iterator[tuple[str, bytes, int]]:
        for entry in entries:
            path = entry.path
            if path == HELLO_DIR or path.startswith(HELLO_DIR + "/"):
                continue  # the hello world's own files, written meanwhile
            tree.paths.add(path)
            if entry.kind == "symlink":
                tree.links[path] = entry.link
            elif entry.kind == "hardlink":
                tree.hardlinks[path] = entry.link
            elif entry.kind == "file" and entry.fh is not None:
                if deep and linkage.wanted(path):
                    tree.config[path] = config_reads.read(entry)
                elif deep and linkage.is_dpkg_list(path):
                    lists[path] = list_reads.read(entry)
                elif deep and extensions.wanted(path):
                    finder.text(path, text_reads.read(entry))
                elif entry.size >= HEADER_SIZE:
                    head = entry.fh.read(audit.HEAD)
                    yield path, head, entry.size
                    if not deep:
                        continue
                    finder.elf(path, head)
                    try:  # one file's reading (linkage, isa) failing is that file's finding
                        binary = _binary(path, head, _member(entry, head), entry.size,
                                         platform, isa_seen)
                    except (OSError, tarfile.TarError):
                        raise  # the stream's, not this file's: the audit cannot go on
                    except Exception as exc:  # a harness bug, on this file
                        result.failed(path, exc)
                        continue
                    if binary is not None:
                        tree.binaries[path] = binary

    result = audit.Audit()  # filled by the audit, and by files() with its own failures
    root = None if probe._files is not None else \
        filesystem.host_root(probe.container, probe.docker_host)
    if root is not None:  # read in place, on this host: nothing archived, heads only
        audit.audit(platform, files(filesystem.from_root(root, HELLO_DIR)), allow, result)
    else:
        with tar_stream(probe.container.export()) as tar:
            audit.audit(platform, files(filesystem.from_export(tar)), allow, result)
    audit_seconds = time.monotonic() - start
    span = Span(started, round(audit_seconds, 2), "in place" if root is not None else "export")
    seen = span.stamp(obs.elf_audit(platform.name, result, audit_seconds))
    if not deep:
        return Timed([seen], span)
    if config_reads.cut_count:  # the search path is not known whole: nothing is judged
        tree.exhausted.append(config_reads.describe("the loader's files",
                                                    linkage.CONFIG_BUDGET))
    foreign = {f.path for f in result.foreign}
    judged = linkage.judge(platform, tree, allow, foreign)  # first: the gate's own work
    spent = len(tree.exhausted)
    if list_reads.cut_count:
        tree.exhausted.append(list_reads.describe("dpkg's file lists", linkage.LISTS_BUDGET))
    unowned = None if list_reads.cut_count else linkage.unowned(tree, lists)
    if unowned is not None:  # the SBOM's files (harness.core.reporting.attest)
        seen.detail["unowned"], seen.detail["unowned_count"] = unowned
    elif len(tree.exhausted) > spent:  # a budget spent: the SBOM says not known, never 0
        seen.detail["unowned_error"] = tree.exhausted[-1]
    judged.exhausted = list(dict.fromkeys(tree.exhausted))
    # Kept with the audit (read back with it), loaded by the probe (containers.native_modules).
    seen.detail["native_modules"] = [asdict(m) for m in finder.modules(
        tree.paths, {f.path: f.what for f in result.foreign})]
    found = [seen, obs.linkage(judged)]
    if obs.applies("isa", platform):
        found.append(obs.isa(isa_seen))
    return Timed(found, span)


def audit_kept(probe: ImageProbe, platform: Platform, allow: tuple[str, ...],
               keep: bool) -> Timed:
    """The audits, read back where this image ID was audited before by the same code (see
    harness.machine.kept), else made and kept; ``keep=False`` (--no-cache): made, and kept
    anew."""
    started = time.time()
    name = kept.key(probe.local.id, platform.name, allow)
    seen = kept_observations(name, kept.cache_dir(), "elf-audit") if keep else None
    if seen is not None:
        span = Span(started, round(time.time() - started, 3), KEPT)
        span.stamp(seen[0])
        return Timed(seen, span)
    made = audit_files(probe, platform, allow)
    if all(o.error is None for o in made.found):  # an answer, not a failure to read
        kept.store(name, [o.to_dict() for o in made.found])
    return made


def _library_path(probe: ImageProbe) -> tuple[str, ...]:
    """LD_LIBRARY_PATH of the image config: the loader searches it in every container."""
    for item in probe.local.attrs.get("Config", {}).get("Env") or []:
        key, _, value = str(item).partition("=")
        if key == "LD_LIBRARY_PATH":
            return tuple(d for d in value.split(":") if d)
    return ()


PREFIX_KEPT = 16 << 20  # bytes of a file kept while reading on to its dynamic section
TAIL_KEPT = 64 << 10  # bytes of a 32-bit ARM file's end kept: its attributes and sections


class _Member:
    """One file of the export, read on from its first bytes as far as asked (the stream
    passes every byte anyway): its first PREFIX_KEPT bytes, the spans asked for, its end."""

    def __init__(self, fh: Any, head: bytes) -> None:
        self.fh = fh
        self.pos = len(head)
        self.prefix = bytearray(head)
        self.tail = bytes(head[-TAIL_KEPT:])
        self.spans: list[tuple[int, int, bytearray]] = []  # offset, size, bytes so far

    def capture(self, offset: int, size: int) -> bytearray:
        """The ``size`` bytes at ``offset``, filled as the file is read."""
        got = bytearray(self.prefix[offset:offset + size])
        self.spans.append((offset, size, got))
        return got

    def read_to(self, end: int) -> None:
        while self.pos < end:
            chunk = self.fh.read(min(1 << 20, end - self.pos))
            if not chunk:
                return
            if self.pos < PREFIX_KEPT:
                self.prefix += chunk[:PREFIX_KEPT - self.pos]
            for offset, size, got in self.spans:
                at = offset + len(got) - self.pos  # the span's next byte, within chunk
                if len(got) < size and 0 <= at < len(chunk):
                    got += chunk[at:at + size - len(got)]
            self.tail = (self.tail + chunk)[-TAIL_KEPT:]
            self.pos += len(chunk)

    def at(self, offset: int, count: int) -> bytes | None:
        if offset < len(self.prefix):
            return bytes(self.prefix[offset:offset + count])
        for start, _size, got in self.spans:
            if start <= offset < start + len(got):
                return bytes(got[offset - start:offset - start + count])
        return None


class _FileMember:
    """One file read in place: any span at its offset, its end at once (nothing streamed)."""

    def __init__(self, fd: int, size: int) -> None:
        self.fd, self.size = fd, size

    def capture(self, offset: int, size: int) -> bytearray:
        return bytearray(self.at(offset, size))

    def read_to(self, end: int) -> None:
        pass  # every offset can be read: nothing to pass on the way

    @property
    def tail(self) -> bytes:
        return os.pread(self.fd, TAIL_KEPT, max(self.size - TAIL_KEPT, 0))

    def at(self, offset: int, count: int) -> bytes:
        # Offsets are the file's own word: past its end there is nothing (pread would
        # refuse one past 2**63 with EINVAL).
        if not 0 <= offset < self.size or count <= 0:
            return b""
        return os.pread(self.fd, min(count, self.size - offset), offset)


def _member(entry: filesystem.Entry, head: bytes) -> _Member | _FileMember:
    if entry.fd is not None:
        return _FileMember(entry.fd, entry.size)
    return _Member(entry.fh, head)


def _binary(path: str, head: bytes, member: _Member | _FileMember, size: int,
            platform: Platform, isa_seen: isa.Isa) -> linkage.Binary | None:
    """What the loader needs of an ELF file (its dynamic section), and for 32-bit ARM
    platforms the CPU its build attributes ask for (into ``isa_seen``)."""
    try:
        ident = elf.parse_header(head)
    except elf.NotElf:
        return None
    kind = elf.file_type(head)
    if kind not in (elf.ET_EXEC, elf.ET_DYN):
        return None
    interp = elf.interpreter(head)
    span = elf.dynamic_span(head)
    dyn: bytearray | None = None
    if span is not None and 0 < span[1] <= 1 << 20 and span[0] + span[1] <= size:
        dyn = member.capture(*span)
        member.read_to(span[0] + span[1])
    program = kind == elf.ET_EXEC or interp is not None
    # Each kind of CPU level read only where it is judged (an ARM file's attributes on the
    # 32-bit ARM platforms, an x86 file's level on amd64's).
    if platform.name in isa.ALLOWED and ident.machine == EM_ARM and ident.bits == 32:
        member.read_to(size)
        attributes = elf.arm_attributes(head, member.tail, size)
        if attributes is not None:
            isa_seen.add(platform, path, attributes, program)
    elif platform.name in isa.X86_ALLOWED and ident.machine == EM_X86_64:
        mask = elf.x86_isa_needed(head, member.at)
        if mask is not None:
            isa_seen.add(platform, path, {isa.X86_NEEDED: mask}, program)
    dynamic = None
    if span is not None and dyn is not None and len(dyn) == span[1]:
        dynamic = elf.dynamic(head, bytes(dyn), member.at)
    return linkage.Binary(path, ident.bits, ident.machine, ident.big_endian,
                          program=program, interp=interp, dynamic=dynamic)
