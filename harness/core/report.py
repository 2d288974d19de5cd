"""Results per platform, and the report built from them: report.json's data (rendered as
text by harness.core.render, as HTML by harness.core.html_report). Pure.

``report.json`` is read by CI scripts; its fields are documented (generated from its JSON
Schema) and kept stable: add fields, never rename them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Any, TypedDict

from harness.core import parity, verdicts
from harness.core.clock import epoch, stamp
from harness.core.observation import Observation
from harness.core.outcomes import Kind, RunMode, Verdict
from harness.core.platforms import canonical
from harness.core.verdicts import Finding

SCHEMA_VERSION = 1
# A JSON object as report.json holds it: only where the typed report meets JSON (to_json,
# to_dict: written; from_json, from_dict: read back).
JSON = dict[str, Any]


@dataclass(frozen=True)
class BuildInfo:
    """How the platform's image was made (or pulled, for --ref)."""

    ok: bool
    builder: str | None = None  # buildx, classic, pull
    seconds: float | None = None
    log: str | None = None
    # FROM image -> the harness's base of the platform that served it (named build contexts)
    bases: dict[str, str] | None = None
    # What was built, for the provenance publish attests (harness.core.attest): the
    # Dockerfile as given, its SHA-256, and the build arguments as passed (BASE_IMAGE too).
    dockerfile: str | None = None
    dockerfile_sha256: str | None = None
    build_args: dict[str, str] | None = None

    def to_dict(self) -> JSON:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True)
class ImageInfo:
    """The image that was checked: a local build (tag, base) or a reference (ref, digest)."""

    id: str | None = None
    tag: str | None = None
    base: str | None = None
    ref: str | None = None
    digest: str | None = None

    def to_dict(self) -> JSON:
        if self.ref is not None:
            return {"ref": self.ref, "id": self.id, "digest": self.digest}
        return {"tag": self.tag, "id": self.id, "base": self.base}


@dataclass(frozen=True)
class ProbeTimes:
    """How long a platform's checks took: the probes (without what follows), the hello
    world's compile and the ELF audit. report.json keeps them as three fields."""

    probe: float | None = None
    hello: float | None = None
    audit: float | None = None

    @property
    def total(self) -> float:
        return sum(x or 0.0 for x in (self.probe, self.hello, self.audit))

    def to_dict(self) -> dict[str, float | None]:
        return {"probe_seconds": self.probe, "hello_seconds": self.hello,
                "audit_seconds": self.audit}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProbeTimes:
        return cls(data.get("probe_seconds"), data.get("hello_seconds"),
                   data.get("audit_seconds"))


@dataclass(frozen=True)
class Phase:
    """A span of a platform's time on the run's clock: ``queue`` (waiting for a build slot,
    with --builds), ``base``, ``pull``, ``build``, ``step`` (one step of the build as the
    builder names it, in ``label``), ``cached`` (a step taken from the build cache),
    ``cache`` (the build cache written, with --cache), ``wait`` (built, waiting for a probe
    slot), ``probe``, ``hello``, ``audit`` (the last two within the probe)."""

    name: str
    start: str  # ISO 8601, UTC (see stamp)
    end: str
    label: str | None = None

    @classmethod
    def between(cls, name: str, start: float, end: float, label: str | None = None) -> Phase:
        return cls(name, stamp(start), stamp(end), label)

    def to_dict(self) -> JSON:
        data = asdict(self)
        if self.label is None:
            del data["label"]
        return data


@dataclass(frozen=True)
class EngineInfo:
    """The engine a platform was built and checked on."""

    url: str  # without credentials
    arch: str | None = None
    version: str | None = None

    def to_dict(self) -> JSON:
        return asdict(self)


@dataclass
class PlatformResult:
    """Everything known of one platform, typed; :meth:`to_dict` is report.json's entry and
    what an xdist worker hands to the controller, :meth:`from_dict` reads it back."""

    platform: str
    verdict: Verdict = Verdict.ERROR
    findings: list[Finding] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)
    image: ImageInfo | None = None
    build: BuildInfo | None = None
    run: RunMode | None = None
    times: ProbeTimes = field(default_factory=ProbeTimes)
    probe_log: str | None = None
    engine: EngineInfo | None = None
    phases: list[Phase] = field(default_factory=list)

    def to_dict(self) -> JSON:
        return {
            "platform": self.platform,
            "verdict": str(self.verdict),
            "findings": [f.to_dict() for f in self.findings],
            "observed": {o.source: _observed(o) for o in self.observations},
            "image": self.image.to_dict() if self.image else {},
            "build": self.build.to_dict() if self.build else {},
            "run": self.run.to_dict() if self.run else {},
            **self.times.to_dict(),
            "probe_log": self.probe_log,
            "engine": self.engine.to_dict() if self.engine else None,
            "phases": [p.to_dict() for p in self.phases],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PlatformResult:
        return cls(
            platform=data["platform"],
            verdict=Verdict(data.get("verdict", Verdict.ERROR)),
            findings=[Finding(**f) for f in data.get("findings", [])],
            observations=[Observation.from_dict({**o, "source": source})
                          for source, o in (data.get("observed") or {}).items()],
            image=ImageInfo(**data["image"]) if data.get("image") else None,
            build=BuildInfo(**data["build"]) if data.get("build") else None,
            run=RunMode(**data["run"]) if data.get("run") else None,
            times=ProbeTimes.from_dict(data),
            probe_log=data.get("probe_log"),
            engine=EngineInfo(**data["engine"]) if data.get("engine") else None,
            phases=[Phase(**p) for p in data.get("phases", [])],
        )

    def observed(self) -> dict[str, Observation]:
        """Each source's answer, by source (report.json's ``observed``: the last of a
        source's answers, in the order the sources first answered)."""
        return {o.source: o for o in self.observations}

    def kept(self) -> bool:
        """Whether the answers were read back from an earlier run of the same image on the
        same machine (harness.machine.kept), not asked in this run."""
        config = self.observed().get("config")
        return config is not None and config.detail.get("read") == "kept"

    @property
    def seconds(self) -> float:
        """Build, probes and hello world: what scheduling expects this platform to take."""
        return ((self.build.seconds if self.build else None) or 0.0) + self.times.total

    def kinds(self) -> list[Kind]:
        """The kinds that decide the exit status; a verdict with no finding counts as its own."""
        kinds = [f.kind for f in self.findings]
        if self.verdict != Verdict.PASS and not any(k.verdict == self.verdict for k in kinds):
            kinds.append({Verdict.FAIL: Kind.BUILD,
                          Verdict.QUIRK: Kind.QUIRK}.get(self.verdict, Kind.ERROR))
        return kinds


def _observed(o: Observation) -> JSON:
    data = o.to_dict()
    data.pop("source")
    data["fits"] = list(o.fits)
    return data


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
    parity: Mapping[str, Any] | None = None  # harness.core.parity.compare's
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
            hosts={p: _host(h) for p, h in hosts.items()} if hosts is not None else None,
            schema=int(data.get("schema", SCHEMA_VERSION)))

    def with_phases(self, spans: Mapping[str, Phase]) -> Report:
        """The report with one more phase for each platform in ``spans`` (publish's)."""
        return replace(self, platforms=tuple(
            replace(p, phases=[*p.phases, spans[p.platform]]) if p.platform in spans else p
            for p in self.platforms))


def _host(data: Mapping[str, Any] | None) -> Host:
    """report.json's ``host`` as it is (the schema leaves it open: kept whole)."""
    host: Host = dict(data or {})  # type: ignore[assignment]
    return host


class Cell(StrEnum):
    """What a source's answer on a platform comes to, in a table's cell: one decision, shown
    in each renderer's words (harness.core.render, harness.core.html_report)."""

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
    ordered = sorted(results, key=lambda r: r.platform)
    verdicts.judge_platforms(ordered)
    # An index's findings count too, though they belong to no platform.
    verdict, status = verdicts.judge_run(
        ordered, [f.kind for f in (index.findings if index else ())], quirk_policy)
    listed = [(r.platform, o.detail) for r in ordered for o in r.observations
              if o.source == "packages" and o.detail.get("packages")]
    return Report(
        verdict=verdict, exit_status=int(status),
        quirk_policy=quirk_policy, host=host, platforms=tuple(ordered), index=index,
        run=RunSpan(stamp(run[0]), stamp(run[1]), run_id or None) if run else None,
        parity=parity.compare({p: d["packages"] for p, d in listed},
                              {p: d.get("manual") for p, d in listed}))


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
            if name in results:
                names = sorted({given[name], entry.platform})
                raise ValueError(f"two reports check {name}" + (
                    f" (as {' and '.join(names)})" if len(names) > 1 else ""))
            results[name] = replace(entry, platform=name, findings=list(entry.findings),
                                    observations=list(entry.observations))
            given[name] = entry.platform
            hosts[name] = report.host
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
