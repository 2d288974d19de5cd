"""Platforms compared with each other: the package database of each image, side by side.

Each platform is checked against its own name; this is the one place they are compared.
One platform shipping another release of a package than the others (a stale cache, a
mirror mid-sync, a pinned version that exists on one architecture only) passes every
per-platform check. The parity section of every report lists the packages that are not on
every platform, and those whose versions differ. It is a warning: it never changes a
verdict. Debian's binNMU suffix (``+b1``: a rebuild on some architectures only) and
architecture qualifiers (``:amd64``) are not differences. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

LISTED = 100  # differences kept in the report (the counts are whole)
_BINNMU = re.compile(r"\+b\d+$")


def comparable(version: str) -> str:
    return _BINNMU.sub("", version)


def compare(packages: Mapping[str, Mapping[str, str]]) -> dict[str, Any] | None:
    """``packages``: platform -> {package: version}. None with fewer than two platforms to
    compare; else the differences (report.json's ``parity``)."""
    if len(packages) < 2:
        return None
    platforms = sorted(packages)
    names = sorted({n.split(":")[0] for p in platforms for n in packages[p]})
    by = {p: {n.split(":")[0]: v for n, v in packages[p].items()} for p in platforms}
    missing: list[dict[str, Any]] = []
    versions: list[dict[str, Any]] = []
    for name in names:
        seen = {p: by[p].get(name) for p in platforms}
        if any(v is None for v in seen.values()):
            missing.append({"package": name, "on": [p for p in platforms if seen[p]]})
        elif len({comparable(v) for v in seen.values() if v is not None}) > 1:
            versions.append({"package": name, "versions": seen})
    return {"platforms": platforms, "packages": len(names),
            "missing_count": len(missing), "missing": missing[:LISTED],
            "versions_count": len(versions), "versions": versions[:LISTED]}


def summary(parity: Mapping[str, Any]) -> str:
    if not parity["missing_count"] and not parity["versions_count"]:
        return (f"the {parity['packages']} packages are on every platform, in the same "
                "versions")
    return (f"{parity['versions_count']} packages differ in version and "
            f"{parity['missing_count']} are not on every platform, of {parity['packages']}")


def lines(parity: Mapping[str, Any], limit: int = 20) -> list[str]:
    """The differences, one a line (the renderers escape them for their sinks)."""
    found = []
    for entry in parity["versions"][:limit]:
        found.append(f"{entry['package']}: " + ", ".join(
            f"{p} {v}" for p, v in entry["versions"].items()))
    for entry in parity["missing"][:max(limit - len(found), 0)]:
        found.append(f"{entry['package']}: only on {', '.join(entry['on'])}")
    return found


def parse(manager: str, output: str) -> dict[str, str]:
    """A package database's listing as {package: version}: ``dpkg-query -W`` and ``rpm -qa``
    (tab-separated NAME, VERSION and ARCH, as probed), or ``apk info -v`` (NAME-VERSION-rN)."""
    return {name: version for name, (version, _arch) in _listed(manager, output).items()}


def architectures(manager: str, output: str) -> dict[str, str]:
    """{package: architecture} of the same listing, where it names one (not apk's)."""
    return {name: arch for name, (_version, arch) in _listed(manager, output).items() if arch}


def _listed(manager: str, output: str) -> dict[str, tuple[str, str]]:
    found: dict[str, tuple[str, str]] = {}
    for line in output.splitlines()[:20_000]:
        line = line.strip()
        if not line:
            continue
        if manager == "apk":
            m = re.fullmatch(r"(.+?)-(\d[^-]*-r\d+)", line)
            if m:
                found[m[1]] = (m[2], "")
            continue
        name, tab, rest = line.partition("\t")
        version, _, arch = rest.partition("\t")
        if tab and name:
            found[name] = (version, arch.strip())
    return found
