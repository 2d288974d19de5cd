"""Per-platform overrides: a check skipped or changed on some platforms, as cibuildwheel's
``[[tool.cibuildwheel.overrides]]`` changes options for some builds.

    [[tool.harness.overrides]]
    platforms = ["linux/arm/v7", "linux/386"]
    skip = ["check:jit-*", "cst:tests/app.yaml::JIT warm-up"]   # source names, globs allowed
    reason = "no JIT on 32-bit targets"                          # required with skip
    checks.app-version = { expect = 'myapp 1\\.\\d+ \\(no JIT\\)' }   # a declared check's fields
    service = { timeout = 120 }                                  # every service check's fields
    structure-tests = ["tests/app-32bit.yaml"]                   # these CST files instead

Every override whose platforms include a platform applies to it, in the order written (a later
one's fields win). With ``--bake``, ``target = "app"`` keeps an override to that target's
platforms (all of them where it names none). A skipped source is not run there and is
reported as ``skipped`` with the reason: a pass, so a CI gate does not block on it, but
shown in every report. Built-in sources are asked anyway (the others read their answers) and
reported as skipped. Pure: no I/O.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from harness.core.answers.observation import Observation
from harness.core.declared import service as svc
from harness.core.declared import usercheck
from harness.core.declared.structure import StructureFile
from harness.core.failures.errors import UsageError, check_known
from harness.core.outcomes import Kind
from harness.core.platforms.table import Platform, UnknownPlatform, parse_platforms

KEYS = ("platforms", "target", "skip", "reason", "checks", "service", "structure-tests")
WHERE = "[[tool.harness.overrides]]"
TARGET = re.compile(r"[a-zA-Z0-9_-]{1,200}")  # as a Bake target is named
# A table's fields as the configuration gives them, checked by the parser they go to
# (harness.core.declared.usercheck, harness.core.declared.service).
Fields = Mapping[str, object]


@dataclass(frozen=True)
class Override:
    platforms: tuple[str, ...]  # canonical platform names
    skip: tuple[str, ...] = ()  # source names or globs
    reason: str = ""
    checks: dict[str, Fields] = field(default_factory=dict)  # NAME -> fields
    service: Fields = field(default_factory=dict)  # fields of every service check
    structure: tuple[StructureFile, ...] | None = None  # these files instead of the run's
    # A Bake target's platforms only (--bake); with no platforms, every platform of it.
    target: str | None = None


def parse(tables: Any, checks: Sequence[usercheck.DeclaredCheck] = (),
          sources: Sequence[str] = (),
          read: Callable[[str], StructureFile] | None = None) -> tuple[Override, ...]:
    """The overrides of pyproject, each checked against the declared checks it changes and
    the ``sources`` of the run (a skip that matches none is a typo, named); ``read`` reads
    the structure-test files an override names."""
    if not isinstance(tables, list):
        raise UsageError(f"{WHERE} must be an array of tables",
                         "write [[tool.harness.overrides]] (two brackets)")
    files: list[tuple[StructureFile, ...] | None] = []
    for i, spec in enumerate(tables):
        names = spec.get("structure-tests") if isinstance(spec, dict) else None
        if names is None:
            files.append(None)
            continue
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise UsageError(f"{WHERE} #{i + 1}: structure-tests must be a list of files",
                             'write structure-tests = ["tests/app-arm.yaml"]')
        assert read is not None, "structure-tests need a reader"
        files.append(tuple(read(n) for n in names))
    sources = [*sources, *(s for f in files for sf in f or () for s in sf.sources)]
    found = []
    for i, spec in enumerate(tables):
        where = f"{WHERE} #{i + 1}"
        if not isinstance(spec, dict):
            raise UsageError(f"{where} is not a table", "write platforms = [...] and skip = [...]")
        check_known(spec, KEYS, where)
        target = spec.get("target")
        if target is not None and (not isinstance(target, str) or not TARGET.fullmatch(target)):
            raise UsageError(f"{where}: target must be the name of a Bake target",
                             'write target = "app"')
        names = spec.get("platforms", None if target is None else [])
        if not isinstance(names, list) or not (names or target) or \
                not all(isinstance(n, str) for n in names):
            raise UsageError(f"{where}: platforms must be a list of platform names",
                             'write platforms = ["linux/arm/v7"]')
        try:
            platforms = tuple(p.name for p in parse_platforms(names)) if names else ()
        except UnknownPlatform as exc:
            raise UsageError(f"{where}: {exc}", "use a platform name from that list") from None
        skip, reason = spec.get("skip", []), spec.get("reason", "")
        if not isinstance(skip, list) or not all(isinstance(s, str) and s for s in skip):
            raise UsageError(f"{where}: skip must be a list of source names",
                             'write skip = ["check:NAME", "cst:FILE::TEST", "service:8080/"]')
        for glob in skip:
            if sources and not fnmatch.filter(sources, glob):
                near = difflib.get_close_matches(glob, sources, n=1)
                raise UsageError(f"{where}: skip {glob!r} names no check of this run",
                                 f"did you mean {near[0]!r}?" if near else
                                 "name a source as report.json does (check:NAME, "
                                 "cst:FILE::TEST, service:PORT/PATH, or a built-in)")
        if not isinstance(reason, str) or (skip and not reason.strip()):
            raise UsageError(f"{where}: a skip needs its reason, reported with it",
                             'write reason = "why it does not apply there"')
        changed = spec.get("checks", {})
        if not isinstance(changed, dict):
            raise UsageError(f"{where}: checks must be a table of declared checks",
                             "write checks.NAME = { expect = '...' }")
        known = {c.name: c for c in checks}
        for name, fields in changed.items():
            if name not in known:
                raise UsageError(f"{where}: checks.{name} is not a declared check",
                                 f"declare it in [tool.harness.checks.{name}] first")
            _apply_check(known[name], fields, f"{where}: checks.{name}")  # checked now
        service = spec.get("service", {})
        if not isinstance(service, dict):
            raise UsageError(f"{where}: service must be a table",
                             "write service = { timeout = 120 }")
        _apply_service(svc.ServiceCheck(1), service, f"{where}: service")
        found.append(Override(platforms, tuple(skip), reason.strip(), changed, service,
                              files[i], target))
    return tuple(found)


def _apply_check(check: usercheck.DeclaredCheck, fields: Any,
                 where: str) -> usercheck.DeclaredCheck:
    if not isinstance(fields, dict):
        raise UsageError(f"{where} is not a table", "write { expect = '...' }")
    spec = {"command": list(check.command), "expect": check.expect, "status": check.status,
            "same": check.same, **({"timeout": check.timeout} if check.timeout else {}),
            **fields}
    [changed] = usercheck.parse({check.name: spec}, where=f"[{where}]")
    return changed


def _apply_service(check: svc.ServiceCheck, fields: Fields,
                   where: str) -> svc.ServiceCheck:
    spec = {"port": check.port, "path": check.path, "expect": check.expect,
            "status": check.status, "timeout": check.timeout, **fields}
    [changed] = svc.parse_table(spec, where)
    return changed


@dataclass(frozen=True)
class Applied:
    """What the overrides make of one platform's run."""

    skip: tuple[tuple[str, str], ...] = ()  # (glob, reason)
    checks: dict[str, Fields] = field(default_factory=dict)
    service: Fields = field(default_factory=dict)
    files: tuple[StructureFile, ...] | None = None  # structure tests instead of the run's

    def skipped(self, source: str) -> str | None:
        """The reason ``source`` is skipped here, or None."""
        return next((reason for glob, reason in self.skip
                     if fnmatch.fnmatchcase(source, glob)), None)

    def declared(self, checks: Sequence[usercheck.DeclaredCheck]
                 ) -> tuple[usercheck.DeclaredCheck, ...]:
        """The declared checks to run here, changed as the overrides say (skipped ones out)."""
        return tuple(_apply_check(c, self.checks[c.name], "override") if c.name in self.checks
                     else c for c in checks if self.skipped(c.source) is None)

    def services(self, checks: Sequence[svc.ServiceCheck]) -> tuple[svc.ServiceCheck, ...]:
        return tuple(_apply_service(c, self.service, "override") if self.service else c
                     for c in checks if self.skipped(c.source) is None)

    def structure(self, files: Sequence[StructureFile]) -> tuple[StructureFile, ...]:
        """The structure tests to run here: the override's files where it names some."""
        return tuple(replace(f, tests=tuple(t for t in f.tests
                                            if self.skipped(f.source(t)) is None))
                     for f in (files if self.files is None else self.files))

    def report(self, found: list[Observation], sources: Sequence[str],
               platform: Platform) -> list[Observation]:
        """``found`` with every source skipped here reported as skipped: the built-in ones
        (asked anyway) replaced, the ones never run (``sources`` of the run) added."""
        if not self.skip:
            return found
        seen = {o.source for o in found}
        return [skipped(o.source, platform, reason) if (reason := self.skipped(o.source))
                else o for o in found] + \
            [skipped(s, platform, reason) for s in sources
             if s not in seen and (reason := self.skipped(s))]


def for_platform(overrides: Sequence[Override], platform: Platform) -> Applied:
    """Every override of ``platform``, in order: skips add up, later fields win."""
    mine = [o for o in overrides if platform.name in o.platforms or not o.platforms]
    checks: dict[str, Fields] = {}
    for o in mine:
        for name, fields in o.checks.items():
            checks[name] = {**checks.get(name, {}), **fields}
    files = next((o.structure for o in reversed(mine) if o.structure is not None), None)
    return Applied(tuple((glob, o.reason) for o in mine for glob in o.skip), checks,
                   {k: v for o in mine for k, v in o.service.items()}, files)


def structure_files(run: Sequence[StructureFile], overrides: Sequence[Override]
                    ) -> tuple[StructureFile, ...]:
    """Every structure-test file of the run, the overrides' too (each once): every test
    that runs on some platform has its JUnit case."""
    found = {f.shown: f for f in run}
    for o in overrides:
        for f in o.structure or ():
            found.setdefault(f.shown, f)
    return tuple(found.values())


def skipped(source: str, platform: Platform, reason: str) -> Observation:
    """A source not run on ``platform``, by an override: reported with its reason."""
    return Observation(source, None, error=f"skipped on {platform.name}: {reason}",
                       kind=Kind.SKIPPED)
