"""Results per platform, and the report built from them: report.json's data (rendered as
text by harness.core.reporting.render, as HTML by harness.core.reporting.html_report). Pure.

``report.json`` is read by CI scripts; its fields are documented (generated from its JSON
Schema) and kept stable: add fields, never rename them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, TypedDict

from harness.core.answers import parity
from harness.core.answers.details import PackagesDetail
from harness.core.clock import epoch, stamp
from harness.core.jsondoc import JSON
from harness.core.judging import verdicts
from harness.core.outcomes import Kind, Verdict
from harness.core.platforms.table import canonical
from harness.core.platforms.unit import unit_name
from harness.core.results.finding import Finding
from harness.core.results.platform_result import Phase, PlatformResult

SCHEMA_VERSION = 1


class Host(TypedDict, total=False):
    """The chosen engine's host, as report.json's ``host`` (and each of ``hosts``)."""

    arch: str | None
    engine_version: str | None
    api_version: str | None
    buildx: str | None
    builder: str | None


@dataclass(frozen=True)
class IndexReport:
    """report.json's ``index``: what a checked registry reference resolved to, and what is
    wrong with the index (harness.distribution.check_ref makes it)."""

    ref: str
    digest: str | None = None
    media_type: str | None = None
    entries: Mapping[str, str] = field(default_factory=dict)  # platform -> manifest digest
    findings: tuple[Finding, ...] = ()
    # platform -> what its publisher attested: {"verdict": ..., "harness": version}
    attested: Mapping[str, Mapping[str, object]] = field(default_factory=dict)

    def to_json(self) -> JSON:
        return {"ref": self.ref, "digest": self.digest, "media_type": self.media_type,
                "entries": dict(self.entries), "findings": [f.to_dict() for f in self.findings],
                "attested": {p: dict(a) for p, a in self.attested.items()}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> IndexReport:
        return cls(data["ref"], data.get("digest"), data.get("media_type"),
                   dict(data.get("entries") or {}),
                   tuple(Finding(**f) for f in data.get("findings") or ()),
                   {p: dict(a) for p, a in (data.get("attested") or {}).items()})


@dataclass(frozen=True)
class RunSpan:
    """When the whole run started and ended (ISO 8601, UTC), and its id."""

    start: str
    end: str
    id: str | None = None

    def to_json(self) -> JSON:
        return {"start": self.start, "end": self.end, **({"id": self.id} if self.id else {})}


@dataclass(frozen=True)
class Report:
    """report.json, typed. :meth:`to_json` is the one place it becomes JSON, :meth:`from_json`
    the one place JSON becomes a report (``report`` merging, ``publish``, ``check``)."""

    verdict: Verdict
    exit_status: int
    quirk_policy: str
    host: Host
    platforms: tuple[PlatformResult, ...]
    index: IndexReport | None = None
    run: RunSpan | None = None
    parity: Mapping[str, Any] | None = None  # harness.core.answers.parity.compare's
    # With Bake targets: each target's platforms compared (never two targets' images).
    target_parity: Mapping[str, Mapping[str, Any]] | None = None
    hosts: Mapping[str, Host] | None = None  # merged reports: each platform's host
    schema: int = SCHEMA_VERSION

    def to_json(self) -> JSON:
        data: JSON = {
            "schema": self.schema, "verdict": str(self.verdict),
            "exit_status": self.exit_status, "quirk_policy": self.quirk_policy,
            "host": dict(self.host), "platforms": [r.to_dict() for r in self.platforms]}
        if self.index is not None:
            data["index"] = self.index.to_json()
        if self.run is not None:
            data["run"] = self.run.to_json()
        if self.parity is not None:
            data["parity"] = self.parity
        if self.target_parity is not None:
            data["target_parity"] = dict(self.target_parity)
        if self.hosts is not None:
            data["hosts"] = {p: dict(h) for p, h in self.hosts.items()}
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Report:
        """A report.json's data, already validated against its schema
        (harness.machine.reports.read_report)."""
        run, index = data.get("run"), data.get("index")
        hosts = data.get("hosts")
        return cls(
            verdict=Verdict(data["verdict"]), exit_status=int(data["exit_status"]),
            quirk_policy=data["quirk_policy"], host=_host(data.get("host")),
            platforms=tuple(PlatformResult.from_dict(e) for e in data["platforms"]),
            index=IndexReport.from_json(index) if index else None,
            run=RunSpan(run["start"], run["end"], run.get("id")) if run else None,
            parity=data.get("parity"),
            target_parity=data.get("target_parity"),
            hosts={p: _host(h) for p, h in hosts.items()} if hosts is not None else None,
            schema=int(data.get("schema", SCHEMA_VERSION)))

    def with_phases(self, spans: Mapping[str, Phase]) -> Report:
        """The report with one more phase for each unit in ``spans`` (publish's), keyed
        by the unit's name (its platform's without --bake)."""
        return replace(self, platforms=tuple(
            replace(p, phases=[*p.phases, spans[unit_name(p.target, p.platform)]])
            if unit_name(p.target, p.platform) in spans else p for p in self.platforms))


def _host(data: Mapping[str, Any] | None) -> Host:
    """report.json's ``host`` as it is (the schema leaves it open: kept whole)."""
    host: Host = dict(data or {})  # type: ignore[assignment]
    return host


class Cell(StrEnum):
    """What a source's answer on a platform comes to, in a table's cell: one decision, shown
    in each renderer's words (harness.core.reporting.render, harness.core.reporting.html_report)."""

    MISSING = "missing"  # the source said nothing on this platform
    SKIPPED = "skipped"
    NOT_APPLICABLE = "not-applicable"  # nothing to ask here: not a missing answer
    ERROR = "error"  # asking failed
    ABSENT = "absent"  # the tool is not in the image
    ANSWERED = "answered"


def cell(platform: PlatformResult, source: str) -> Cell:
    """The state of ``source``'s answer on ``platform``."""
    seen = platform.observed().get(source)
    if seen is None:
        return Cell.MISSING
    if seen.kind == "skipped":
        return Cell.SKIPPED
    if seen.kind == Kind.NOT_APPLICABLE:
        return Cell.NOT_APPLICABLE
    if seen.error:
        return Cell.ERROR
    return Cell.ABSENT if seen.raw is None else Cell.ANSWERED


def build_report(results: list[PlatformResult], host: Host, quirk_policy: str,
                 index: IndexReport | None = None,
                 run: tuple[float, float] | None = None,
                 run_id: str | None = None) -> Report:
    """The report of a run; ``index``: what a checked registry reference resolved to;
    ``run``: when the run started and ended (wall clock); ``run_id``: the run's id (the
    label of its containers)."""
    # Target by target (none without --bake), each's platforms in order.
    ordered = sorted(results, key=lambda r: (r.target or "", r.platform))
    verdicts.judge_platforms(ordered)
    # An index's findings count too, though they belong to no platform.
    verdict, status = verdicts.judge_run(
        ordered, [f.kind for f in (index.findings if index else ())], quirk_policy)
    # Parity compares a target's platforms, never two targets' images.
    by_target = {t: _parity([r for r in ordered if r.target == t])
                 for t in dict.fromkeys(r.target for r in ordered)}
    targets = {t: c for t, c in by_target.items() if t is not None and c is not None}
    return Report(
        verdict=verdict, exit_status=int(status),
        quirk_policy=quirk_policy, host=host, platforms=tuple(ordered), index=index,
        run=RunSpan(stamp(run[0]), stamp(run[1]), run_id or None) if run else None,
        parity=by_target.get(None), target_parity=targets or None)


def _parity(results: list[PlatformResult]) -> JSON | None:
    """The package databases of ``results`` (one target's platforms) compared."""
    listed = [(r.platform, seen) for r in results for o in r.observations
              if o.source == "packages" and (seen := PackagesDetail.of(o.detail)).packages]
    return parity.compare({p: seen.packages or {} for p, seen in listed},
                          {p: seen.manual for p, seen in listed})


def merge_reports(reports: list[Report], expected: Iterable[str] = ()) -> Report:
    """One report from the reports of several runs (a CI matrix's jobs, a platform each):
    the verdicts and exit status are those of one run that checked every platform. An
    ``expected`` platform with no report is `error` (its job stopped before writing one);
    a platform in two reports is a ValueError, under one name or two (``linux/arm`` and
    ``linux/arm/v7`` are one platform). Each platform's verdict is judged again from its
    findings (build_report). ``hosts`` says where each platform ran."""
    results: dict[str, PlatformResult] = {}
    given: dict[str, str] = {}
    hosts: dict[str, Host] = {}
    for report in reports:
        for entry in report.platforms:
            name = canonical(entry.platform)
            key = unit_name(entry.target, name)  # one platform of two targets is two units
            if key in results:
                names = sorted({given[key], entry.platform})
                raise ValueError(f"two reports check {key}" + (
                    f" (as {' and '.join(names)})" if len(names) > 1 else ""))
            results[key] = replace(entry, platform=name, findings=list(entry.findings),
                                   observations=list(entry.observations))
            given[key] = entry.platform
            hosts[key] = report.host
    for name in map(canonical, expected):
        if name not in results:
            results[name] = PlatformResult(name, findings=[verdicts.no_report(name)])
    policy = "fail" if any(r.quirk_policy == "fail" for r in reports) else "warn"
    runs = [r.run for r in reports if r.run]
    span = (min(epoch(r.start) for r in runs), max(epoch(r.end) for r in runs)) \
        if runs else None
    merged = build_report(list(results.values()), reports[0].host if reports else {},
                          policy, run=span)
    return replace(merged, hosts=hosts)
