"""report.json fields, the Markdown table, the console table and the exit status."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.core.answers import observation as obs
from harness.core.outcomes import Exit, Kind, Verdict
from harness.core.platforms.engine_kind import EngineKind
from harness.core.reporting.html_report import render_html
from harness.core.reporting.render import render_console, render_markdown
from harness.core.reporting.report import Report, build_report, merge_reports
from harness.core.results.finding import Finding
from harness.core.results.platform_result import EngineInfo, PlatformResult
from harness.machine.reports import write_json, write_markdown
from tests.factories import HOST, MIX, QUIRK_FINDING, result


@pytest.mark.parametrize(("verdicts", "policy", "status"), [
    ([Verdict.PASS, Verdict.PASS], "warn", Exit.OK),
    ([Verdict.PASS, Verdict.QUIRK], "warn", Exit.OK),
    ([Verdict.PASS, Verdict.QUIRK], "fail", Exit.IMAGE_WRONG),
    ([Verdict.PASS, Verdict.ERROR], "warn", Exit.CANNOT_CHECK),
    ([Verdict.FAIL, Verdict.ERROR], "warn", Exit.IMAGE_WRONG),
])
def test_exit_status(verdicts: list[str], policy: str, status: int) -> None:
    results = [result(f"linux/p{i}", v) for i, v in enumerate(verdicts)]
    assert build_report(results, {}, policy).exit_status == status


@pytest.mark.parametrize(("kinds", "status"), [
    ([Kind.USAGE, Kind.ERROR], Exit.USAGE),
    ([Kind.INTERNAL, Kind.ERROR], Exit.SOFTWARE),
    ([Kind.INTERNAL, Kind.BROKEN], Exit.IMAGE_WRONG),
    ([Kind.ABSENT, Kind.QUIRK], Exit.OK),
])
def test_exit_status_follows_the_finding_kinds(kinds: list[Kind], status: int) -> None:
    """A wrong image blocks whatever else happened; bad input and a harness bug are named
    before a machine that could not check."""
    results = [result(f"linux/p{i}", k.verdict, [Finding("x", k, "m")])
               for i, k in enumerate(kinds)]
    assert build_report(results, {}, "warn").exit_status == status


def test_a_result_is_serialised_once_and_read_back_whole() -> None:
    """What a worker hands over is what report.json holds, and reads back to the same."""
    r = result("linux/386", Verdict.QUIRK, [QUIRK_FINDING])
    data = json.loads(json.dumps(r.to_dict()))
    assert PlatformResult.from_dict(data) == r
    assert data["observed"]["dpkg"]["fits"] == ["linux/386"]
    assert data["build"] == {"ok": True, "builder": "buildx", "seconds": 64.2,
                             "log": "logs/x.log"}
    assert data["image"] == {"tag": "harness/rust:linux-386", "id": "sha256:abc", "base": None}


def test_json_has_the_documented_fields_and_round_trips(tmp_path: Path) -> None:
    report = build_report([result("linux/386", Verdict.QUIRK, [QUIRK_FINDING]),
                           result("linux/amd64", Verdict.PASS)], HOST, "warn")
    write_json(report, tmp_path / "report.json")
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["verdict"] == Verdict.QUIRK and data["exit_status"] == 0 and data["host"] == HOST
    p = data["platforms"][0]
    assert set(p) >= {"platform", "verdict", "observed", "findings", "image", "build", "run",
                      "probe_seconds", "hello_seconds"}
    assert p["findings"][0] == {"source": "uname", "kind": "quirk",
                                "message": QUIRK_FINDING.message, "fix": "read dpkg"}
    assert PlatformResult.from_dict(p).findings == [QUIRK_FINDING]


def test_markdown_is_a_table_with_findings_and_goes_to_the_step_summary(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    report = build_report([result("linux/386", Verdict.QUIRK, [QUIRK_FINDING])], HOST, "warn")
    text = write_markdown(report, tmp_path / "report.md")
    assert "| `linux/386` | ⚠️ quirk | native | 64 s | `i386` |" in text
    assert "**linux/386** `uname` (quirk)" in text
    assert summary.read_text() == "earlier step\n" + text + "\n"


def test_console_table_lines_up() -> None:
    report = build_report([result("linux/386", Verdict.QUIRK, [QUIRK_FINDING]),
                           result("linux/arm/v7", Verdict.PASS)], HOST, "warn")
    lines = render_console(report)
    assert lines[0].split() == ["PLATFORM", "VERDICT", "RUNS", "AS", "BUILD", "DPKG", "UNAME",
                                "RUSTC", "HOST"]
    assert lines[1].startswith("linux/386     QUIRK")
    assert any(line.startswith("linux/386 [quirk] uname:") for line in lines)


def test_each_platforms_engine_is_reported_and_shown_when_there_are_several() -> None:
    one = result("linux/386", Verdict.QUIRK, [QUIRK_FINDING])
    one.engine = EngineInfo("unix:///run/two.sock", "x86_64", "26.1.5")
    two = result("linux/amd64", Verdict.PASS, [])
    two.engine = EngineInfo("unix:///var/run/docker.sock", "x86_64", "20.10.24")
    assert PlatformResult.from_dict(json.loads(json.dumps(one.to_dict()))) == one
    report = build_report([one, two], {}, "warn")
    assert report.to_json()["platforms"][0]["engine"] == {"url": "unix:///run/two.sock",
                                                "arch": "x86_64", "version": "26.1.5",
                                                "kind": "docker"}
    console = render_console(report)
    assert "  linux/386 on unix:///run/two.sock (Docker 26.1.5, x86_64)" in console
    two.engine = one.engine  # all on one engine: nothing more to say
    assert not any("engines" in line for line in render_console(build_report(
        [one, two], {}, "warn")))


@pytest.mark.parametrize("policy", ["warn", "fail"])
def test_reports_of_one_platform_each_merge_into_what_one_run_says(policy: str) -> None:
    one_run = build_report(MIX, HOST, policy)
    merged = merge_reports([build_report([r], {**HOST, "name": r.platform}, policy)
                            for r in reversed(MIX)])
    assert merged.verdict == one_run.verdict == Verdict.FAIL
    assert merged.exit_status == one_run.exit_status
    assert merged.to_json()["platforms"] == one_run.to_json()["platforms"]
    assert merged.to_json()["hosts"]["linux/arm64"]["name"] == "linux/arm64"  # where each one ran


def test_a_platform_whose_job_wrote_no_report_is_an_error() -> None:
    merged = merge_reports([build_report([MIX[0]], HOST, "warn")],
                           expected=["linux/amd64", "linux/s390x"])
    by = {p["platform"]: p for p in merged.to_json()["platforms"]}
    assert by["linux/s390x"]["verdict"] == Verdict.ERROR
    assert "no report from the job of linux/s390x" in by["linux/s390x"]["findings"][0]["message"]
    assert merged.exit_status == Exit.CANNOT_CHECK


def test_a_platform_in_two_reports_is_refused() -> None:
    twice = build_report([MIX[0]], HOST, "warn")
    with pytest.raises(ValueError, match="two reports check linux/amd64"):
        merge_reports([twice, twice])


def test_answers_read_back_are_said_on_the_terminal_and_in_markdown(tmp_path: Path) -> None:
    asked, read = result("linux/amd64", Verdict.PASS), result("linux/arm64", Verdict.PASS)
    config = obs.config("linux", "arm64", None)
    config.detail["read"] = "kept"  # as harness.containers.probes reads a kept answer back
    read.observations.append(config)
    report = build_report([asked, read], HOST, "warn")
    said = [line for line in render_console(report) if line.startswith("answers read back")]
    assert said == ["answers read back (linux/arm64): the same images ran on this machine "
                    "before, as they would run now; --no-cache asks them again"]
    write_markdown(report, tmp_path / "report.md")
    assert "Answers read back for `linux/arm64`:" in (tmp_path / "report.md").read_text()
    report = build_report([asked], HOST, "warn")
    assert not any("read back" in line for line in render_console(report))


def _claiming(verdict: str, platform: str, findings: list[Finding]) -> Report:
    """A report whose one platform says ``verdict`` beside ``findings``, as a job's file may
    (edited, or written by another version): what it claims is not what decides."""
    report = build_report([result(platform, Verdict.PASS, findings)], HOST, "warn").to_json()
    report["platforms"][0]["verdict"] = verdict
    return Report.from_json(report)


MISMATCH = Finding("dpkg", "mismatch", "dpkg says amd64", "fix FROM")


@pytest.mark.parametrize(("claimed", "findings", "judged", "status"), [
    ("pass", [MISMATCH], Verdict.FAIL, Exit.IMAGE_WRONG),
    ("quirk", [MISMATCH], Verdict.FAIL, Exit.IMAGE_WRONG),
    ("pass", [QUIRK_FINDING], Verdict.QUIRK, Exit.OK),
    # A verdict with no finding of its own counts as its own (a platform built and never
    # checked is an error without a finding), as the exit status already counts it.
    ("fail", [], Verdict.FAIL, Exit.IMAGE_WRONG),
    ("error", [QUIRK_FINDING], Verdict.ERROR, Exit.CANNOT_CHECK),
])
def test_a_merged_platforms_verdict_is_judged_from_its_findings_not_believed(
        claimed: str, findings: list[Finding], judged: Verdict, status: Exit) -> None:
    merged = merge_reports([_claiming(claimed, "linux/arm64", findings)])
    assert merged.platforms[0].verdict == judged
    assert merged.verdict == judged
    assert merged.exit_status == status


def test_a_pass_beside_a_mismatch_is_said_nowhere_to_have_passed(tmp_path: Path) -> None:
    merged = merge_reports([_claiming("pass", "linux/arm64", [MISMATCH])])
    write_markdown(merged, tmp_path / "report.md")
    assert "passed" not in (tmp_path / "report.md").read_text().split("\n")[0]
    assert "All 1 platforms passed" not in (tmp_path / "report.md").read_text()
    row = next(line for line in render_console(merged) if line.startswith("linux/arm64"))
    assert row.split()[1] == "FAIL"


def test_linux_arm_and_linux_arm_v7_are_one_platform_and_two_reports_of_it_conflict() -> None:
    one = merge_reports([_claiming("pass", "linux/arm", [])], expected=["linux/arm/v7"])
    assert [p.platform for p in one.platforms] == ["linux/arm/v7"]
    assert one.exit_status == Exit.OK  # its report is the expected platform's
    with pytest.raises(ValueError, match="two reports check linux/arm/v7"):
        merge_reports([_claiming("pass", "linux/arm", []),
                       _claiming("fail", "linux/arm/v7", [MISMATCH])])


def test_no_non_finite_number_is_ever_written_to_report_json(tmp_path: Path) -> None:
    data = build_report([result("linux/amd64", Verdict.PASS)], HOST, "warn").to_json()
    data["platforms"][0]["probe_seconds"] = float("nan")
    report = Report.from_json(data)
    with pytest.raises(ValueError):
        write_json(report, tmp_path / "report.json")
    assert not (tmp_path / "report.json").exists()


def test_a_findings_steps_reach_every_sink_escaped(tmp_path: Path) -> None:
    """report.json holds the steps (in its schema, read back whole); report.md, report.html
    and the terminal show them in the message, each escaped for its sink."""
    from harness.core.answers.origins import Step
    from harness.core.reporting.html_report import render_html
    from harness.machine.reports import read_report
    step = Step("/usr/local/bin/tool", "sha256:" + "1" * 64,
                "COPY <tool> /usr/local/bin/\x1b[2Jtool", 6, "Dockerfile")
    finding = Finding("elf-audit", Kind.MISMATCH,
                      f"1 ELF file: /usr/local/bin/tool (x86-64), from {step.label()}",
                      "build it", (step,))
    report = build_report([result("linux/arm64", Verdict.FAIL, [finding])], HOST, "warn")
    write_json(report, tmp_path / "report.json")
    data = json.loads((tmp_path / "report.json").read_text())
    [seen] = data["platforms"][0]["findings"]
    assert seen["steps"] == [step.to_dict()]
    assert list(read_report(tmp_path / "report.json").platforms[0].findings) == [finding]
    markdown = write_markdown(report, tmp_path / "report.md")
    assert "from Dockerfile:6 COPY &#60;tool&#62; /usr/local/bin/\\\\x1b\\[2Jtool" in markdown
    page = render_html(report)
    assert "from Dockerfile:6 COPY &lt;tool&gt; /usr/local/bin/\\x1b[2Jtool" in page
    console = "\n".join(render_console(report))
    assert "from Dockerfile:6 COPY <tool> /usr/local/bin/\\x1b[2Jtool" in console
    assert "\x1b" not in markdown + page + console


def test_each_platforms_engine_kind_is_in_report_json_and_shown() -> None:
    """A platform checked on Podman says so: report.json's engine record has its kind, and
    the console, report.md and report.html name Podman where they name the engine."""
    on_podman = result("linux/arm64", Verdict.PASS, [])
    on_podman.engine = EngineInfo("unix:///run/podman/podman.sock", "x86_64", "4.3.1",
                                  EngineKind.PODMAN)
    on_docker = result("linux/amd64", Verdict.PASS, [])
    on_docker.engine = EngineInfo("unix:///var/run/docker.sock", "x86_64", "20.10.24")
    assert PlatformResult.from_dict(json.loads(json.dumps(on_podman.to_dict()))) == on_podman
    report = build_report([on_podman, on_docker], {}, "warn")
    rows = report.to_json()["platforms"]
    assert {r["platform"]: r["engine"]["kind"] for r in rows} == {"linux/arm64": "podman",
                                                                  "linux/amd64": "docker"}
    assert "  linux/arm64 on unix:///run/podman/podman.sock (Podman 4.3.1, x86_64)" in \
        render_console(report)
    assert "(Podman 4.3.1, x86\\_64)" in render_markdown(report)  # escaped for Markdown
    assert "</code> Podman 4.3.1 on x86_64" in render_html(report)
    # A report written before the kind was recorded reads as Docker's, as it was.
    old = {**rows[0], "engine": {"url": "unix:///var/run/docker.sock"}}
    assert PlatformResult.from_dict(old).engine == EngineInfo("unix:///var/run/docker.sock")
