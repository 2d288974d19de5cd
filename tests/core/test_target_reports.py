"""One report over a Bake definition's targets: each platform entry says its target, the
renders show targets by platforms, and platforms are compared within a target only."""

from __future__ import annotations

import json
from dataclasses import asdict

import jsonschema
import pytest

from harness.core.answers.observation import Observation
from harness.core.declared import sameness
from harness.core.outcomes import Kind, Verdict
from harness.core.platforms.table import parse_platform
from harness.core.reporting.html_report import render_html
from harness.core.reporting.render import render_console, render_markdown, targets_matrix
from harness.core.reporting.report import Report, build_report, merge_reports
from harness.core.reporting.report_schema import SCHEMA
from harness.core.results.finding import Finding
from harness.core.results.platform_result import PlatformResult


def result(target: str | None, platform: str, output: str = "1.4",
           verdict: Verdict = Verdict.PASS) -> PlatformResult:
    seen = Observation("check:v", output, (), output,
                       detail={"same": asdict(sameness.Answer.of(output,
                                                                 parse_platform(platform)))})
    findings = [Finding("elf-audit", Kind.MISMATCH, "x86-64 programs", "build for arm64")] \
        if verdict is Verdict.FAIL else []
    return PlatformResult(platform, verdict, findings, [seen], target=target)


def two_targets() -> list[PlatformResult]:
    return [result("worker", "linux/amd64"), result("app", "linux/arm64", verdict=Verdict.FAIL),
            result("app", "linux/amd64")]


def test_every_entry_carries_its_target_valid_against_the_schema_and_read_back() -> None:
    report = build_report(two_targets(), {}, "warn")
    data = report.to_json()
    jsonschema.validate(data, SCHEMA)
    assert [(e["target"], e["platform"]) for e in data["platforms"]] == [
        ("app", "linux/amd64"), ("app", "linux/arm64"), ("worker", "linux/amd64")]
    assert Report.from_json(json.loads(json.dumps(data))).to_json() == data
    # One exit status over everything: the one failing unit fails the run.
    assert (data["verdict"], data["exit_status"]) == ("fail", 1)
    assert [e["verdict"] for e in data["platforms"]] == ["pass", "fail", "pass"]


def test_without_targets_an_entry_has_no_target_field() -> None:
    data = build_report([result(None, "linux/amd64")], {}, "warn").to_json()
    assert "target" not in data["platforms"][0]


def test_same_answers_are_compared_within_a_target_never_across() -> None:
    # Each target's platforms agree among themselves; the two targets print different things
    # (another program): no mismatch.
    # (compared across targets, the worker would be the odd one out of four)
    results = [result("app", "linux/amd64", "app 1.4"), result("app", "linux/arm64", "app 1.4"),
               result("app", "linux/arm/v7", "app 1.4"),
               result("worker", "linux/amd64", "worker 2")]
    report = build_report(results, {}, "warn")
    assert [p.verdict for p in report.platforms] == ["pass"] * 4
    # Within a target, the odd platform still fails.
    odd = [*results[:2], result("app", "linux/arm/v7", "app 1.3"), results[3]]
    report = build_report(odd, {}, "warn")
    assert [(p.unit, p.verdict) for p in report.platforms] == [
        ("app-linux/amd64", "pass"), ("app-linux/arm/v7", "fail"), ("app-linux/arm64", "pass"),
        ("worker-linux/amd64", "pass")]


def packages(target: str, platform: str, version: str) -> PlatformResult:
    seen = Observation("packages", "", (), None, detail={"packages": {"libc6": version}})
    return PlatformResult(platform, Verdict.PASS, [], [seen], target=target)


def test_parity_never_compares_two_targets_images() -> None:
    report = build_report([packages("app", "linux/amd64", "2.36"),
                           packages("worker", "linux/amd64", "2.31")], {}, "warn")
    # one platform per target: nothing to compare
    assert (report.parity, report.target_parity) == (None, None)


def test_parity_compares_each_targets_platforms() -> None:
    report = build_report([packages("app", "linux/amd64", "2.36"),
                           packages("app", "linux/arm64", "2.36"),
                           packages("worker", "linux/amd64", "2.31"),
                           packages("worker", "linux/arm64", "2.30")], {}, "warn")
    assert report.parity is None and report.target_parity is not None
    assert (report.target_parity["app"]["versions_count"],
            report.target_parity["worker"]["versions_count"]) == (0, 1)
    data = report.to_json()
    jsonschema.validate(data, SCHEMA)
    assert Report.from_json(data).to_json() == data
    md = render_markdown(report)
    assert "#### Parity across worker's platforms" in md
    assert "#### Parity across app's platforms" in md
    assert "parity of worker's (warning)" in "\n".join(render_console(report))
    page = render_html(report)
    assert 'id="parity-worker"' in page and "Parity across app&#x27;s platforms" in page


def test_the_renders_show_targets_by_platforms() -> None:
    report = build_report(two_targets(), {}, "warn")
    assert targets_matrix(report) == (["linux/amd64", "linux/arm64"],
                                      [("app", ["pass", "fail"]), ("worker", ["pass", ""])])
    md = render_markdown(report)
    assert "#### Targets by platform" in md
    assert "| `app` | ✅ pass | ❌ fail |" in md and "| `worker` | ✅ pass | — |" in md
    assert "| `app-linux/arm64` | ❌ fail |" in md
    console = "\n".join(render_console(report))
    assert "TARGET  linux/amd64  linux/arm64" in console and "app-linux/arm64 [mismatch]" in console
    page = render_html(report)
    assert '<tr data-target="app"><th>app</th>' in page
    assert 'data-platform="linux/arm64" data-target="app" data-verdict="fail"' in page


def test_without_targets_the_renders_show_no_target_matrix() -> None:
    report = build_report([result(None, "linux/amd64")], {}, "warn")
    assert targets_matrix(report) == ([], [])
    assert "Targets" not in render_markdown(report) and "TARGET" not in \
        "\n".join(render_console(report)) and "data-target" not in render_html(report)


def test_merged_reports_keep_one_platform_of_two_targets_apart() -> None:
    # A CI matrix's jobs, one target each, merged: linux/amd64 twice is two units, not a clash.
    app = build_report([result("app", "linux/amd64")], {}, "warn")
    worker = build_report([result("worker", "linux/amd64", verdict=Verdict.FAIL)], {}, "warn")
    merged = merge_reports([app, worker])
    assert [(p.unit, p.verdict) for p in merged.platforms] == [
        ("app-linux/amd64", "pass"), ("worker-linux/amd64", "fail")]
    assert merged.exit_status == 1
    with pytest.raises(ValueError, match="two reports check app-linux/amd64"):
        merge_reports([app, app])
