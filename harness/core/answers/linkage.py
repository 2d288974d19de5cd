"""Will each program of an image start? Its program interpreter and every library it needs,
looked up inside the image as the dynamic loader would (the ``linkage`` source).

An image can be of the right architecture in every file and still hold a program that cannot
start: a binary copied from a build stage without its shared libraries, or a dynamically
linked program in a scratch image with no loader. The loader's search is followed here on
the image's own files, never the host's:

- the program interpreter (``PT_INTERP``) must exist in the image, symlinks resolved inside
  the image;
- each ``DT_NEEDED`` library is looked up along ``DT_RPATH`` (when there is no
  ``DT_RUNPATH``; the program's own applies to its libraries too), ``LD_LIBRARY_PATH`` of
  the image config, ``DT_RUNPATH``, the directories of ``/etc/ld.so.conf`` (with its
  ``include`` files) and the paths in ``/etc/ld.so.cache``, then the default directories
  (``/lib``, ``/usr/lib``, the platform's multiarch directories, ``/lib64`` and
  ``/usr/lib64`` for 64-bit); for musl, ``/etc/ld-musl-ARCH.path`` or musl's default path.
  ``$ORIGIN`` (and ``$LIB``, ``$PLATFORM``) are expanded. A library of another class or
  machine is skipped, as the loader skips it;
- what a library needs is needed too, transitively.

The rule, so that Debian's own images never cry wolf: a *program* (an executable, or a
position-independent one with an interpreter) that cannot start is a ``fail`` naming it and
what is missing; a *shared library* whose own needs are unmet is reported (``detail``:
``libraries_unmet``), not failed, since plugins and optional modules are loaded on demand,
by programs that bring what they need. Files where foreign code is expected (see
:mod:`harness.core.answers.audit`) are not judged.

Pure: it judges what ``harness.containers.audit_pass`` read from the image's export.
"""

from __future__ import annotations

import fnmatch
import posixpath
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field

from harness.core.answers import audit
from harness.core.answers.elf import Dynamic
from harness.core.platforms.table import Platform

LISTED = 200  # broken programs and unmet libraries kept in the report (the counts are whole)
HOPS = 40  # symlinks nested while resolving one path, as the kernel's limit
# Files read whole for the search path: small text files, and the loader's cache.
CONFIG_FILES = ("/etc/ld.so.conf", "/etc/ld.so.cache")
CONFIG_DIRS = ("/etc/ld.so.conf.d/",)
MUSL_PATH_PREFIX = "/etc/ld-musl-"
CONFIG_LIMIT = 4 << 20  # bytes of one such file kept
# What the audit reads of one image, in all: the loader's configuration (Debian's: a few
# KiB, its ld.so.cache tens of KiB), and dpkg's file lists (a large Debian image: a few
# MiB). Without a total, 300 files of 4 MiB took the worker to 1.26 GB.
CONFIG_BUDGET = 16 << 20
LISTS_BUDGET = 64 << 20
# Steps of path resolution (one a path component, a link's target, a configuration line or
# cache entry, a file list's line) for one image's linkage audit and its unowned files: a
# whole Debian system (140,000 paths, 727 packages) takes 1.1 million, and the budget is
# about 25 s of one core. Past it the audit stops, and says so.
WORK_BUDGET = 20_000_000
# Links that name the container's own root through /proc: in a running container they are
# its root, as every process there sees it (PID 1 is the container's first process).
PROC_ROOTS = ("/proc/self/root", "/proc/thread-self/root", "/proc/1/root")


class Exhausted(Exception):
    """The audit's budget for one image is spent (see WORK_BUDGET)."""


def wanted(path: str) -> bool:
    """Whether a file of the image is one the search path is read from."""
    return path in CONFIG_FILES or path.startswith(CONFIG_DIRS) or (
        path.startswith(MUSL_PATH_PREFIX) and path.endswith(".path"))


@dataclass(frozen=True)
class Binary:
    """What the loader needs to know of one ELF file."""

    path: str
    bits: int
    machine: int
    big_endian: bool
    program: bool  # started by the kernel: an executable, or a PIE with an interpreter
    interp: str | None = None
    dynamic: Dynamic | None = None  # None: not dynamically linked, or not readable whole


@dataclass
class Tree:
    """The image's filesystem as the loader sees it: files, symlinks, its config files.
    Filled first, then asked: each link's resolution is kept once made."""

    binaries: dict[str, Binary] = field(default_factory=dict)  # by path as archived
    links: dict[str, str] = field(default_factory=dict)  # symlink path -> target as written
    hardlinks: dict[str, str] = field(default_factory=dict)  # path -> the path it is
    paths: set[str] = field(default_factory=set)  # every member (files, dirs, links)
    config: dict[str, bytes] = field(default_factory=dict)  # ld.so.conf*, ld.so.cache, musl
    library_path: tuple[str, ...] = ()  # LD_LIBRARY_PATH of the image config
    budget: int = WORK_BUDGET  # steps of work allowed (see WORK_BUDGET)
    work: int = 0  # steps taken
    # The budgets that stopped the audit short of its end, as the report says them.
    exhausted: list[str] = field(default_factory=list)
    _links: dict[str, str | None] = field(default_factory=dict, repr=False)  # resolved
    _busy: set[str] = field(default_factory=set, repr=False)  # links being resolved
    _deep: bool = field(default=False, repr=False)  # a resolution cut by HOPS under way

    def charge(self, steps: int = 1) -> None:
        """Count ``steps`` of work; raise :class:`Exhausted` past the budget."""
        self.work += steps
        if self.work > self.budget:
            raise Exhausted(f"more than {self.budget:,} steps of path resolution")

    def resolve(self, path: str) -> str | None:
        """``path`` with every symlink in it resolved inside the image; None when it does not
        exist there (or links in a loop). Each link is resolved once (its target from its
        directory, already resolved, is all it depends on): a 2,000-part link named by
        100,000 lines of a file list cost 7 ms a line when followed anew each time."""
        return self._follow("/", posixpath.normpath(path).split("/"), 0)

    def _follow(self, done: str, parts: list[str], depth: int) -> str | None:
        self.charge(len(parts))
        for part in parts:
            if part in ("", "."):
                continue
            if part == "..":
                done = posixpath.dirname(done.rstrip("/")) or "/"
                continue
            here = posixpath.join(done, part)
            if here in PROC_ROOTS:
                done = "/"
                continue
            if here in self.links:
                found = self._link(here, depth)
                if found is None:
                    return None
                done = found
                continue
            here = self.hardlinks.get(here, here)
            if here not in self.paths and here not in _PROC_DIRS:
                return None
            done = here
        return done

    def _link(self, here: str, depth: int) -> str | None:
        if here in self._links:
            return self._links[here]
        if here in self._busy:
            return None  # a loop
        if depth >= HOPS:
            self._deep = True  # nested deeper than the kernel follows: from here, not kept
            return None
        self._busy.add(here)
        outer, self._deep = self._deep, False
        try:
            target = self.links[here]
            base = "/" if target.startswith("/") else posixpath.dirname(here)
            found = self._follow(base, target.split("/"), depth + 1)
        finally:
            self._busy.discard(here)
        if not self._deep:  # the same wherever it is reached from
            self._links[here] = found
        self._deep = outer or self._deep
        return found


# /proc's own directories on the way to PROC_ROOTS (procfs, not the image's files).
_PROC_DIRS = frozenset({"/proc", *(posixpath.dirname(p) for p in PROC_ROOTS)})


@dataclass
class Linkage:
    programs: int = 0  # dynamically linked programs judged
    broken: list[str] = field(default_factory=list)  # "PATH: why", the first LISTED
    broken_count: int = 0
    libraries_unmet: list[str] = field(default_factory=list)  # "PATH: needs X", first LISTED
    libraries_unmet_count: int = 0
    unreadable: int = 0  # dynamic sections that could not be read whole (not judged)
    exhausted: list[str] = field(default_factory=list)  # the budgets it stopped at, if any

    def summary(self) -> str:
        text = f"{self.programs} dynamically linked programs, {self.broken_count} cannot start"
        if self.libraries_unmet_count:
            text += f"; {self.libraries_unmet_count} libraries with unmet needs (not judged)"
        return text


def _expand(entry: str, origin: str, bits: int) -> str:
    for name, value in (("ORIGIN", origin), ("LIB", "lib64" if bits == 64 else "lib"),
                        ("PLATFORM", "")):
        entry = entry.replace("${" + name + "}", value).replace("$" + name, value)
    return entry


def conf_dirs(tree: Tree) -> list[str]:
    """The directories of /etc/ld.so.conf and the files it includes (globs as ldconfig
    reads them), in order, each once. Each line and each file an include tests is work
    (:meth:`Tree.charge`), and each pattern is matched once: 4 MiB of ``include`` lines
    against 300 files cost 7 ms a line."""
    found: dict[str, None] = {}
    seen: set[str] = set()
    matched: dict[str, list[str]] = {}

    def read(path: str, depth: int = 0) -> None:
        if path in seen or depth > 8:
            return
        seen.add(path)
        text = tree.config.get(path, b"").decode(errors="replace")
        for raw in text.splitlines():
            tree.charge()
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            if line.startswith("include"):
                pattern = line.split(None, 1)[1] if len(line.split(None, 1)) > 1 else ""
                if not pattern.startswith("/"):
                    pattern = posixpath.join(posixpath.dirname(path), pattern)
                if pattern in matched:
                    continue  # its files are read already: nothing more to find
                tree.charge(len(tree.config))
                matched[pattern] = sorted(p for p in tree.config if _glob(p, pattern))
                for included in matched[pattern]:
                    read(included, depth + 1)
            elif line.startswith("hwcap"):
                continue
            else:
                found.update(dict.fromkeys(line.replace(",", " ").replace(":", " ").split()))

    read("/etc/ld.so.conf")
    return list(found)


def _glob(path: str, pattern: str) -> bool:
    return posixpath.dirname(path) == posixpath.dirname(pattern) and fnmatch.fnmatchcase(
        posixpath.basename(path), posixpath.basename(pattern))


PATH_MAX = 4096  # the longest path the loader opens, its NUL included


def cache_paths(data: bytes) -> list[str]:
    """The library paths listed in an ``ld.so.cache`` (glibc's "new" format, which every
    glibc since 2.32 writes alone); none for a file of another format. A path is looked
    for within PATH_MAX bytes of where its entry says (an entry pointing at a long run
    without a NUL was a scan to the end of the file for each of 100,000 entries), and the
    paths together are no longer than the file."""
    magic = b"glibc-ld.so.cache1.1"
    start = data.find(magic)
    if start < 0:
        return []
    try:
        nlibs, = struct.unpack_from("<I", data, start + len(magic))
        entries = start + 48
        paths = []
        total = 0  # a real cache holds each string once: never more than its own size
        for i in range(min(nlibs, 100_000)):
            _flags, _key, value = struct.unpack_from("<iII", data, entries + i * 24)
            end = data.find(b"\0", value, value + PATH_MAX)
            if end < 0:
                break
            total += end - value
            if total > len(data):
                break
            paths.append(data[value:end].decode(errors="replace"))
        return paths
    except struct.error:
        return []


def default_dirs(platform: Platform, bits: int) -> list[str]:
    own = [f"{d}/{t}" for t in audit.MULTIARCH.get(platform.name, ()) for d in ("/lib", "/usr/lib")]
    wide = ["/lib64", "/usr/lib64"] if bits == 64 else ["/lib32", "/usr/lib32"]
    return [*own, "/lib", "/usr/lib", *wide]


def musl_dirs(tree: Tree, interp: str) -> list[str]:
    """musl's search path: /etc/ld-musl-ARCH.path (ARCH from the loader's name), else its
    built-in default."""
    arch = posixpath.basename(interp).removeprefix("ld-musl-").removesuffix(".so.1")
    text = tree.config.get(f"{MUSL_PATH_PREFIX}{arch}.path")
    if text is None:
        return ["/lib", "/usr/local/lib", "/usr/lib"]
    return [d for d in text.decode(errors="replace").replace(":", "\n").split() if d]


def _compatible(found: Binary, wanted_by: Binary) -> bool:
    return (found.bits, found.machine, found.big_endian) == (
        wanted_by.bits, wanted_by.machine, wanted_by.big_endian)


class _Search:
    """One program's view of the image: where each library it (transitively) needs is."""

    def __init__(self, tree: Tree, platform: Platform, system: list[str]) -> None:
        self.tree = tree
        self.platform = platform
        self.system = system  # ld.so.conf and ld.so.cache directories
        self._found: dict[tuple[str, str, tuple[str, ...]], str | None] = {}

    def binary(self, path: str) -> Binary | None:
        real = self.tree.resolve(path)
        return self.tree.binaries.get(real) if real else None

    def find(self, name: str, requester: Binary, requester_path: str, program: Binary,
             musl: bool) -> str | None:
        """The path where the loader finds ``name`` for ``requester``; None if nowhere."""
        dyn = requester.dynamic or Dynamic()
        origin = posixpath.dirname(requester_path)
        inherited = program.dynamic.rpath if program.dynamic and not dyn.runpath else ()
        key = (name, origin, (*dyn.rpath, *dyn.runpath, *inherited))
        if key in self._found:
            return self._found[key]
        if "/" in name:
            candidates = [name if name.startswith("/") else posixpath.join(origin, name)]
        else:
            dirs: list[str] = []
            if not dyn.runpath:
                dirs += [*dyn.rpath, *inherited]
            dirs += [*self.tree.library_path, *dyn.runpath]
            if musl and program.interp:
                dirs += musl_dirs(self.tree, program.interp)
            else:
                dirs += [*self.system, *default_dirs(self.platform, requester.bits)]
            candidates = [posixpath.join(_expand(d, origin, requester.bits), name)
                          for d in dirs]
        found = None
        for candidate in candidates:
            lib = self.binary(candidate)
            if lib is not None and _compatible(lib, requester):
                found = candidate
                break
        self._found[key] = found
        return found

    def missing(self, program_path: str, program: Binary, musl: bool) -> list[str]:
        """What ``program`` needs that is not there (its own needs and its libraries')."""
        missing: list[str] = []
        todo = [(program_path, program)]
        seen: set[str] = set()
        while todo:
            path, obj = todo.pop(0)
            for name in (obj.dynamic.needed if obj.dynamic else ()):
                where = self.find(name, obj, path, program, musl)
                if where is None:
                    shown = self.tree.resolve(path) or path
                    who = "" if obj is program else f" (needed by {shown})"
                    missing.append(f"{name}{who}")
                    continue
                real = self.tree.resolve(where) or where
                if real in seen:
                    continue
                seen.add(real)
                lib = self.tree.binaries.get(real)
                if lib is not None:
                    todo.append((where, lib))
        return list(dict.fromkeys(missing))


def judge(platform: Platform, tree: Tree, allow: Iterable[str] = (),
          foreign: Iterable[str] = ()) -> Linkage:
    """Every dynamically linked program of ``tree`` judged for whether it can start;
    libraries with unmet needs counted. Not judged: where foreign code is expected
    (:func:`harness.core.answers.audit.allowed_foreign` with ``allow``), and the ``foreign`` paths
    the ELF audit found of another platform (their finding is that one)."""
    result = Linkage()
    if tree.exhausted:  # a budget spent already (the loader's files not read whole)
        result.exhausted = list(tree.exhausted)
        return result
    try:
        _judge(platform, tree, allow, foreign, result)
    except Exhausted as exc:  # what was judged stands; the rest is said to be not judged
        tree.exhausted.append(str(exc))
        result.exhausted = list(tree.exhausted)
    return result


def _judge(platform: Platform, tree: Tree, allow: Iterable[str], foreign: Iterable[str],
           result: Linkage) -> None:
    globs = audit.allowed_foreign(platform, allow)
    not_ours = set(foreign)
    system = conf_dirs(tree)
    cache = tree.config.get("/etc/ld.so.cache")
    if cache:
        paths = cache_paths(cache)
        tree.charge(len(paths))
        system = list(dict.fromkeys([*system, *(posixpath.dirname(p) for p in paths)]))
    search = _Search(tree, platform, system)
    for path, obj in sorted(tree.binaries.items()):
        if path in not_ours or any(fnmatch.fnmatchcase(path, g) for g in globs):
            continue
        if obj.program and obj.interp is None and obj.dynamic is None:
            continue  # static
        musl = bool(obj.interp and posixpath.basename(obj.interp).startswith("ld-musl-"))
        if obj.program and obj.interp is not None:
            result.programs += 1
            why = _why_not(search, path, obj, musl)
            if why:
                result.broken_count += 1
                if len(result.broken) < LISTED:
                    result.broken.append(f"{path}: {why}")
        elif not obj.program and obj.dynamic is not None and obj.dynamic.needed:
            unmet = search.missing(path, obj, musl=False)
            if unmet:
                result.libraries_unmet_count += 1
                if len(result.libraries_unmet) < LISTED:
                    result.libraries_unmet.append(f"{path}: needs {', '.join(unmet[:5])}")
        if obj.dynamic is None and obj.interp is not None:
            result.unreadable += 1


def _why_not(search: _Search, path: str, obj: Binary, musl: bool) -> str | None:
    assert obj.interp is not None
    loader = search.binary(obj.interp)
    if loader is None:
        return f"its program interpreter {obj.interp} is not in the image"
    if obj.dynamic is None:
        return None  # the loader is there; what it needs could not be read: not judged
    missing = search.missing(path, obj, musl)
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5
                                          else "")
        return f"needs {shown}, not found in the image"
    return None



DPKG_LISTS = "/var/lib/dpkg/info/"  # PACKAGE.list and PACKAGE:ARCH.list: the files it owns
UNOWNED_LISTED = 1000  # ELF files no package owns, kept in the report (the count is whole)


def is_dpkg_list(path: str) -> bool:
    return path.startswith(DPKG_LISTS) and path.endswith(".list") and "/" not in \
        path[len(DPKG_LISTS):]


def unowned(tree: Tree, lists: dict[str, bytes]) -> tuple[list[str], int] | None:
    """The ELF programs and libraries of ``tree`` that no package's file list names (the
    first UNOWNED_LISTED, and how many), or None where there is no dpkg database to ask.
    A listed path and a found one are the same file when they resolve alike: Debian's lists
    name ``/lib/…`` where a merged /usr has the file under ``/usr/lib/…``."""
    if not lists:
        return None
    owned: set[str] = set()
    try:
        for data in lists.values():
            for line in data.decode("utf-8", "replace").splitlines():
                line = line.strip()
                if line.startswith("/"):
                    owned.add(line)
                    owned.add(tree.resolve(line) or line)
        found = sorted(p for p in tree.binaries
                       if p not in owned and (tree.resolve(p) or p) not in owned)
    except Exhausted as exc:  # no list of unowned files rather than a wrong one
        tree.exhausted.append(str(exc))
        return None
    return found[:UNOWNED_LISTED], len(found)
