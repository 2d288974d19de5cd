"""What each stage of a platform's way through a worker gave (:class:`Built`, :class:`Checked`),
the platform's result composed of the two (its verdict decided by harness.core.judging.verdicts),
and
where they are kept in the report directory's ``status/`` between the processes of a run (a
build handed over by the controller's head start, a result kept as each stage ends).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness.core.answers.observation import Observation
from harness.core.failures.errors import BuildFailed, HarnessError
from harness.core.jsondoc import JSON
from harness.core.judging.verdicts import Judgement, settle
from harness.core.outcomes import Kind, RunMode
from harness.core.platforms.table import Platform
from harness.core.platforms.unit import Unit
from harness.core.results.finding import Finding
from harness.core.results.platform_result import (
    BuildInfo,
    EngineInfo,
    ImageInfo,
    Phase,
    PlatformResult,
    ProbeTimes,
)
from harness.machine import files
from harness.machine.reports import REPORT_BYTES


@dataclass
class Built:
    """What the build stage gave: an image (tag and id), or the finding that says why not."""

    platform: Platform
    error: HarnessError | None = None
    mode: RunMode | None = None
    image: ImageInfo | None = None
    build: BuildInfo | None = None
    finding: Finding | None = None
    engine: EngineInfo | None = None
    phases: list[Phase] = field(default_factory=list)

    def to_dict(self) -> JSON:
        """The build as a worker adopts it from the process that built it (see adopt)."""
        error = self.error
        return {"result": compose(self, None).to_dict(),
                "error": None if error is None else {
                    "message": error.message, "fix": error.fix, "kind": str(error.kind),
                    "cause": error.cause, "log_tail": getattr(error, "log_tail", "")}}

    @classmethod
    def from_dict(cls, data: JSON, platform: Platform) -> Built:
        result = PlatformResult.from_dict(data["result"])
        error = None
        if data.get("error"):
            e = data["error"]
            error = (BuildFailed(e["message"], e["fix"], e["log_tail"], kind=Kind(e["kind"]),
                                 cause=e["cause"]) if e.get("log_tail") else
                     HarnessError(e["message"], e["fix"], kind=Kind(e["kind"]), cause=e["cause"]))
        return cls(platform, error=error, mode=result.run, image=result.image,
                   build=result.build, finding=result.findings[0] if result.findings else None,
                   engine=result.engine, phases=result.phases)


@dataclass
class Checked:
    """What the probes saw and the judgement of it, or the finding that says why not."""

    platform: Platform
    judgement: Judgement | None = None
    observations: list[Observation] = field(default_factory=list)
    error: HarnessError | None = None
    finding: Finding | None = None
    times: ProbeTimes = field(default_factory=ProbeTimes)
    probe_log: str | None = None
    phases: list[Phase] = field(default_factory=list)


def compose(built: Built, checked: Checked | None) -> PlatformResult:
    """The platform's result: the build's finding if it failed, else the check's."""
    result = PlatformResult(built.platform.name, image=built.image, build=built.build,
                            run=built.mode, engine=built.engine, phases=list(built.phases))
    if checked is not None:
        result.phases += checked.phases
    if built.finding is not None:
        return settle(result, [built.finding])
    if checked is None:
        return settle(result, None)  # built, never checked (interrupted)
    result.observations = checked.observations
    result.times = checked.times
    result.probe_log = checked.probe_log
    if checked.finding is not None:
        return settle(result, [checked.finding])
    return settle(result, None if checked.judgement is None else checked.judgement.findings)


RESULT_SUFFIX = ".result"  # not .json: the progress views read every status/*.json
RUN_FIELD = "run_id"  # in each status/ file: the run that wrote it (one run per directory)


def result_file(report_dir: Path, platform: Platform | Unit) -> Path:
    """Where a platform's result so far is kept during a run (see Pipeline.save)."""
    return report_dir / "status" / f"{platform.slug}{RESULT_SUFFIX}"


BUILT_SUFFIX = ".built"


def built_file(report_dir: Path, platform: Platform | Unit) -> Path:
    """Where a platform's build is handed over to the worker that checks it (Pipeline.adopt)."""
    return report_dir / "status" / f"{platform.slug}{BUILT_SUFFIX}"


def saved_results(report_dir: Path, run: str) -> dict[str, PlatformResult]:
    """The results the workers of ``run`` kept, by platform (a file being replaced, or
    another run's, is skipped)."""
    found = {}
    for path in sorted((report_dir / "status").glob(f"*{RESULT_SUFFIX}")):
        try:
            data = files.read_json(path, REPORT_BYTES)
            if data.get(RUN_FIELD) != run:
                continue
            result = PlatformResult.from_dict(data)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
        found[result.unit] = result
    return found

