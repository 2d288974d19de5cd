"""Results per platform, and the report built from them: report.json's data (rendered as
text by harness.core.render, as HTML by harness.core.html_report). Pure.

``report.json`` is read by CI scripts; its fields are documented (generated from its JSON
Schema) and kept stable: add fields, never rename them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from harness.core import parity, verdicts
from harness.core.clock import epoch, stamp
from harness.core.observation import Observation
from harness.core.outcomes import Kind, RunMode, Verdict
from harness.core.platforms import canonical
from harness.core.verdicts import Finding

SCHEMA_VERSION = 1


@dataclass
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

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass
class ImageInfo:
    """The image that was checked: a local build (tag, base) or a reference (ref, digest)."""

    id: str | None = None
    tag: str | None = None
    base: str | None = None
    ref: str | None = None
    digest: str | None = None

    def to_dict(self) -> dict[str, Any]:
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
    def from_dict(cls, data: dict[str, Any]) -> ProbeTimes:
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

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if self.label is None:
            del data["label"]
        return data


@dataclass
class EngineInfo:
    """The engine a platform was built and checked on."""

    url: str  # without credentials
    arch: str | None = None
    version: str | None = None

    def to_dict(self) -> dict[str, Any]:
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

    def to_dict(self) -> dict[str, Any]:
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
    def from_dict(cls, data: dict[str, Any]) -> PlatformResult:
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


def _observed(o: Observation) -> dict[str, Any]:
    data = o.to_dict()
    data.pop("source")
    data["fits"] = list(o.fits)
    return data


def build_report(results: list[PlatformResult], host: dict[str, Any], quirk_policy: str,
                 index: dict[str, Any] | None = None,
                 run: tuple[float, float] | None = None,
                 run_id: str | None = None) -> dict[str, Any]:
    """The report of a run; ``index``: what a checked registry reference resolved to;
    ``run``: when the run started and ended (wall clock); ``run_id``: the run's id (the
    label of its containers)."""
    ordered = sorted(results, key=lambda r: r.platform)
    verdicts.judge_platforms(ordered)
    # An index's findings count too, though they belong to no platform.
    verdict, status = verdicts.judge_run(
        ordered, [f["kind"] for f in (index or {}).get("findings", [])], quirk_policy)
    report = {
        "schema": SCHEMA_VERSION,
        "verdict": str(verdict),
        "exit_status": int(status),
        "quirk_policy": quirk_policy,
        "host": host,
        "platforms": [r.to_dict() for r in ordered],
    }
    if index is not None:
        report["index"] = index
    if run is not None:
        report["run"] = {"start": stamp(run[0]), "end": stamp(run[1]),
                         **({"id": run_id} if run_id else {})}
    listed = [(r.platform, o.detail) for r in ordered for o in r.observations
              if o.source == "packages" and o.detail.get("packages")]
    compared = parity.compare({p: d["packages"] for p, d in listed},
                              {p: d.get("manual") for p, d in listed})
    if compared is not None:
        report["parity"] = compared
    return report


def merge_reports(reports: list[dict[str, Any]], expected: Iterable[str] = ()) -> dict[str, Any]:
    """One report from the reports of several runs (a CI matrix's jobs, a platform each):
    the verdicts and exit status are those of one run that checked every platform. An
    ``expected`` platform with no report is `error` (its job stopped before writing one);
    a platform in two reports is a ValueError, under one name or two (``linux/arm`` and
    ``linux/arm/v7`` are one platform). Each platform's verdict is judged again from its
    findings (build_report). ``hosts`` says where each platform ran."""
    results: dict[str, PlatformResult] = {}
    given: dict[str, str] = {}
    hosts: dict[str, Any] = {}
    for report in reports:
        for entry in report.get("platforms", []):
            name = canonical(entry["platform"])
            if name in results:
                names = sorted({given[name], entry["platform"]})
                raise ValueError(f"two reports check {name}" + (
                    f" (as {' and '.join(names)})" if len(names) > 1 else ""))
            results[name] = PlatformResult.from_dict({**entry, "platform": name})
            given[name] = entry["platform"]
            hosts[name] = report.get("host", {})
    for name in map(canonical, expected):
        if name not in results:
            results[name] = PlatformResult(name, findings=[verdicts.no_report(name)])
    policy = "fail" if any(r.get("quirk_policy") == "fail" for r in reports) else "warn"
    runs = [r["run"] for r in reports if r.get("run")]
    span = (min(epoch(r["start"]) for r in runs), max(epoch(r["end"]) for r in runs)) \
        if runs else None
    merged = build_report(list(results.values()), reports[0].get("host", {}) if reports
                          else {}, policy, run=span)
    merged["hosts"] = hosts
    return merged
