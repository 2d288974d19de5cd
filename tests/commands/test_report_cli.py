"""`multiarch-harness report`: the reports of a CI matrix's jobs merged, as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.commands.cli import main
from harness.core.outcomes import Exit, Kind, Verdict
from harness.core.reporting.report import build_report
from harness.core.results.finding import Finding
from harness.machine.reports import write_json
from tests.factories import HOST, MIX, result


@pytest.fixture
def jobs(tmp_path: Path) -> Path:
    """One report directory per platform, as the build jobs upload them."""
    for r in MIX:
        write_json(build_report([r], HOST, "warn"),
                   tmp_path / "reports" / f"report-{r.platform.replace('/', '-')}" / "report.json")
    return tmp_path / "reports"


def test_the_jobs_reports_merge_into_one_with_annotations_in_github(
        jobs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "summary.md"))
    status = main(["report", "--report-dir", str(tmp_path / "out"), str(jobs)])
    assert status == Exit.IMAGE_WRONG  # as one run of the four would say
    merged = json.loads((tmp_path / "out" / "report.json").read_text())
    assert [p["platform"] for p in merged["platforms"]] == sorted(r.platform for r in MIX)
    out = capsys.readouterr().out
    assert sum(line.startswith("::") for line in out.splitlines()) == 3
    summary = (tmp_path / "summary.md").read_text()
    assert summary.startswith("**Release blocked: the image is wrong** on `linux/arm64`")
    assert "| `linux/386` |" in summary


def test_a_job_that_wrote_no_report_is_an_error(tmp_path: Path) -> None:
    write_json(build_report([MIX[0]], HOST, "warn"), tmp_path / "r" / "a" / "report.json")
    matrix = json.dumps({"include": [{"platform": "linux/amd64"}, {"platform": "linux/386"}]})
    assert main(["report", "--matrix", matrix, "--report-dir", str(tmp_path / "out"),
                 str(tmp_path / "r")]) == Exit.CANNOT_CHECK
    assert main(["report", "--report-dir", str(tmp_path / "o2"), str(tmp_path / "r")]) == Exit.OK
    (tmp_path / "empty").mkdir()
    assert main(["report", "--matrix", matrix, "--report-dir", str(tmp_path / "o3"),
                 str(tmp_path / "empty")]) == Exit.CANNOT_CHECK


def test_bad_input_is_one_line_and_exit_4(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    out = ["--report-dir", str(tmp_path / "out")]
    assert main(["report", *out, str(tmp_path / "nowhere")]) == Exit.USAGE
    (tmp_path / "empty").mkdir()
    assert main(["report", *out, str(tmp_path / "empty")]) == Exit.USAGE
    assert main(["report", *out, "--matrix", "[1", str(tmp_path / "empty")]) == Exit.USAGE
    err = capsys.readouterr().err
    assert "does not exist" in err and "no report.json in" in err and "--matrix is not" in err
    assert [line.split(":")[0] for line in err.splitlines()] == ["report", "  fix"] * 3
    assert not (tmp_path / "out").exists()  # nothing written


@pytest.mark.parametrize(("content", "says"), [
    ('{"schema": 1}', "at the top level: 'verdict' is a required property"),
    (None, "at platforms/0/verdict: 'maybe' is not one of"),
    ('{"schema": 1, "verdict": "pass", "exit_status": 0, "quirk_policy": "warn", "host": {},'
     ' "platforms": []}', "at platforms: [] should be non-empty"),
    ('{"schema": 1, "verdict": "pass", "exit_status": 0, "quirk_policy": "warn", "host": {},'
     ' "platforms": ["linux/amd64"]}', "at platforms/0: 'linux/amd64' is not of type 'object'"),
    ("not json", "is not a report"),
])
def test_a_report_of_the_wrong_shape_is_bad_input_naming_file_and_field(
        tmp_path: Path, content: str | None, says: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    """`report` believed anything: `{"schema":1}` passed with "All 0 platforms passed"."""
    path = tmp_path / "r" / "report.json"
    if content is None:
        write_json(build_report([MIX[0]], HOST, "warn"), path)
        data = json.loads(path.read_text())
        data["platforms"][0]["verdict"] = "maybe"
        content = json.dumps(data)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    assert main(["report", "--report-dir", str(tmp_path / "out"), str(path.parent)]) \
        == Exit.USAGE
    err = capsys.readouterr().err
    assert str(path) in err and says in err, err
    assert not (tmp_path / "out").exists()


def test_no_report_directory_is_bad_input_and_schema_prints_the_schema(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report"]) == Exit.USAGE
    assert "no report directory given" in capsys.readouterr().err
    assert main(["report", "--schema"]) == Exit.OK
    schema = json.loads(capsys.readouterr().out)
    assert schema["properties"]["schema"] == {"const": 1,
                                              "description": "1; fields are only ever added"}


def test_every_report_the_harness_writes_is_valid_against_its_schema(tmp_path: Path) -> None:
    from harness.machine.reports import read_report

    recorded = Path(__file__).parents[1] / "fixtures" / "recorded" / "rust-routed.json"
    assert len(read_report(recorded).platforms) == 4
    write_json(build_report(MIX, HOST, "fail"), tmp_path / "report.json")
    assert read_report(tmp_path / "report.json").exit_status == Exit.IMAGE_WRONG


def test_an_unwritable_step_summary_warns_and_changes_no_status(
        jobs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """It turned a passing run into exit 1 with a traceback and no report.html."""
    write_json(build_report([MIX[0]], HOST, "warn"), tmp_path / "one" / "report.json")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "no" / "such" / "dir" / "s.md"))
    out = tmp_path / "out"
    assert main(["report", "--report-dir", str(out), str(tmp_path / "one")]) == Exit.OK
    assert "warning: cannot append the report to $GITHUB_STEP_SUMMARY" in \
        capsys.readouterr().err
    assert (out / "report.html").is_file()
    assert json.loads((out / "report.json").read_text())["exit_status"] == Exit.OK


def _job(tmp_path: Path, name: str, platform: str, verdict: str,
         findings: list[Finding]) -> Path:
    """A job's report directory whose one platform says ``verdict`` beside ``findings``."""
    path = tmp_path / "jobs" / name / "report.json"
    write_json(build_report([result(platform, Verdict.PASS, findings)], HOST, "warn"), path)
    data = json.loads(path.read_text())
    data["platforms"][0]["verdict"] = verdict
    path.write_text(json.dumps(data))
    return path.parent


MISMATCH = Finding("dpkg", "mismatch", "dpkg says amd64", "fix FROM")


def test_a_platform_that_says_pass_beside_a_mismatch_is_a_fail_everywhere(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    job = _job(tmp_path, "a", "linux/arm64", "pass", [MISMATCH])
    assert main(["report", "--report-dir", str(tmp_path / "out"), str(job)]) \
        == Exit.IMAGE_WRONG
    markdown = (tmp_path / "out" / "report.md").read_text()
    assert "platforms passed" not in markdown
    assert markdown.startswith("**Release blocked: the image is wrong** on `linux/arm64`")
    merged = json.loads((tmp_path / "out" / "report.json").read_text())
    assert merged["verdict"] == merged["platforms"][0]["verdict"] == "fail"
    rows = [line.split() for line in capsys.readouterr().out.splitlines()
            if line.startswith("linux/arm64 ") and "[" not in line]  # the table's row
    assert [row[1] for row in rows] == ["FAIL"]


def test_linux_arm_and_linux_arm_v7_from_two_jobs_are_one_platform_in_conflict(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _job(tmp_path, "a", "linux/arm", "pass", [])
    _job(tmp_path, "b", "linux/arm/v7", "fail", [MISMATCH])
    assert main(["report", "--report-dir", str(tmp_path / "out"), str(tmp_path / "jobs")]) \
        == Exit.USAGE
    err = capsys.readouterr().err
    assert err.splitlines()[0].endswith(": two reports check linux/arm/v7 (as linux/arm and "
                                        "linux/arm/v7)")
    assert len(err.splitlines()) == 2
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(("content", "says"), [
    ("[" * 200_000 + "]" * 200_000, "more than 64 levels of nesting"),
    ('{"a": ' * 200_000 + "1" + "}" * 200_000, "more than 64 levels of nesting"),
    (None, "NaN is not JSON"),
])
def test_a_hostile_report_is_one_line_of_bad_input(
        tmp_path: Path, content: str | None, says: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "r" / "report.json"
    if content is None:
        write_json(build_report([MIX[0]], HOST, "warn"), path)
        content = path.read_text().replace('"probe_seconds": 1.2', '"probe_seconds": NaN')
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    assert main(["report", "--report-dir", str(tmp_path / "out"), str(path.parent)]) \
        == Exit.USAGE
    err = capsys.readouterr().err
    assert [line.split(":")[0] for line in err.splitlines()] == ["report", "  fix"]
    assert says in err and len(err) < 1000, err
    assert not (tmp_path / "out").exists()


def test_a_matrix_nested_too_deep_is_one_line_of_bad_input(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    assert main(["report", "--report-dir", str(tmp_path / "out"), "--matrix",
                 "[" * 200_000 + "]" * 200_000, str(tmp_path / "empty")]) == Exit.USAGE
    err = capsys.readouterr().err
    assert "--matrix is not the JSON of `multiarch-harness matrix`" in err
    assert len(err.splitlines()) == 2


def test_a_report_with_causes_merges_with_an_older_one_without(tmp_path: Path) -> None:
    """A finding's cause is optional in report.json: a job's report written before findings
    had one merges with one that names them (issue 37)."""
    cancelled = Finding("build", Kind.ERROR, "the build was cancelled", "run again",
                        cause="build-cancelled")
    new = build_report([result("linux/arm64", Verdict.ERROR, [cancelled])], HOST, "warn")
    old = build_report([MIX[0]], HOST, "warn")
    assert all(f.cause is None for p in old.platforms for f in p.findings)
    write_json(new, tmp_path / "r" / "new" / "report.json")
    write_json(old, tmp_path / "r" / "old" / "report.json")
    assert main(["report", "--report-dir", str(tmp_path / "out"),
                 str(tmp_path / "r")]) == Exit.CANNOT_CHECK
    merged = json.loads((tmp_path / "out" / "report.json").read_text())
    by = {p["platform"]: p for p in merged["platforms"]}
    assert by["linux/arm64"]["findings"] == [cancelled.to_dict()]
    assert by["linux/arm64"]["findings"][0]["cause"] == "build-cancelled"
    assert by[MIX[0].platform]["findings"] == old.to_json()["platforms"][0]["findings"]
