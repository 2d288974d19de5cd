"""The harness's own files are written without following links planted in the report
directory (it runs as root)."""

from __future__ import annotations

from pathlib import Path

from harness.core.reporting.report import build_report
from harness.machine import files
from harness.machine.reports import write_reports
from tests.factories import HOST, MIX


def plant(tmp_path: Path) -> tuple[Path, Path]:
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    reports = tmp_path / "reports"
    reports.mkdir()
    return victim, reports


def test_reports_replace_a_link_in_their_place_and_never_write_through_it(
        tmp_path: Path) -> None:
    victim, reports = plant(tmp_path)
    for name in ("report.md", "report.json", "report.html"):
        (reports / name).symlink_to(victim)
    write_reports(build_report(MIX, HOST, "warn"), reports, step_summary=False)
    assert victim.read_text() == "precious\n"
    for name in ("report.md", "report.json", "report.html"):
        assert not (reports / name).is_symlink() and (reports / name).stat().st_size > 100
    assert not list(reports.glob(".*.tmp"))  # no temporary file left behind


def test_logs_and_the_harness_directories_never_follow_a_link(tmp_path: Path) -> None:
    victim, reports = plant(tmp_path)
    (reports / "linux-amd64-probe.log").symlink_to(victim)
    with files.open_log(reports / "linux-amd64-probe.log") as fh:
        fh.write("probe\n")
    (reports / "base.log").symlink_to(victim)
    files.append_log(reports / "base.log", "base\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (reports / "logs").symlink_to(elsewhere)
    files.own_dir(reports / "logs")
    files.write_atomic(reports / "logs" / "x.log", "x")
    assert victim.read_text() == "precious\n" and not list(elsewhere.iterdir())
    assert (reports / "linux-amd64-probe.log").read_text() == "probe\n"
    assert (reports / "logs").is_dir() and not (reports / "logs").is_symlink()
