"""`multiarch-harness report`: the reports of a CI matrix's jobs merged, as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.commands.cli import main
from harness.core.errors import EXIT_CANNOT_CHECK, EXIT_IMAGE_WRONG, EXIT_OK, EXIT_USAGE
from harness.core.report import build_report
from harness.machine.reports import write_json
from tests.unit.test_report import HOST, MIX


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
    assert status == EXIT_IMAGE_WRONG  # as one run of the four would say
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
                 str(tmp_path / "r")]) == EXIT_CANNOT_CHECK
    assert main(["report", "--report-dir", str(tmp_path / "o2"), str(tmp_path / "r")]) == EXIT_OK
    (tmp_path / "empty").mkdir()
    assert main(["report", "--matrix", matrix, "--report-dir", str(tmp_path / "o3"),
                 str(tmp_path / "empty")]) == EXIT_CANNOT_CHECK


def test_bad_input_is_one_line_and_exit_4(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    out = ["--report-dir", str(tmp_path / "out")]
    assert main(["report", *out, str(tmp_path / "nowhere")]) == EXIT_USAGE
    (tmp_path / "empty").mkdir()
    assert main(["report", *out, str(tmp_path / "empty")]) == EXIT_USAGE
    assert main(["report", *out, "--matrix", "[1", str(tmp_path / "empty")]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "does not exist" in err and "no report.json in" in err and "--matrix is not" in err
    assert [line.split(":")[0] for line in err.splitlines()] == ["report", "  fix"] * 3
    assert not (tmp_path / "out").exists()  # nothing written
