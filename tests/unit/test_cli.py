"""The command line: what `multiarch-harness build` hands pytest, and bad commands."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.commands import cli
from harness.core.errors import EXIT_USAGE


def test_build_runs_the_packaged_checks_with_the_plugin_in_the_current_project(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    args = cli.pytest_args(["--no-preflight", "--no-setup", "-k", "uname", "--platform=linux/386"])
    assert args[:2] == ["-p", "multiarch_harness"] and "--multiarch" in args
    assert f"--rootdir={tmp_path}" in args
    checks = Path(args[args.index("--multiarch") + 2])
    assert checks.name == "checks.py" and "def test_builds" in checks.read_text()
    assert args[-3:] == ["-k", "uname", "--platform=linux/386"]  # given options come last
    assert "--no-preflight" not in args and "--no-setup" not in args  # not pytest's
    assert "xdist" not in args  # loaded by its entry point


def test_with_plugin_autoload_off_the_needed_plugins_are_named(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    args = cli.pytest_args([], ref="127.0.0.1:5000/app:1")
    assert args[:4] == ["-p", "multiarch_harness", "-p", "xdist"]
    assert "--ref=127.0.0.1:5000/app:1" in args


@pytest.mark.parametrize("argv", [[], ["biuld"], ["check"], ["check", "--platform=x"]])
def test_a_bad_command_is_a_usage_error(argv: list[str],
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(argv) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "bad input" in err and "fix:" in err
