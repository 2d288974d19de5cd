"""The command line: what `multiarch-harness build` hands pytest, and bad commands."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from harness.commands import cli
from harness.core.outcomes import Exit
from harness.core.settings import options
from harness.plugin import fixtures


def test_build_runs_the_packaged_checks_with_the_plugin_in_the_current_project(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    args = cli.pytest_args(["--no-preflight", "--no-setup", "-k", "uname", "--platform=linux/386"])
    assert args[:2] == ["-p", "multiarch_harness"] and "--multiarch" in args
    assert f"--rootdir={tmp_path}" in args
    checks = Path(args[args.index("--multiarch") + 2])
    assert checks.name == "checks.py" and "def test_builds" in checks.read_text()
    assert checks == fixtures.BUILTIN  # the file the plugin tells its own checks by
    assert args[-3:] == ["-k", "uname", "--platform=linux/386"]  # given options come last
    assert "--no-preflight" not in args and "--no-setup" not in args  # not pytest's
    assert "xdist" not in args  # loaded by its entry point
    # Plugins that would reorder the checks or slow every process are left out.
    blocked = {args[i + 1] for i, a in enumerate(args[:-1]) if a == "-p"}
    assert {"no:randomly", "no:hypothesispytest"} <= blocked


def test_the_command_line_hands_over_to_pytest_without_importing_the_plugin() -> None:
    # pytest takes the command's process and imports the plugin itself: an import before
    # that is a second (measured 1.1 s) before every run's builds start.
    code = ("import sys; from harness.commands import cli; cli.pytest_args([]); "
            "print(sorted(m for m in sys.modules if m.startswith('harness.plugin')))")
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True).stdout
    assert shown.strip() == "[]"


def test_with_plugin_autoload_off_the_needed_plugins_are_named(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    args = cli.pytest_args([], ref="127.0.0.1:5000/app:1")
    assert args[:4] == ["-p", "multiarch_harness", "-p", "xdist"]
    assert "--ref=127.0.0.1:5000/app:1" in args


@pytest.mark.parametrize("argv", [[], ["biuld"], ["check"], ["check", "--platform=x"]])
def test_a_bad_command_is_a_usage_error(argv: list[str],
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(argv) == Exit.USAGE
    err = capsys.readouterr().err
    assert "bad input" in err and "fix:" in err


@pytest.mark.parametrize("ref", ["", "   ", "UPPER/Case:tag", "a@sha256:zzz", "ref;touch x",
                                 "user:PW@host/repo:t"])
def test_check_refuses_an_empty_or_malformed_reference_before_any_work(
        ref: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """An unset $REF must not build the Dockerfile and pass; a malformed one is one line."""
    monkeypatch.chdir(tmp_path)
    assert cli.main(["check", ref, "--no-preflight"]) == Exit.USAGE
    err = capsys.readouterr().err
    assert err.startswith("check: bad input: ") and len(err.splitlines()) == 2
    assert "PW" not in err and not (tmp_path / "reports").exists()
    assert not (tmp_path / "x").exists()


def test_a_command_that_fails_unexpectedly_is_70_with_its_traceback_in_a_log(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    def boom(_args: list[str]) -> int:
        raise KeyError("tcp://u:secret@h:1")

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setitem(cli.COMMANDS, "matrix", boom)
    assert cli.main(["matrix"]) == Exit.SOFTWARE
    err = capsys.readouterr().err
    assert err.startswith("matrix: the harness failed: KeyError") and "secret" not in err
    [log] = (tmp_path / "harness" / "crashes").glob("matrix-*.log")
    assert str(log) in err and "Traceback" in log.read_text()
    assert "secret" not in log.read_text()


@pytest.mark.parametrize("tool", ["bench", "docs"])
def test_the_developer_tools_are_no_commands_of_the_product(
        tool: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The bench and the docs' generated pages are this repository's (``python -m
    devtools.bench``, run by nox), not a user's: `--help` does not list them, and naming one
    is an unknown command, exit 4."""
    assert cli.main(["--help"]) == Exit.OK
    listed = capsys.readouterr().out.split("commands:")[1].split("\n\n")[0]
    assert tool not in {line.split()[0] for line in listed.strip().splitlines()}
    assert tool not in cli.COMMANDS
    assert cli.main([tool]) == Exit.USAGE
    assert f"unknown command {tool!r}" in capsys.readouterr().err


def test_every_command_goes_through_the_one_wrapper(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = []
    monkeypatch.setattr(cli, "run_command", lambda name, entry, rest: seen.append(name) or 0)
    for name in cli.COMMANDS:
        assert cli.main([name]) == 0
    assert seen == list(cli.COMMANDS)
    assert set(cli.COMMANDS) == {line.split()[0] for line in cli.USAGE.split("commands:")[1]
                                 .split("\n\n")[0].strip().splitlines()}


def test_check_needs_no_dockerfile(tmp_path: Path) -> None:
    """`check REF` builds nothing: in a directory without a Dockerfile (or a context) it goes
    on to the reference (a registry that does not answer here: 69), not "no Dockerfile", 4."""
    run = subprocess.run([sys.executable, "-m", "harness", "check", "127.0.0.1:1/app:1",
                          "--no-preflight", "-n", "0", "--platform=linux/amd64",
                          f"--report-dir={tmp_path / 'reports'}"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    out = run.stdout + run.stderr
    assert "no Dockerfile" not in out and run.returncode == Exit.CANNOT_CHECK, out[-2000:]


def _offers(help_text: str, command: str) -> None:
    """Every option of ``command`` in the options table is in its --help with its declared
    help (argparse wraps it: compared without whitespace), and no other option is."""
    flat = re.sub(r"\s+", "", help_text)
    for o in options.OPTIONS:
        offered = re.search(rf"(?<![\w-]){re.escape(o.flag)}(?![\w-])", help_text) is not None
        assert offered == (command in o.commands), f"{command} {o.flag}"
        if offered:
            assert re.sub(r"\s+", "", o.help) in flat, f"{command} {o.flag}: its help"


@pytest.mark.parametrize("command", sorted(options.ALL - {"build"}))
def test_every_command_offers_the_options_the_table_gives_it(
        command: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Each command's own parser, as the command makes it, is made from the one table."""
    with pytest.raises(SystemExit) as done:
        cli.main([command, "--help"])
    assert done.value.code == 0
    _offers(capsys.readouterr().out, command)


def test_build_offers_the_options_the_table_gives_it() -> None:
    """build and check take theirs as the plugin's pytest options, from the same table."""
    out = subprocess.run([sys.executable, "-m", "pytest", "-p", "multiarch_harness",
                          "-p", "no:hypothesispytest", "--help"],  # a second of CPU less
                         capture_output=True, text=True, check=True).stdout
    _head, group, options_of_ours = out.partition("multi-arch image build and check:")
    assert group, "the plugin's option group is missing"
    _offers(options_of_ours.partition("\n\n")[0], "build")
