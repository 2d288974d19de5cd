"""``multiarch-harness COMMAND [options]``: the harness as a tool, in any project.

``build`` and ``check`` run preflight, then pytest with the plugin, the built-in checks and
the project's own (``[tool.harness.checks]``, ``--checks DIR``), side by side in xdist
workers; the other commands are the harness's own. Settings come from ``[tool.harness]`` of
the pyproject.toml in the current directory; options override them. The nox sessions of this
repository are thin wrappers around these commands.
"""

from __future__ import annotations

import importlib
import importlib.resources
import os
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from harness.core import sinks
from harness.core.failures.diagnosis import Stage, machine_fault
from harness.core.failures.errors import HarnessError, UsageError
from harness.core.oci import reference
from harness.core.outcomes import Exit
from harness.machine import files

PLUGIN = "multiarch_harness"  # the pytest11 entry point's name
# Plugins a project's test environment often has that a run of the image checks must not
# load: pytest-randomly would undo the longest-first order the scheduler relies on, and
# Hypothesis's plugin imports Hypothesis at every process's end (measured: 1.3 s of CPU in
# each of the five processes of a four-platform run, a second and more of its wall time).
# A user's own checks may still use Hypothesis: only its pytest reporting is left out.
UNWANTED_PLUGINS = ("randomly", "hypothesispytest")
# Options of preflight alone: they go to preflight, not to pytest.
PREFLIGHT_ONLY = ("--no-setup", "--json", "--partial-ok")
USAGE = """usage: multiarch-harness COMMAND [options]

commands:
  build      build the Dockerfile for every platform side by side, check each image, report
  check REF  check a published multi-arch tag (or a local image) by digest, without building
  publish    push each built platform by digest and write one index (--registry, --tag)
  merge      write one index from digest files (--from DIR) or references
  preflight  check (as root on Debian: set up) the engine, builder and emulation per platform
  registry   run a local CNCF distribution registry until Ctrl-C
  matrix     the platforms as a GitHub Actions matrix (JSON), or those of the base's index
  report     one report from the report directories of several runs (a CI matrix's jobs)

`multiarch-harness COMMAND --help` lists a command's options. build and check also take
pytest's options (-k, -x, -n), and --no-preflight to skip preflight.
exit status: 0 passed, 1 an image is wrong, 2 interrupted, 4 bad input, 69 this machine
could not check, 70 a bug of the harness."""


def checks_file() -> Path:
    """The built-in checks, in the installed package: found, not imported (the plugin's
    import takes a second, and pytest, which takes this process's place, imports it again)."""
    return Path(str(importlib.resources.files("harness") / "plugin" / "checks.py"))


def pytest_args(args: list[str], ref: str | None = None) -> list[str]:
    """pytest's command line for a build (or, with ``ref``, a check) in the current project."""
    own = [a for a in args if a not in PREFLIGHT_ONLY and a != "--no-preflight"]
    # Where plugins are not loaded by themselves, name the two that are needed.
    autoload_off = bool(os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"))
    return ["-p", PLUGIN, *(["-p", "xdist"] if autoload_off else []),
            *[arg for name in UNWANTED_PLUGINS for arg in ("-p", f"no:{name}")],
            "--multiarch", f"--rootdir={Path.cwd()}",
            str(checks_file()), "-n", "auto", "-q", "-rfEs",
            *([f"--ref={ref}"] if ref else []), *own]


def run_checks(args: list[str], ref: str | None = None) -> int:
    if "--help" in args or "-h" in args:
        return _pytest_help()
    if "--no-preflight" not in args:
        from harness.commands.preflight import main as preflight

        # What it starts for the run (Podman's service) the run stops (harness.plugin).
        status = preflight(["--partial-ok", *args], keep_services=True)
        if status != Exit.OK:
            from harness.machine import podman

            podman.stop()  # no run follows to stop it
            return status
    # pytest takes this process's place: it imports the plugin itself (an import here first
    # would keep pytest from rewriting its asserts), and signals and the exit status are its.
    # -P: a module of the project named like one of ours must not shadow it.
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-P", "-m", "pytest", *pytest_args(args, ref)])


def _pytest_help() -> int:
    print("multiarch-harness build|check: the options in the `harness` group below, "
          "--no-preflight, and pytest's own\n", flush=True)
    return subprocess.call([sys.executable, "-m", "pytest", "-p", PLUGIN, "--help"])


def _check(rest: list[str]) -> int:
    """``check REF``: the reference is checked first; an empty one (an unset ``$REF`` in CI)
    must never pass without checking anything."""
    if not rest or rest[0].startswith("-"):
        raise UsageError("name what to check: the reference is missing",
                         "multiarch-harness check HOST[:PORT]/REPO:TAG [options], the "
                         "reference first")
    return run_checks(rest[1:], ref=reference.check(rest[0]))


def _lazy(module: str, attr: str = "main") -> Callable[[list[str]], int]:
    """A command's entry point, imported when it runs (so that `--help` stays fast)."""

    def entry(rest: list[str]) -> int:
        status: int = getattr(importlib.import_module(module), attr)(rest)
        return status

    return entry


# Every command, once: its entry point.
COMMANDS: dict[str, Callable[[list[str]], int]] = {
    "build": run_checks, "check": _check,
    "publish": _lazy("harness.commands.publish_cli", "publish_main"),
    "merge": _lazy("harness.commands.publish_cli", "merge_main"),
    "preflight": _lazy("harness.commands.preflight"),
    "registry": _lazy("harness.containers.local_registry"),
    "matrix": _lazy("harness.commands.matrix_cli"), "report": _lazy("harness.commands.report_cli"),
}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    command, rest = (args[0], args[1:]) if args else ("", [])
    if command in ("-h", "--help"):
        print(USAGE)
        return Exit.OK
    entry = COMMANDS.get(command)
    if entry is None:
        print(USAGE, file=sys.stderr)
        print(f"\nbad input: unknown command {sinks.terminal(command, 80)!r}\n  fix: use one "
              "of the commands above" if command else
              "\nbad input: no command\n  fix: name one of the commands above", file=sys.stderr)
        return Exit.USAGE
    return run_command(command, entry, rest)


def run_command(command: str, entry: Callable[[list[str]], int], rest: list[str]) -> int:
    """The one place a command's outcome becomes its status: a :class:`HarnessError` is its
    kind's status with one line and its fix; Ctrl-C is 2; anything else is a bug of the
    harness, 70, its traceback kept in a log."""
    try:
        return entry(rest)
    except HarnessError as exc:
        what = "bad input: " if exc.exit_status == Exit.USAGE else ""
        print(f"{command}: {what}{sinks.terminal(exc.message)}"
              + (f"\n  fix: {sinks.terminal(exc.fix)}" if exc.fix else ""), file=sys.stderr)
        return int(exc.exit_status)
    except KeyboardInterrupt:
        print(f"{command}: interrupted", file=sys.stderr)
        return int(Exit.INTERRUPTED)
    except Exception as exc:
        stage = Stage.PUBLISH if command in ("publish", "merge") else Stage.CHECK
        fault = machine_fault(stage, str(exc))
        if fault is not None:  # this machine's, not the harness's: say so, and retry
            print(f"{command}: {sinks.terminal(fault.message)}\n  fix: "
                  f"{sinks.terminal(fault.fix)}", file=sys.stderr)
            return int(Exit.CANNOT_CHECK)
        log = crash_log(command, "".join(traceback.format_exception(exc)))
        print(f"{command}: the harness failed: {type(exc).__name__}: "
              f"{sinks.terminal(str(exc), 500)}\n  fix: this is a bug of the harness: report "
              f"it with {log}", file=sys.stderr)
        return int(Exit.SOFTWARE)


def crash_log(command: str, text: str) -> Path:
    """Where a traceback goes: the harness's cache, one file per crash."""
    directory = files.own_dir(files.cache_dir("crashes"))
    path = directory / f"{command}-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.log"
    files.write_atomic(path, sinks.redact(text))
    return path

if __name__ == "__main__":
    sys.exit(main())
