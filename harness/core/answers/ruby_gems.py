"""Ruby C extensions of the image, found from the audit's pass as Python's extension modules
are (harness.core.answers.extensions): every ELF ``*.so`` of a gem under a RubyGems home, where
``gem install`` and Bundler put them (``<home>/extensions/<arch>/<abi>/<name>-<version>/``,
the copy ``require`` loads, and its twin in ``<home>/gems/<name>-<version>/lib/``), named by
its gemspec (``<home>/specifications/<name>-<version>.gemspec``, else the directory's name)
and loaded by the image's ``ruby`` that reads that home. Pure.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# A gem's directory: name-version, and a platform for a precompiled gem
# (google-protobuf-3.25.0-x86_64-linux); a name may hold dashes, a version starts with a digit.
_GEM_DIR = re.compile(r"(?P<name>[A-Za-z0-9_.]+(?:-[A-Za-z_][A-Za-z0-9_.]*)*)-"
                      r"(?P<version>\d[A-Za-z0-9.]*)(?:-[A-Za-z0-9_.-]+)?")
_ABI = re.compile(r"\d+\.\d+\.\d+")
# Where a Ruby's own library is, by its ABI version (Debian's, a source build's, rbenv's).
_RUBY_LIB = re.compile(r"^(?:/usr|/usr/local|.*/versions/[^/]+)/lib/ruby/(\d+\.\d+\.\d+)/")
_SPEC_FIELD = re.compile(r"""\.(name|version)\s*=\s*["']([^"'\n]{1,200})["']""")
# The image's rubies, where images keep them: the official ruby images', Debian's.
RUBIES = ("/usr/local/bin/ruby", "/usr/bin/ruby")


@dataclass(frozen=True)
class GemFile:
    """Where a ``*.so`` is in a gem home."""

    home: str  # /var/lib/gems/3.1.0
    gem: str  # fastrb-1.0.0, the gem's directory
    root: str  # the directory its require name is under
    name: str  # fastrb, or json/ext/parser: what `require` names it by
    abi: str  # 3.1.0, the Ruby ABI it was built for ("" where the path does not say)
    extension: bool  # in extensions/ (else the gem's lib/)


def gem_file(path: str) -> GemFile | None:
    """Where ``path`` is in a gem home, or None: not a ``*.so`` of a gem's ``lib/`` nor of
    its extensions directory. A gem's ``ext/`` (its build directory, which ``make clean``
    may leave) is never loaded by ``require``, so never taken."""
    if not path.endswith(".so"):
        return None
    parts = path.split("/")
    for i in range(len(parts) - 3, 0, -1):  # the innermost home first
        if parts[i] == "extensions" and i + 4 < len(parts) and _GEM_DIR.fullmatch(parts[i + 3]):
            rel = "/".join(parts[i + 4:])
            abi = parts[i + 2] if _ABI.fullmatch(parts[i + 2]) else ""
            return GemFile("/".join(parts[:i]), parts[i + 3], "/".join(parts[:i + 4]),
                           rel[:-3], abi, True)
        if parts[i] == "gems" and parts[i + 2:i + 3] == ["lib"] and i + 3 < len(parts) \
                and _GEM_DIR.fullmatch(parts[i + 1]):
            home = "/".join(parts[:i])
            base = posixpath.basename(home)
            return GemFile(home, parts[i + 1], "/".join(parts[:i + 3]),
                           "/".join(parts[i + 3:])[:-3], base if _ABI.fullmatch(base) else "",
                           False)
    return None


def wanted(path: str) -> bool:
    """A gemspec of a gem home's ``specifications/``, whose text names the gem."""
    return path.endswith(".gemspec") and \
        posixpath.basename(posixpath.dirname(path)) == "specifications"


def spec(data: bytes) -> tuple[str, str]:
    """An installed gemspec's (name, version) (``s.name = "bcrypt".freeze``), "" where it
    does not say."""
    said: dict[str, str] = {}
    for m in _SPEC_FIELD.finditer(data.decode("utf-8", errors="replace")):
        said.setdefault(m[1], m[2])
    return said.get("name", ""), said.get("version", "")


def _dir_name_version(gem: str) -> tuple[str, str]:
    m = _GEM_DIR.fullmatch(gem)
    return (m["name"], m["version"]) if m else (gem, "")


def ruby_for(home: str, paths: set[str] | frozenset[str]) -> str | None:
    """The image's ruby that reads gems from ``home``: the one of its prefix
    (``<prefix>/lib/ruby/gems/<abi>``), else one where images keep them, /usr/local's first
    for a home under /usr/local."""
    m = re.fullmatch(r"(.*)/lib/ruby/gems/[^/]+", home)
    if m and f"{m[1]}/bin/ruby" in paths:
        return f"{m[1]}/bin/ruby"
    order = RUBIES if home.startswith("/usr/local/") else RUBIES[::-1]
    return next((r for r in order if r in paths), None)


@dataclass(frozen=True)
class Found:
    """One extension to load: its file, require name, root, ruby and gem."""

    path: str
    name: str
    root: str
    ruby: str
    gem: str
    version: str


def extensions(files: Iterable[str], specs: Mapping[str, tuple[str, str]],
               paths: set[str] | frozenset[str]) -> list[Found]:
    """The gems' extensions to load, of ``files`` (ELF ``*.so`` the audit kept: see
    :func:`gem_file`), ``specs`` (gemspec path -> its name and version) and every path of the
    image. Left out: a home with no gemspec at all (not a RubyGems home), a gem's lib/ copy
    of a file its extensions directory holds (the one require loads), a gem built for a
    Ruby ABI the image has no Ruby of, and any where the image has no ruby."""
    where = {f: g for f in sorted(set(files)) if (g := gem_file(f)) is not None}
    homes = {posixpath.dirname(posixpath.dirname(s)) for s in specs}
    abis = {m[1] for p in paths if "/lib/ruby/" in p and (m := _RUBY_LIB.match(p))}
    built = {(g.home, g.gem, g.name) for g in where.values() if g.extension}
    found = []
    for path, g in where.items():
        if g.home not in homes or (not g.extension and (g.home, g.gem, g.name) in built):
            continue
        if g.abi and abis and g.abi not in abis:
            continue
        ruby = ruby_for(g.home, paths)
        if ruby is None:
            continue
        name, version = specs.get(f"{g.home}/specifications/{g.gem}.gemspec", ("", ""))
        if not name:
            name, version = _dir_name_version(g.gem)
        found.append(Found(path, g.name, g.root, ruby, name, version))
    return found
