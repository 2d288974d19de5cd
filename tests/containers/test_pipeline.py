"""The pipeline's results: how a build and a check compose into one platform's result."""

from __future__ import annotations

import json
from pathlib import Path

from harness.containers.pipeline import (
    RESULT_SUFFIX,
    Built,
    Checked,
    Pipeline,
    _busy,
    compose,
    saved_results,
)
from harness.containers.probe_result import Span
from harness.core.answers import observation as obs
from harness.core.failures.errors import BuildFailed
from harness.core.judging.verdicts import Judgement
from harness.core.outcomes import Kind, RunMode
from harness.core.platforms.table import parse_platform
from harness.core.results.finding import Finding
from harness.core.results.platform_result import BuildInfo, EngineInfo, ImageInfo, Phase, ProbeTimes
from harness.machine.config import load

ARM = parse_platform("linux/arm64")
QEMU = RunMode("qemu", "qemu-aarch64", "/usr/libexec/qemu-binfmt/aarch64-binfmt-P", "PF", "7.2")
BUILT = Built(ARM, mode=QEMU,
              image=ImageInfo("sha256:1", "harness/rust:linux-arm64", "base:arm64"),
              build=BuildInfo(True, "buildx", 12.5, "logs/linux-arm64-build.log"))


def test_a_failed_build_is_the_result_whatever_was_checked() -> None:
    finding = Finding("build", Kind.BUILD, "a build step failed")
    built = Built(ARM, mode=QEMU, build=BuildInfo(False, seconds=3.0), finding=finding)
    result = compose(built, Checked(ARM, Judgement("pass", [])))
    assert (result.verdict, result.findings) == ("fail", [finding])
    assert result.build == BuildInfo(False, seconds=3.0) and result.run == QEMU


def test_a_check_gives_its_judgement_observations_and_timings() -> None:
    seen = [obs.dpkg("arm64\n")]
    quirk = Finding("uname", Kind.QUIRK, "q")
    checked = Checked(ARM, Judgement("quirk", [quirk]), seen, times=ProbeTimes(1.2, 4.5),
                      probe_log="logs/p.log")
    result = compose(BUILT, checked)
    assert (result.verdict, result.findings, result.observations) == ("quirk", [quirk], seen)
    assert (result.times.probe, result.times.hello, result.seconds) == (1.2, 4.5, 18.2)
    assert result.image == BUILT.image


def test_a_probe_that_could_not_run_is_its_finding() -> None:
    finding = Finding("probe", Kind.ERROR, "no handler")
    result = compose(BUILT, Checked(ARM, finding=finding))
    assert (result.verdict, result.findings) == ("error", [finding])


def test_built_but_never_checked_is_an_error_with_its_build() -> None:
    result = compose(BUILT, None)
    assert result.verdict == "error" and result.kinds() == [Kind.ERROR]
    assert result.build == BUILT.build


def test_the_hello_world_and_the_audit_overlap_and_are_counted_once() -> None:
    hello = Span(started=100.0, seconds=5.0)
    audit = Span(started=101.0, seconds=3.0)  # within the compile
    assert _busy({"hello": hello, "elf-audit": audit}) == 5.0
    audit = Span(started=104.0, seconds=3.0)  # running past it
    assert _busy({"hello": hello, "elf-audit": audit}) == 7.0
    assert _busy({}) == 0.0  # the hello world did not run: no span


def test_a_build_handed_over_is_the_same_build_in_the_worker_that_adopts_it() -> None:
    """The controller's build (harness.plugin.head_start) reaches its worker through a file:
    what the worker checks and reports must be what was built."""
    good = Built(ARM, mode=QEMU, image=BUILT.image, build=BUILT.build,
                 engine=EngineInfo("unix:///var/run/docker.sock", "x86_64", "26.1.5"),
                 phases=[Phase("build", "2026-12-01T04:00:00.000+00:00",
                               "2026-12-01T04:03:20.000+00:00")])
    back = Built.from_dict(json.loads(json.dumps(good.to_dict())), ARM)
    assert back == good
    error = BuildFailed("linux/arm64: a build step failed: exit code: 100", "fix the step",
                        log_tail="E: Unable to locate package rustc\n\x1b[31m", kind=Kind.BUILD,
                        cause="step-failed")
    failed = Built(ARM, error=error, mode=QEMU, build=BuildInfo(False, seconds=3.0),
                   finding=Finding("build", Kind.BUILD, error.message, error.fix))
    back = Built.from_dict(json.loads(json.dumps(failed.to_dict())), ARM)
    assert back.finding == failed.finding and back.build == failed.build
    assert back.error is not None
    assert (back.error.message, back.error.fix, back.error.kind, back.error.cause) == \
        (error.message, error.fix, Kind.BUILD, "step-failed")
    assert isinstance(back.error, BuildFailed)
    assert back.error.log_tail == error.log_tail  # test_builds shows it
    assert compose(back, None).verdict == "fail"


def test_a_saved_result_nested_too_deep_is_skipped_never_a_crash(tmp_path: Path) -> None:
    (tmp_path / "status").mkdir()
    (tmp_path / "status" / f"linux-amd64{RESULT_SUFFIX}").write_text("[" * 200_000 + "]" * 200_000)
    assert saved_results(tmp_path, "any") == {}


def _pipeline(report_dir: Path, run: str) -> Pipeline:
    (report_dir / "Dockerfile").write_text("FROM debian\n")
    return Pipeline(load(report_dir, platforms=["linux/arm64"], report_dir=str(report_dir)),
                    run=run)


def test_a_worker_adopts_only_its_own_runs_build(tmp_path: Path) -> None:
    """Two runs with one report directory: a worker adopted the other run's build from
    status/ and reported its verdict. Each file says its run; another's is never taken for
    this run's (an error, at once: no wait for a file that will not come)."""
    ours, theirs = _pipeline(tmp_path, "ours"), _pipeline(tmp_path, "theirs")
    theirs.hand_over(BUILT)
    adopted = ours.adopt(ARM)
    assert adopted.finding is not None and adopted.finding.kind == Kind.ERROR
    assert "is another run's" in adopted.finding.message and adopted.image is None
    ours.hand_over(BUILT)
    assert ours.adopt(ARM).image == BUILT.image


def test_the_results_kept_are_the_runs_own(tmp_path: Path) -> None:
    theirs = _pipeline(tmp_path, "theirs")
    theirs.built[ARM.name] = BUILT
    theirs.save(ARM)
    assert saved_results(tmp_path, "ours") == {}
    assert saved_results(tmp_path, "theirs")[ARM.name].image == BUILT.image


def test_an_interruption_is_known_by_its_cause_never_by_its_fix_text() -> None:
    """A finding that reads like an interruption is not one, and one reworded still is: the
    cause the diagnosis decided is what says so (issue 37)."""
    from harness.containers.pipeline import INTERRUPTED_FIX, interrupted, was_interrupted
    from harness.core.results.platform_result import PlatformResult

    def one(finding: Finding) -> PlatformResult:
        return PlatformResult(ARM.name, finding.verdict, [finding])

    alike = Finding("build", Kind.ERROR, "the engine stopped", INTERRUPTED_FIX,
                    cause="engine-gone")
    assert not was_interrupted(one(alike))
    reworded = Finding("probe", Kind.ERROR, "the build was cancelled", "check it again",
                       cause="build-cancelled")
    assert was_interrupted(one(reworded))
    assert was_interrupted(one(interrupted("probe")))
    assert interrupted("build").cause == "interrupted"


def test_a_findings_cause_is_kept_in_the_build_handed_over() -> None:
    """The status files and xdist's workeroutput carry a finding's cause, and an error's."""
    error = BuildFailed("the build was cancelled", "run again", "log", cause="build-cancelled")
    built = Built(ARM, error=error, mode=QEMU, build=BuildInfo(False, seconds=1.0),
                  finding=Finding("build", Kind.ERROR, error.message, error.fix,
                                  cause=error.cause))
    back = Built.from_dict(json.loads(json.dumps(built.to_dict())), ARM)
    assert back.finding == built.finding and back.finding is not None
    assert back.finding.cause == "build-cancelled"


def test_a_probes_finding_has_the_cause_its_diagnosis_decided() -> None:
    """An observation made from a diagnosis carries its cause into the finding, and through
    report.json."""
    from harness.core.judging.verdicts import judge

    seen = obs.failed("dpkg", "the probe was interrupted", "error", "again",
                      cause="interrupted")
    assert obs.Observation.from_dict(json.loads(json.dumps(seen.to_dict()))) == seen
    judged = judge(ARM, [seen], "arm64", QEMU)
    assert [f.cause for f in judged.findings] == ["interrupted"]
    assert judged.findings[0].interruption
