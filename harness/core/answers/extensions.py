"""Native modules, found with no configuration and loaded where the image runs (the
``native-modules`` source).

A Python wheel's extension module says nothing of the CPU it needs: most of PyPI's carry no
x86-64 ISA note, so the CPU-level audit reads them as baseline, and the baseline-CPU run asks
only the image's commands. Loading each module is what shows it. From the audit's one pass
over the image's files this finds every ELF ``*.so`` under a ``site-packages`` or
``dist-packages`` of any Python of the image (venvs included), its import name, the
distribution and version that installed it (``*.dist-info/RECORD``, else ``top_level.txt``)
and the interpreter that imports it (the venv's ``bin/python``, else the image's
``pythonX.Y``). Node addons (ELF ``*.node`` under any ``node_modules``, named by the
nearest package.json) are found the same way, for the image's ``node``. The probes load them
(harness.core.answers.module_loaders: the loader scripts, and what they said read back), and the
source's findings are judged from their loads (harness.core.answers.module_notes).
"""

from __future__ import annotations

import csv
import json
import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from harness.core.answers import elf, ruby_gems

SITE_DIRS = ("site-packages", "dist-packages")
TEXT_LIMIT = 4 << 20  # bytes of a RECORD or top_level.txt read (a big wheel's is ~1 MiB)
TEXT_BUDGET = 64 << 20  # bytes of them all read of one image (past it, names may be missing)
MODES = ("auto", "off")  # the native-modules option

_SITE = re.compile(r"^(?P<prefix>.*?)/(?:lib|lib64)/python(?P<version>\d+(?:\.\d+)?)/"
                   r"(?:site|dist)-packages$")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Module:
    """One extension module of the image and the interpreter that imports it."""

    path: str  # /opt/venv/lib/python3.11/site-packages/foo/_speed.cpython-311-x86_64-linux-gnu.so
    name: str  # foo._speed
    root: str  # the site-packages directory it is under
    python: str  # /opt/venv/bin/python
    distribution: str = ""  # foo ("" where no dist-info or egg-info names it)
    version: str = ""
    kind: str = "python"  # or "node" (``python`` the image's node), "ruby" (its ruby)
    foreign: str = ""  # why the ELF audit found its file not of the platform ("": it is)

    @property
    def package(self) -> str:
        """``foo 1.2.3``, as a finding names it."""
        return " ".join(x for x in (self.distribution, self.version) if x) or "no distribution"


def site_root(path: str) -> str | None:
    """The ``site-packages``/``dist-packages`` directory ``path`` is under (the innermost)."""
    parts = path.split("/")
    for i in range(len(parts) - 2, 0, -1):
        if parts[i] in SITE_DIRS:
            return "/".join(parts[:i + 1])
    return None


def import_name(path: str, root: str) -> str | None:
    """The dotted name ``path`` is imported by from ``root``, or None where no import can
    name it (a library in ``numpy.libs/``, ``libfoo-1.2.so``): the file name up to its first
    dot (``foo.cpython-311-x86_64-linux-gnu.so``, ``foo.abi3.so``, ``foo.so``), after its
    directories."""
    if not path.endswith(".so") or not path.startswith(root + "/"):
        return None
    *dirs, filename = path[len(root) + 1:].split("/")
    parts = [*dirs, filename.partition(".")[0]]
    if not all(_IDENTIFIER.fullmatch(p) for p in parts):
        return None
    return ".".join(parts)


def node_root(path: str) -> str | None:
    """The ``node_modules`` directory ``path`` is under (the innermost)."""
    head, sep, _ = path.rpartition("/node_modules/")
    return head + "/node_modules" if sep else None


def wanted(path: str) -> bool:
    """Whether the audit keeps this file's text for :class:`Finder`: a distribution's RECORD
    or top_level.txt under a site directory, a package.json under a node_modules, a gemspec
    of a gem home (harness.core.answers.ruby_gems)."""
    name = posixpath.basename(path)
    if ruby_gems.wanted(path):
        return True
    if name == "package.json":
        return node_root(path) is not None
    if name not in ("RECORD", "top_level.txt"):
        return False
    parent = posixpath.basename(posixpath.dirname(path))
    return parent.endswith((".dist-info", ".egg-info")) and site_root(path) is not None


def _name_version(directory: str) -> tuple[str, str]:
    """(name, version) of ``foo-1.2.dist-info`` or ``foo-1.2-py3.11.egg-info``."""
    stem = directory.rsplit(".", 1)[0]
    name, _, rest = stem.partition("-")
    return name, rest.partition("-")[0]


@dataclass
class Finder:
    """The extension modules of one image, from the audit's pass over its files."""

    elves: list[str] = field(default_factory=list)  # ELF shared objects under a site dir
    owners: dict[str, tuple[str, str]] = field(default_factory=dict)  # path -> (name, version)
    tops: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)  # (root, top)
    addons: list[str] = field(default_factory=list)  # ELF *.node under a node_modules
    packages: dict[str, tuple[str, str]] = field(default_factory=dict)  # dir -> (name, version)
    gems: list[str] = field(default_factory=list)  # ELF *.so of a gem (ruby_gems.gem_file)
    specs: dict[str, tuple[str, str]] = field(default_factory=dict)  # gemspec -> its gem

    def elf(self, path: str, head: bytes) -> None:
        """A file's first bytes, as the audit reads them: kept if an ELF ``*.so`` under a
        site directory, an ELF ``*.node`` under a node_modules, or an ELF ``*.so`` of a gem."""
        if path.endswith(".so") and site_root(path) is not None:
            found = self.elves
        elif path.endswith(".node") and node_root(path) is not None:
            found = self.addons
        elif ruby_gems.gem_file(path) is not None:
            found = self.gems
        else:
            return
        try:
            elf.parse_header(head)
        except elf.NotElf:
            return
        if elf.file_type(head) == elf.ET_DYN:
            found.append(path)

    def text(self, path: str, data: bytes) -> None:
        """A RECORD's, top_level.txt's, package.json's or gemspec's text (see :func:`wanted`)."""
        if ruby_gems.wanted(path):
            self.specs[path] = ruby_gems.spec(data)
            return
        if posixpath.basename(path) == "package.json":
            self.packages[posixpath.dirname(path)] = _package(data)
            return
        root = site_root(path)
        if root is None:
            return
        owner = _name_version(posixpath.basename(posixpath.dirname(path)))
        lines = data.decode("utf-8", errors="replace").splitlines()
        if posixpath.basename(path) == "top_level.txt":
            for top in lines:
                if top.strip():
                    self.tops.setdefault((root, top.strip()), owner)
            return
        for row in csv.reader(lines):
            if row and row[0].endswith(".so"):
                where = posixpath.normpath(posixpath.join(root, row[0]))
                self.owners.setdefault(where, owner)

    def modules(self, paths: set[str] | frozenset[str],
                foreign: Mapping[str, str] | None = None) -> list[Module]:
        """Every importable extension module found, with the interpreter that imports it
        (``paths``: every path of the image, to find the interpreters); modules with no
        interpreter in the image are left out (nothing there can import them).
        ``foreign``: the audit's files of another platform, and what each is."""
        foreign = foreign or {}
        found = []
        for path in sorted(set(self.elves)):
            root = site_root(path)
            assert root is not None
            name = import_name(path, root)
            python = interpreter(root, paths)
            if name is None or python is None:
                continue
            dist, version = self.owners.get(path) or self.tops.get(
                (root, name.partition(".")[0])) or ("", "")
            found.append(Module(path, name, root, python, dist, version,
                                foreign=foreign.get(path, "")))
        node = next((p for p in NODES if p in paths), None)
        for path in sorted(set(self.addons)) if node else ():
            root = node_root(path)
            assert root is not None and node is not None
            dist, version = self._owner(path, root)
            found.append(Module(path, path[len(root) + 1:], root, node, dist, version, "node",
                                foreign.get(path, "")))
        for g in ruby_gems.extensions(self.gems, self.specs, paths):
            found.append(Module(g.path, g.name, g.root, g.ruby, g.gem, g.version, "ruby",
                                foreign.get(g.path, "")))
        return found

    def _owner(self, path: str, root: str) -> tuple[str, str]:
        """The nearest package.json's (name, version) above ``path``, within ``root``."""
        where = posixpath.dirname(path)
        while where.startswith(root + "/"):
            if where in self.packages and self.packages[where][0]:
                return self.packages[where]
            where = posixpath.dirname(where)
        return "", ""


# Where images keep node: the official node images, Debian's nodejs (and its old name).
NODES = ("/usr/local/bin/node", "/usr/bin/node", "/usr/bin/nodejs")


def _package(data: bytes) -> tuple[str, str]:
    """A package.json's (name, version), "" where it has none (or is no JSON object)."""
    try:
        said = json.loads(data.decode("utf-8", errors="replace"))
    except ValueError:
        return "", ""
    if not isinstance(said, dict):
        return "", ""
    name, version = said.get("name"), said.get("version")
    return (name if isinstance(name, str) else "")[:200], \
        (version if isinstance(version, str) else "")[:100]


def interpreter(root: str, paths: set[str] | frozenset[str]) -> str | None:
    """The image's Python that imports from the site directory ``root``: the venv's own
    (``pyvenv.cfg`` at its root), else the ``pythonX.Y`` of its prefix or of the image."""
    m = _SITE.match(root)
    if m is None:
        return None
    prefix, version = m["prefix"], m["version"]
    if f"{prefix}/pyvenv.cfg" in paths:  # a venv's python is of its lib/pythonX.Y
        names, dirs = [f"python{version}", "python3", "python"], [f"{prefix}/bin"]
    else:  # Debian's python3 reads /usr/local/lib/python3.X/dist-packages too
        names = [f"python{version}"]
        dirs = list(dict.fromkeys([f"{prefix}/bin", "/usr/local/bin", "/usr/bin"]))
    return next((f"{d}/{n}" for n in names for d in dirs if f"{d}/{n}" in paths), None)


def by_interpreter(modules: Iterable[Module], skip: Iterable[str] = ()) -> dict[str, list[Module]]:
    """The modules each interpreter imports, those named in ``skip`` (a dotted name, a
    package's prefix of it, or a distribution) left out."""
    skipped = tuple(skip)
    batches: dict[str, list[Module]] = {}
    for m in modules:
        if any(m.name == s or m.name.startswith(s + ".") or m.distribution == s
               for s in skipped):
            continue
        batches.setdefault(m.python, []).append(m)
    return batches

