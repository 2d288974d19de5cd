"""publish and merge refuse bad input with one line and exit 4, before anything is pushed
(no engine or registry is needed to find these)."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from harness.commands import cli
from harness.core.reporting.report import build_report
from harness.core.results.platform_result import ImageInfo
from tests.factories import HOST, result
from tests.helpers import ROOT, held

ENV = {"DOCKER_HOST": "unix:///nonexistent.sock", "PATH": "/usr/bin:/bin"}


@dataclasses.dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def process(*args: str) -> subprocess.CompletedProcess[str]:
    """The command as a user runs it: its own process, with nothing but ENV."""
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=ROOT, text=True,
                          capture_output=True, check=False, env=ENV)


@pytest.fixture
def harness(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
            ) -> Callable[..., Ran]:
    """The command's main() in this process, with what :func:`process` gives it (its
    directory, only ENV in the environment): the same status and output, without a Python
    started and the harness imported for each case (test_the_command_as_a_process_...)."""

    def run(*args: str) -> Ran:
        monkeypatch.chdir(ROOT)
        for name in list(os.environ):
            if name not in ENV and name != "PYTEST_CURRENT_TEST":
                monkeypatch.delenv(name)
        for name, value in ENV.items():
            monkeypatch.setenv(name, value)
        capsys.readouterr()
        try:
            status = cli.main(list(args))
        except SystemExit as exc:  # as the process would end
            status = exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        return Ran(status, out, err)

    return run


@pytest.mark.parametrize(("args", "says"), [
    (["publish", "--registry=ci:s3cret@127.0.0.1:5000/rust", "--tag=1"],
     "--registry carries credentials"),
    (["publish", "--registry=http://127.0.0.1:5000/rust", "--tag=1"], "has a scheme"),
    (["publish", "--registry=127.0.0.1:5000/rust", "--tag=a/b"], "is not a tag"),
    (["publish", "--registry=127.0.0.1:5000/rust", "--tag=v1?x"], "is not a tag"),
    (["publish", "--registry=127.0.0.1:5000/rust"], "no tag to write"),
    (["merge", "--registry=127.0.0.1:5000/a", "--registry=127.0.0.1:5000/b", "--tag=1"],
     "exactly one registry"),
    (["publish", "--registry=127.0.0.1:5000/rust", "--tag=1", "--platform=linux/sparc"],
     "unknown platform"),
    (["merge", "--registry=127.0.0.1:5000/a", "--tag=1", "--nope"], "unrecognized arguments"),
    (["merge", "--registry=127.0.0.1:5000/app", "--tag=1", "--sign=/nonexistent.key"], "--sign"),
    (["merge", "--registry=127.0.0.1:5000/a", "--tag-template=type=nope"],
     "not one the harness writes"),
    (["merge", "--registry=127.0.0.1:5000/a", "--tag=1", "--annotation=manifest:a=b"],
     "give it to publish"),
])
def test_bad_input_is_one_line_and_exit_4(harness: Callable[..., Ran], args: list[str],
                                          says: str) -> None:
    run = harness(*args)
    assert run.returncode == 4, run.stderr
    assert says in run.stderr and "Traceback" not in run.stderr
    assert "s3cret" not in run.stdout + run.stderr  # a password is never echoed


def _built(report_dir: Path, *platforms: str) -> Path:
    """A build's report.json in ``report_dir``, of images that no engine has."""
    results = [result(p, "pass") for p in platforms]
    for n, r in enumerate(results):
        r.image = ImageInfo(f"sha256:{n:064x}", f"harness/web:{r.platform.replace('/', '-')}")
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / "report.json").write_text(json.dumps(build_report(results, HOST, "warn",
                                                                   run=(0.0, 1.0)).to_json()))
    return report_dir


def test_publish_of_a_platform_the_report_has_no_image_of_is_bad_input(
        harness: Callable[..., Ran], tmp_path: Path) -> None:
    """publish takes the images the build's report names: one it does not name is said so,
    before the engine is even asked (here there is none)."""
    reports = _built(tmp_path / "r", "linux/arm64")
    run = harness("publish", "--registry=127.0.0.1:5000/web", "--tag=1", "--no-attest",
                  "--platform=linux/amd64", f"--report-dir={reports}")
    assert run.returncode == 4, run.stderr
    assert f"{reports / 'report.json'} has no linux/amd64 image" in run.stderr
    assert "--platform linux/amd64" in run.stderr and "Traceback" not in run.stderr


def test_publish_into_a_report_dir_a_run_holds_is_refused_in_one_line(
        harness: Callable[..., Ran], tmp_path: Path) -> None:
    reports = _built(tmp_path / "r", "linux/amd64")
    with held(reports) as holder:
        run = harness("publish", "--registry=127.0.0.1:5000/web", "--tag=1",
                      f"--report-dir={reports}")
    assert run.returncode == 4, run.stderr
    [line] = [x for x in run.stderr.splitlines() if "in use" in x]
    assert line.startswith(f"publish: bad input: report directory {reports} is in use by run "
                           f"{holder.pid} (started ")
    assert "pass another --report-dir" in run.stderr and "Traceback" not in run.stderr


def test_the_command_as_a_process_refuses_bad_input_as_its_main_does(
        harness: Callable[..., Ran]) -> None:
    """One case end to end, through `python -m harness`: its status and its words are what
    main() in this process gives, on which the cases above rely."""
    args = ("publish", "--registry=ci:s3cret@127.0.0.1:5000/rust", "--tag=1")
    run, here = process(*args), harness(*args)
    assert (run.returncode, run.stdout, run.stderr) == (here.returncode, here.stdout,
                                                        here.stderr)
    assert run.returncode == 4 and "--registry carries credentials" in run.stderr
    assert "s3cret" not in run.stdout + run.stderr and "Traceback" not in run.stderr


def test_publish_of_several_bake_targets_maps_every_target_before_any_push(
        harness: Callable[..., Ran], tmp_path: Path) -> None:
    """Each target goes into its own index (harness.core.buildspec.destinations): where one
    of them has nowhere to go, that is one line naming it, exit 4, before anything of the
    other is pushed (no engine is even asked: there is none here)."""
    reports = tmp_path / "r"
    reports.mkdir()
    entries = [dataclasses.replace(result("linux/amd64", "pass"), target=t,
                                   image=ImageInfo(id=f"sha256:{c * 64}", tag=f"harness/{t}:x"))
               for t, c in (("app", "a"), ("worker_", "b"))]
    (reports / "report.json").write_text(json.dumps(build_report(
        entries, HOST, "warn", run=(0.0, 1.0)).to_json()))
    run = harness("publish", "--registry=127.0.0.1:5000/web", "--tag=1", "--no-attest",
                  f"--report-dir={reports}")
    assert run.returncode == 4, run.stderr
    assert "Bake target worker_ makes no repository name under 127.0.0.1:5000/web" \
        in run.stderr
    assert "publish takes one target" not in run.stderr and "Traceback" not in run.stderr
