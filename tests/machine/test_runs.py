"""A run's id and its report directory held for it (harness.machine.runs): real lock files,
held by real processes."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from harness.core.failures.errors import UsageError
from harness.core.outcomes import Exit
from harness.machine import runs
from tests.helpers import FIXTURES, ROOT, TINY, harness_cmd, held


def test_a_second_run_is_refused_in_one_line_naming_the_first(tmp_path: Path) -> None:
    with held(tmp_path) as holder, pytest.raises(UsageError) as refused:
        runs.ReportDirLock(tmp_path).acquire()
    message = refused.value.message
    assert message.startswith(f"report directory {tmp_path} is in use by run {holder.pid} "
                              "(started 20")
    assert "\n" not in message and "--report-dir" in refused.value.fix
    # The holder gone (here killed: the kernel frees its lock), the directory is free again.
    with runs.ReportDirLock(tmp_path):
        data = json.loads((tmp_path / "status" / runs.HOLDER).read_text())
        assert data["pid"] == os.getpid()


def test_one_process_frees_it_for_the_next_run(tmp_path: Path) -> None:
    first = runs.ReportDirLock(tmp_path).acquire()
    first.release()
    with runs.ReportDirLock(tmp_path):
        pass


def test_a_link_planted_as_the_lock_is_replaced_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "precious"
    target.write_text("keep me")
    status = tmp_path / "reports" / "status"
    status.mkdir(parents=True)
    (status / runs.LOCK).symlink_to(target)
    with runs.ReportDirLock(tmp_path / "reports"):
        assert not (status / runs.LOCK).is_symlink()
    assert target.read_text() == "keep me"


@pytest.mark.parametrize("holder", ['{"pid": "x"}', "not json", '{"pid": 1}',
                                    json.dumps({"pid": 2 ** 22 + 7, "started": "now"})])
def test_what_the_holder_file_says_is_data(tmp_path: Path, holder: str) -> None:
    (tmp_path / "status").mkdir()
    (tmp_path / "status" / runs.HOLDER).write_text(holder)
    assert runs.holder(tmp_path) == "another run"  # unreadable, or no such process


def test_an_escape_in_the_holder_file_is_shown_escaped_and_bounded(tmp_path: Path) -> None:
    (tmp_path / "status").mkdir()
    (tmp_path / "status" / runs.HOLDER).write_text(json.dumps(
        {"pid": os.getpid(), "started": "\x1b[2J" + "x" * 500}))
    said = runs.holder(tmp_path)
    assert "\x1b" not in said and len(said) < 80


def test_the_run_id_is_made_after_the_one_given_and_always_a_label_value(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(runs.ENV, raising=False)
    made = runs.run_id()
    assert re.fullmatch(r"[0-9a-f]{16}", made) and made == runs.run_id()  # one per process
    monkeypatch.setenv(runs.ENV, "ci/1234 x;y")
    assert runs.run_id() == f"ci-1234-x-y-{made}" and runs.prefix() == "ci-1234-x-y-"
    assert runs.labels() == {runs.LABEL: f"ci-1234-x-y-{made}"}
    monkeypatch.setenv(runs.ENV, "z" * 200)
    assert runs.run_id() == "z" * 47 + "-" + made and len(runs.run_id()) == 64
    try:
        runs.join("controllers-id")  # a worker takes its controller's
        assert runs.run_id() == "controllers-id"
    finally:
        runs.join("")


def test_two_runs_given_one_id_still_have_their_own(tmp_path: Path) -> None:
    """A CI's jobs of one workflow run share its id: each run's is its own all the same."""
    code = "from harness.machine import runs; print(runs.run_id())"
    ids = {subprocess.run([sys.executable, "-c", code], cwd=ROOT, text=True, check=True,
                          capture_output=True, env={**os.environ, runs.ENV: "4242"}
                          ).stdout.strip() for _ in range(2)}
    assert len(ids) == 2 and all(i.startswith("4242-") for i in ids)


def test_a_build_into_a_report_dir_in_use_refuses_before_any_work(tmp_path: Path) -> None:
    """Two runs with one --report-dir swapped verdicts: the second read the first's status/
    files. Now the second says so in one line, exit 4, and touches nothing there."""
    report_dir = tmp_path / "reports"
    with held(report_dir) as holder:
        (report_dir / "status" / "linux-amd64.built").write_text("{}")  # the holder's
        run = subprocess.run(harness_cmd("--platform=linux/amd64",
                                         f"--dockerfile={FIXTURES / 'tiny' / 'Dockerfile'}",
                                         f"--build-arg=BASE_IMAGE={TINY}",
                                         f"--report-dir={report_dir}", "--require="),
                             cwd=ROOT, capture_output=True, text=True, timeout=120,
                             check=False)
        assert (report_dir / "status" / "linux-amd64.built").read_text() == "{}"
    assert run.returncode == Exit.USAGE, run.stdout + run.stderr
    said = [line for line in (run.stdout + run.stderr).splitlines()
            if "is in use" in line]
    assert said == [f"ERROR: report directory {report_dir} is in use by run {holder.pid} "
                    f"(started {said[0].split('(started ')[1]}"]
    assert "pass another --report-dir" in run.stdout + run.stderr
    assert not (report_dir / "report.json").exists()


def test_a_killed_run_leaves_the_directory_free(tmp_path: Path) -> None:
    with held(tmp_path) as holder:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
        with runs.ReportDirLock(tmp_path):
            pass
