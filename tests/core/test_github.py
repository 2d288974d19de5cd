"""What GitHub shows of a report: one annotation per platform, escaped; the gate's word."""

from __future__ import annotations

from harness.core import sinks
from harness.core.reporting.github import annotation_lines, gate
from harness.core.reporting.report import build_report
from harness.core.results.finding import Finding
from tests.factories import HOST, MIX, result


def test_each_platform_that_did_not_pass_is_one_annotation() -> None:
    lines = annotation_lines(build_report(MIX, HOST, "warn"))
    assert [line.split(" ", 1)[0] for line in lines] == ["::warning", "::error", "::error"]
    by = {line.split("title=")[1].split("%3A")[0]: line for line in lines}
    assert "the image is wrong (fail)::dpkg: dpkg says amd64 (fix: fix FROM)" in \
        by["linux/arm64"]
    assert "runner problem (error)%2C retry the job::build: engine lost" in by["linux/arm/v7"]
    assert by["linux/386"].startswith("::warning title=linux/386%3A known host quirk::")
    assert "linux/amd64" not in by


def test_a_quirk_blocks_under_quirk_policy_fail() -> None:
    [line] = annotation_lines(build_report([MIX[1]], HOST, "fail"))
    assert line.startswith("::error title=linux/386%3A known host quirk (quirk-policy fail)")
    assert "blocks the release" in gate(build_report([MIX[1]], HOST, "fail"))


def test_what_an_image_prints_cannot_forge_a_workflow_command() -> None:
    hostile = "x\n::error::all passed\r%0A" + "\x1b[31m" + "y" * 5000
    found = [Finding("check:x", "mismatch", hostile)]
    [line] = annotation_lines(build_report([result("linux/arm64", "fail", found)], HOST, "warn"))
    assert "\n" not in line and "\r" not in line and "\x1b" not in line
    assert "x%0A::error::all passed\\x0d%250A\\x1b[31my" in line  # one line, ESC shown
    assert len(line) < 800
    assert sinks.github("50%\n") == "50%25%0A"


def test_the_gate_says_runner_problem_for_an_error_and_blocks_a_fail() -> None:
    text = gate(build_report(MIX, HOST, "warn"))
    assert "**Release blocked: the image is wrong** on `linux/arm64`" in text
    assert "**Runner problem** on `linux/arm/v7`" in text and "Re-run the job" in text
    assert "passes with a warning" in text
    assert gate(build_report([MIX[0]], HOST, "warn")).startswith("**All 1 platforms passed")
