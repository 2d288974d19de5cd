"""The baseline-CPU run (harness.containers.baseline_run): which commands are asked again
on the oldest CPU, and the one observation of both runs, timed as one span from the first
run's start to the second's end."""

from __future__ import annotations

from harness.containers import baseline_run
from harness.containers.hello import HELLO_DIR
from harness.core.answers import observation as obs
from harness.core.declared.usercheck import DeclaredCheck
from harness.core.platforms.table import parse_platform

ARM64 = parse_platform("linux/arm64")


def test_both_runs_are_one_observation_and_one_span_from_first_start_to_last_end() -> None:
    early = baseline_run.BaselineRun([("uname -m", 0, False)], "aarch64", 1000.0, 2.0)
    late = baseline_run.BaselineRun([("/tmp/hello", 132, True)], None, 1010.0, 3.004)
    timed = baseline_run.observation(ARM64, early, late)
    assert timed.span is not None
    assert (timed.span.started, timed.span.seconds, timed.span.read) == (1000.0, 13.0, None)
    (seen,) = timed.found
    assert seen.source == "baseline-cpu" and seen.detail["uname"] == "aarch64"
    assert seen.detail["illegal"] == ["/tmp/hello"]
    # report.json's copy of the span, in the observation's detail
    assert (seen.detail["started"], seen.detail["seconds"]) == (1000.0, 13.0)


def test_only_commands_that_answered_are_asked_again() -> None:
    found = [obs.uname("aarch64\n"), obs.absent("dpkg"), obs.failed("getconf", "hung"),
             obs.cargo("cargo 1.83.0 (5ffbef321 2024-10-29)\n")]
    assert baseline_run.answered_commands(found) == [["uname", "-m"], ["cargo", "-V"]]


def test_the_hello_world_binary_and_answered_checks_run_after_it() -> None:
    check = DeclaredCheck("bash", ("bash", "--version"), "GNU bash")
    other = DeclaredCheck("zsh", ("zsh", "--version"), "zsh")
    found = [obs.hello("Hello, world!", True), obs.declared(check, "GNU bash, 5.2\n"),
             obs.failed(other.source, "not in the image")]
    assert baseline_run.late_commands(found, (check, other)) == [
        [f"{HELLO_DIR}/target/debug/harness-hello"], ["bash", "--version"]]
    failed = [obs.hello("error: linker `cc` not found", False)]
    assert baseline_run.late_commands(failed, ()) == []  # nothing built to run
