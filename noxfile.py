"""Entry points: build and check the multi-arch image, test the harness, benchmark it.

Options after ``--`` pass through to the harness (see README); defaults are in
``[tool.harness]`` of pyproject.toml. ``nox -s build`` exits 0 when every platform passed
(quirks warn), 1 when an image is wrong, 69 when the machine could not check, 4 on bad input.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shlex
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nox
import nox.command
import nox.logger

nox.options.sessions = ["build"]
nox.options.reuse_venv = "yes"  # a warm run should not reinstall the harness
nox.options.default_venv_backend = "venv"

PYTHON = "3.11"
# The harness's statuses (README, "exit status"); anything else from a harness command is the
# harness's own failure (70). The harness's own tests keep pytest's status, but 5 (no test ran)
# becomes 1: a CI run that tested nothing must not pass.
PASSED_THROUGH = (0, 1, 2, 4, 69, 70)
SOFTWARE = 70
# The tests of each package of the harness (fast first), then the engine's integration tests.
PACKAGE_TESTS = ["tests/core", "tests/machine", "tests/containers", "tests/distribution",
                 "tests/plugin", "tests/commands", "tests/devtools"]
# And the tests of the repository itself (the layers, the noxfile, the CI templates): every
# tests/test_*.py, so that a new one cannot be left out of CI.
OWN_TESTS = sorted(f"tests/{p.name}" for p in (Path(__file__).parent / "tests").glob("test_*.py"))
# The workers `nox -s tests` runs the tests on, and the mark of those it runs after, alone.
TEST_WORKERS = 2
SERIAL = "serial"


def _load_sinks() -> Any:
    """harness.core.sinks, read from this checkout: nox's own interpreter has no harness
    installed, and that module is pure (the standard library only), so its one redaction
    rule serves nox's lines too, instead of a copy that could drift from it."""
    where = Path(__file__).parent / "harness" / "core" / "sinks.py"
    spec = importlib.util.spec_from_file_location("_harness_sinks", where)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


redact: Callable[[str], str] = _load_sinks().redact


class _Redacting(logging.Filter):
    """Every line nox logs, redacted: run(log=False) drops nox's echo of a command, but not
    its "Command … failed with exit code N" (nox/command.py logs that whatever `log` says),
    and a password in an argument (`check user:PW@host/app:1`) must not reach the console."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        return True


nox.logger.logger.addFilter(_Redacting())


class _OwnStatusLine(logging.Filter):
    """While the wrapper runs its command: nox's "Command … failed with exit code N" left
    out, since the wrapper says the status itself (and the command line was shown once)."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        return not (text.startswith("Command ") and " failed with exit code " in text)


def _install(session: nox.Session, *extras: str) -> None:
    target = f".[{','.join(extras)}]" if extras else "."
    session.install("-q", "-e", target)


def _harness(session: nox.Session, *args: str) -> None:
    """``multiarch-harness ARGS`` (harness.commands.cli): each session is a thin wrapper of it."""
    _run_keeping_status(session, "multiarch-harness", *args)


INTERRUPTED = 2
# After Ctrl-C or a cancel, the harness stops its builds, removes its containers and writes its
# reports: give it that time (nox's own default is 0.3 s, then SIGTERM, then SIGKILL).
STOP_SECONDS = 120.0


def _on_cancel(signum: int, _frame: object) -> None:
    """SIGTERM/SIGHUP to nox alone (a CI cancel): pass it on to the running command, which
    stops as on Ctrl-C, and wait for it as on Ctrl-C. (harness.machine.interrupts does the same
    inside the harness; the noxfile cannot import the harness.)"""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            if ppid == os.getpid():
                os.kill(int(stat.parent.name), signum)
        except (OSError, IndexError, ValueError):
            continue
    raise KeyboardInterrupt


def _run_keeping_status(session: nox.Session, *args: str, own_tests: bool = False) -> None:
    """Run a command and leave nox with the command's own exit status, not just 1; an
    interrupted run exits 2, as pytest does, once the command has written its reports.
    While it runs (and only then: not for `nox -l`), SIGTERM and SIGHUP are passed on."""
    cancels = (signal.SIGTERM, signal.SIGHUP)
    before = [signal.signal(signum, _on_cancel) for signum in cancels]
    own_status = _OwnStatusLine()
    nox.logger.logger.addFilter(own_status)
    try:
        # The command line once, redacted, as the user can copy it; nox's own echo would
        # show it as given (log=False).
        session.log(redact(shlex.join(args)))
        session.run(*args, interrupt_timeout=STOP_SECONDS, terminate_timeout=30.0, log=False)
    except KeyboardInterrupt:
        session.log(f"interrupted: exit status {INTERRUPTED}; the reports say what was done")
        raise SystemExit(INTERRUPTED) from None
    except nox.command.CommandFailed as exc:
        code = exc.return_code
        if own_tests:
            code = 1 if code == 5 else code
        elif code not in PASSED_THROUGH:
            code = SOFTWARE
        session.log(f"exit status {code}: see the verdicts above and the reports")
        raise SystemExit(code) from exc
    finally:
        nox.logger.logger.removeFilter(own_status)
        for signum, handler in zip(cancels, before, strict=True):
            signal.signal(signum, handler)


@nox.session(python=PYTHON)
def preflight(session: nox.Session) -> None:
    """Check the engine, builder and emulation for each platform (sets them up as root)."""
    _install(session)
    _harness(session, "preflight", *session.posargs)


@nox.session(python=PYTHON)
def build(session: nox.Session) -> None:
    """Build the image for every platform side by side, probe each under QEMU, report."""
    _install(session)
    _harness(session, "build", *session.posargs)


@nox.session(python=PYTHON)
def publish(session: nox.Session) -> None:
    """Push each built platform by digest to --registry HOST/REPO and tag one index (--tag)."""
    _install(session)
    _harness(session, "publish", *session.posargs)


@nox.session(python=PYTHON)
def merge(session: nox.Session) -> None:
    """Write one index under --tag from digest files (--from DIR) or references."""
    _install(session)
    _harness(session, "merge", *session.posargs)


@nox.session(python=PYTHON)
def registry(session: nox.Session) -> None:
    """A CNCF distribution registry on 127.0.0.1 (--port, default 5000) until Ctrl-C."""
    _install(session)
    _harness(session, "registry", *session.posargs)


@nox.session(python=PYTHON)
def matrix(session: nox.Session) -> None:
    """Print the platforms as a GitHub Actions matrix (JSON; --platforms-from-base [REF])."""
    _install(session)
    _harness(session, "matrix", *session.posargs)


@nox.session(python=PYTHON)
def report(session: nox.Session) -> None:
    """Merge the report directories of several runs into one: `-- DIR [DIR...]`."""
    _install(session)
    _harness(session, "report", *session.posargs)


@nox.session(python=PYTHON)
def check(session: nox.Session) -> None:
    """Probe a published multi-arch tag (or a local image) by digest: `-- REF [options]`."""
    _install(session)
    _harness(session, "check", *session.posargs)


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The harness's own tests: unit, engine integration, known-bad images, end to end."""
    _install(session, "dev")
    _harness(session, "preflight",
             "--no-setup" if "--no-setup" in session.posargs else "--partial-ok")
    args = [a for a in session.posargs if a != "--no-setup"]
    # --durations: the slowest tests in every CI log, to keep the run under its budget
    if args:
        _run_keeping_status(session, "pytest", "-ra", "--durations=30", *args, own_tests=True)
        return
    # Most engine tests wait (on builds under QEMU, engines, deadlines) more than they
    # compute: on workers, each test file one unit of work, then the tests that must run
    # with nothing beside them (tests/parallel.py says which, and why).
    # (The `machine` tests take apt's lock, and one asserts nobody else holds it.)
    everything = [*PACKAGE_TESTS, *OWN_TESTS, "tests/engine"]
    _run_keeping_status(session, "pytest", "-ra", "--durations=30", "-n", str(TEST_WORKERS),
                        "-m", f"not {SERIAL} and not machine", *everything, own_tests=True)
    _run_keeping_status(session, "pytest", "-ra", "--durations=30", "-m",
                        f"{SERIAL} or machine", *everything, own_tests=True)


@nox.session(python=PYTHON)
def unit(session: nox.Session) -> None:
    """The harness's unit tests alone: no engine, no root, no preflight (a minute or so)."""
    _install(session, "dev")
    _run_keeping_status(session, "pytest", "-ra", "-m", "not engine and not machine",
                        *(session.posargs or [*PACKAGE_TESTS, *OWN_TESTS]),
                        own_tests=True)


def _build_docs(session: nox.Session) -> None:
    """The reference pages generated from the code, then the site, strict (a broken link or
    a page left out of the navigation fails it; nothing is fetched)."""
    session.run("python", "-m", "devtools.docs", "--out", "docs/reference")
    session.run("mkdocs", "build", "--strict", "--quiet", env={"NO_MKDOCS_2_WARNING": "1"})


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """The documentation site, built in strict mode into reports/site."""
    _install(session, "docs")
    _build_docs(session)


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """ruff and mypy over the harness, the tests and this file; the GitHub workflows and the
    GitLab template; the documentation site, strict."""
    _install(session, "dev", "docs")
    session.run("ruff", "check", "harness", "devtools", "tests", "noxfile.py", "conftest.py")
    session.run("mypy", *session.posargs)
    session.run("pytest", "-q", "-p", "no:cacheprovider", "tests/test_layers.py")
    # Every test module imports (the engine tests too, which the unit run never collects): a
    # module that no longer imports is an error here, in seconds, not after the engine's half
    # hour.
    session.run("pytest", "-q", "-p", "no:cacheprovider", "--collect-only", "tests")
    # The reusable workflow and its caller: GitHub's schema (vendored in check-jsonschema,
    # so offline), and shellcheck on every run: script as GitHub runs it.
    workflows = [str(p) for p in sorted(Path(".github/workflows").glob("*.yml"))]
    session.run("check-jsonschema", "--builtin-schema", "vendor.github-workflows", *workflows)
    session.run("python", "-m", "tests.workflow", "shellcheck", *workflows)
    # The GitLab template: GitLab's published CI schema (vendored there too); its hidden
    # jobs, merged into the jobs that extend them, and shellcheck: tests/test_ci_templates.py.
    templates = [str(p) for p in sorted(Path("ci/gitlab").glob("*.yml"))]
    session.run("check-jsonschema", "--builtin-schema", "vendor.gitlab-ci", *templates)
    session.run("pytest", "-q", "-p", "no:cacheprovider", "tests/test_ci_templates.py")
    _build_docs(session)


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Measure side-by-side against one-at-a-time builds, warm reruns and probe times
    (developer tooling: devtools/bench.py, from this checkout, not the installed command)."""
    _install(session)
    _harness(session, "preflight", "--partial-ok", *session.posargs)
    _run_keeping_status(session, "python", "-m", "devtools.bench", *session.posargs)
