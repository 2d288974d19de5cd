"""Platforms compared with each other: the package database of each image, side by side.

Each platform is checked against its own name; this is the one place they are compared.
One platform shipping another release of a package than the others (a stale cache, a
mirror mid-sync, a pinned version that exists on one architecture only) passes every
per-platform check. The parity section of every report lists the packages that are not on
every platform, and those whose versions differ. It is a warning: it never changes a
verdict. Debian's binNMU suffix (``+b1``: a rebuild on some architectures only) and
architecture qualifiers (``:amd64``) are not differences.

What counts is what the user asked for: a package installed by hand (apt's marks: every
package not ``Auto-Installed: 1`` in /var/lib/apt/extended_states; apk's /etc/apk/world;
every package dnf 4's history, /var/lib/dnf/history.sqlite, does not resolve as pulled in)
that is not on every platform. One that only came in as a dependency on some platforms is
the distribution's own per-architecture package (binutils named by target triple, sanitizer
libraries of some architectures only): it is kept in ``dependencies``, not counted. Where an
image has no marks (apt never ran there, rpm without dnf 4's history) all its packages
count, and the summary says so. A package on every platform in another version counts
whatever its mark: no architecture explains that. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from harness.core.jsondoc import JSON

LISTED = 100  # differences kept in the report (the counts are whole)
MARKS_LINES = 200_000  # lines of a marks file read (a listing is read to 20,000 packages)
_BINNMU = re.compile(r"\+b\d+$")


def comparable(version: str) -> str:
    return _BINNMU.sub("", version)


def compare(packages: Mapping[str, Mapping[str, str]],
            manual: Mapping[str, Collection[str] | None] | None = None
            ) -> JSON | None:
    """``packages``: platform -> {package: version}; ``manual``: platform -> the packages
    installed by hand there, or None where the image has no such marks (a platform not in
    ``manual`` has none). None with fewer than two platforms to compare; else the
    differences (report.json's ``parity``)."""
    if len(packages) < 2:
        return None
    platforms = sorted(packages)
    names = sorted({n.split(":")[0] for p in platforms for n in packages[p]})
    by = {p: {n.split(":")[0]: v for n, v in packages[p].items()} for p in platforms}
    marks = {p: None if (manual or {}).get(p) is None
             else {n.split(":")[0] for n in (manual or {})[p] or ()} for p in platforms}
    unmarked = [p for p in platforms if marks[p] is None]

    def asked(platform: str, name: str) -> bool:
        """Whether the user asked for ``name`` on ``platform`` (all of an unmarked one)."""
        marked = marks[platform]
        return name in by[platform] and (marked is None or name in marked)

    missing: list[JSON] = []
    dependencies: list[JSON] = []
    versions: list[JSON] = []
    for name in names:
        seen = {p: by[p].get(name) for p in platforms}
        if any(v is None for v in seen.values()):
            entry = {"package": name, "on": [p for p in platforms if seen[p]]}
            (missing if any(asked(p, name) for p in platforms) else dependencies).append(entry)
        elif len({comparable(v) for v in seen.values() if v is not None}) > 1:
            versions.append({"package": name, "versions": seen})
    return {"platforms": platforms, "packages": len(names),
            "manual_count": len({n for p in platforms for n in by[p] if asked(p, n)}),
            "unmarked": unmarked,
            "missing_count": len(missing), "missing": missing[:LISTED],
            "versions_count": len(versions), "versions": versions[:LISTED],
            "dependencies_count": len(dependencies), "dependencies": dependencies[:LISTED]}


def summary(parity: Mapping[str, Any]) -> str:
    """One sentence: the differences that count, and where the marks were missing."""
    unmarked = parity.get("unmarked")
    if unmarked is None:  # a report of before the marks were read: everything compared
        unmarked = parity["platforms"]
    full = (f" (compared in full on {', '.join(unmarked)}: no marks of what was installed "
            "by hand there)") if unmarked else ""
    deps = parity.get("dependencies_count", 0)
    pulled = (f"; {deps} packages pulled in as dependencies are on some platforms only: the "
              "distribution's own per-architecture packages, listed apart") if deps else ""
    missing, differ = parity["missing_count"], parity["versions_count"]
    if not missing and not differ:
        asked = "installed by hand " if len(unmarked) < len(parity["platforms"]) else ""
        count = parity.get("manual_count", parity["packages"]) if asked else parity["packages"]
        return (f"no difference: the {count} packages {asked}are on every platform, in the "
                f"same versions{full}{pulled}")
    where = "installed by hand " if len(unmarked) < len(parity["platforms"]) else ""
    verb = "is" if missing == 1 else "are"
    return (f"{differ} packages differ in version and {missing} {where}{verb} not on every "
            f"platform, of {parity['packages']}{full}{pulled}")


def lines(parity: Mapping[str, Any], limit: int = 20) -> list[str]:
    """The differences that count, one a line (the renderers escape them for their sinks)."""
    found = []
    for entry in parity["versions"][:limit]:
        found.append(f"{entry['package']}: " + ", ".join(
            f"{p} {v}" for p, v in entry["versions"].items()))
    for entry in parity["missing"][:max(limit - len(found), 0)]:
        found.append(f"{entry['package']}: only on {', '.join(entry['on'])}")
    return found


def dependency_lines(parity: Mapping[str, Any], limit: int = 20) -> list[str]:
    """The packages pulled in as dependencies on some platforms only, one a line."""
    return [f"{e['package']}: only on {', '.join(e['on'])}"
            for e in (parity.get("dependencies") or [])[:limit]]


def manual(manager: str, packages: Mapping[str, str], marks: str | None) -> list[str] | None:
    """The packages installed by hand, from the userland's marks file as read (``marks``;
    None where the image has none: the caller compares everything): dpkg's are those apt's
    extended_states does not mark ``Auto-Installed: 1``; apk's are named in its world file;
    rpm's are those dnf 4's history does not resolve as pulled in (:func:`_dnf_auto`).
    None for a manager with no marks read."""
    if marks is None:
        return None
    if manager == "dpkg":
        auto = _auto_installed(marks)
        return sorted(n for n in packages if n.split(":")[0] not in auto)
    if manager == "apk":
        world = _world(marks)
        return sorted(n for n in packages if n in world)
    if manager == "rpm":
        auto = _dnf_auto(marks)
        return sorted(n for n in packages if n not in auto)
    return None


def _auto_installed(text: str) -> set[str]:
    """The packages apt's extended_states marks ``Auto-Installed: 1`` (deb822 stanzas)."""
    auto: set[str] = set()
    name, flag = "", ""
    for line in [*text.splitlines()[:MARKS_LINES], ""]:
        key, _, value = line.partition(":")
        if not line.strip():
            if name and flag == "1":
                auto.add(name)
            name, flag = "", ""
        elif key.strip() == "Package":
            name = value.strip()
        elif key.strip() == "Auto-Installed":
            flag = value.strip()
    return auto


# dnf 4's history (libdnf's TransactionItemAction and TransactionItemReason): the actions
# that take a package out (downgraded, obsoleted, upgraded, reinstalled) say nothing of the
# one installed; a removal leaves its reason unknown.
_DNF_OUT = frozenset({3, 5, 7, 10})
_DNF_REMOVE = 8
_DNF_PULLED = frozenset({1, 3, 4, 5})  # dependency, clean, weak dependency, group
_DNF_DONE = 1  # a transaction's state


def _dnf_auto(text: str) -> set[str]:
    """The packages dnf 4's history resolves as not asked for by hand (a dependency, a weak
    one, a group's, one kept for cleaning), as dnf's own ``user_installed`` does: each
    (name, arch)'s reason is that of its latest item in a finished transaction, an outgoing
    action aside; a package no history names, or whose latest item removed it, counts as
    asked for (rpm installed it). ``text``: the history's rows, one a line, tab-separated
    name, arch, transaction id, item id, action, reason and the transaction's state (as
    harness.containers.dnf_history reads them from the image's history.sqlite)."""
    latest: dict[tuple[str, str], tuple[int, int, int, int]] = {}
    for line in text.splitlines()[:MARKS_LINES]:
        fields = line.split("\t")
        if len(fields) != 7:
            continue
        name, arch, *numbers = fields
        try:
            trans, item, action, reason, state = (int(n) for n in numbers)
        except ValueError:
            continue
        if action in _DNF_OUT or state != _DNF_DONE:  # an unfinished transaction: not done
            continue
        if (trans, item) > latest.get((name, arch), (-1, -1, 0, 0))[:2]:
            latest[(name, arch)] = (trans, item, action, reason)
    by_name: dict[str, set[bool]] = {}
    for (name, _arch), (_t, _i, action, reason) in latest.items():
        if action != _DNF_REMOVE:  # a removed arch is not what is installed
            by_name.setdefault(name, set()).add(reason not in _DNF_PULLED)
    return {name for name, asked in by_name.items() if True not in asked}


def _world(text: str) -> set[str]:
    """The names /etc/apk/world asks for: ``name``, ``name>=1.2``, ``name@tag``; a ``!name``
    is a conflict, not a wish."""
    found = set()
    for word in text.split()[:MARKS_LINES]:
        name = re.split(r"[<>=~@]", word, maxsplit=1)[0]
        if name and not name.startswith("!"):
            found.add(name)
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
