"""Everything known of one platform, typed: how its image was made, what each source
answered, its findings and verdict, its timings and phases. :meth:`PlatformResult.to_dict` is
report.json's platform entry and what an xdist worker hands to the controller;
:meth:`PlatformResult.from_dict` reads it back. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from harness.core.answers.details import Timing
from harness.core.answers.observation import Observation
from harness.core.clock import stamp
from harness.core.jsondoc import JSON
from harness.core.outcomes import Kind, RunMode, Verdict
from harness.core.platforms.engine_kind import EngineKind, kind_name, kind_named
from harness.core.platforms.unit import unit_name
from harness.core.results.finding import Finding

# A JSON object as report.json holds it: only where the typed report meets JSON (to_json,
# to_dict: written; from_json, from_dict: read back).


@dataclass(frozen=True)
class BuildInfo:
    """How the platform's image was made (or pulled, for --ref)."""

    ok: bool
    builder: str | None = None  # buildx, classic, pull
    seconds: float | None = None
    log: str | None = None
    # FROM image -> the harness's base of the platform that served it (named build contexts)
    bases: dict[str, str] | None = None
    # What was built, for the provenance publish attests (harness.core.judging.attest): the
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
    kind: EngineKind = EngineKind.DOCKER  # Docker's engine or Podman's compatible service

    def to_dict(self) -> JSON:
        return {**asdict(self), "kind": kind_name(self.kind)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> EngineInfo:
        # A report written before the kind was recorded was Docker's.
        return cls(**{**data, "kind": kind_named(data.get("kind") or kind_name(
            EngineKind.DOCKER))})


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
    target: str | None = None  # the Bake target it is a platform of (--bake); None: no target

    @property
    def unit(self) -> str:
        """The unit's name (harness.core.platforms.unit): ``app-linux/arm64``, or the
        platform's without a target; what results are kept under."""
        return unit_name(self.target, self.platform)

    def to_dict(self) -> JSON:
        return {
            **({"target": self.target} if self.target is not None else {}),
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
            engine=EngineInfo.from_dict(data["engine"]) if data.get("engine") else None,
            phases=[Phase(**p) for p in data.get("phases", [])],
            target=data.get("target"),
        )

    def observed(self) -> dict[str, Observation]:
        """Each source's answer, by source (report.json's ``observed``: the last of a
        source's answers, in the order the sources first answered)."""
        return {o.source: o for o in self.observations}

    def kept(self) -> bool:
        """Whether the answers were read back from an earlier run of the same image on the
        same machine (harness.machine.kept), not asked in this run."""
        config = self.observed().get("config")
        return config is not None and Timing.of(config.detail).read == "kept"

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
