"""Results from every worker, gathered by the controlling process into the reports.

A worker hands its platforms' results over in ``workeroutput`` when it finishes; the controller
(or the single process, without xdist) merges them, fills in a result for any platform that
never reported (a crashed worker, Ctrl-C), writes report.json and report.md, prints the table
and sets the exit status from the verdicts.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Generator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from harness.containers.build import resolve
from harness.containers.stages import BUILT_SUFFIX, RESULT_SUFFIX, saved_results
from harness.core.buildspec import bake
from harness.core.declared import sameness
from harness.core.declared.usercheck import PREFIX
from harness.core.judging import verdicts
from harness.core.outcomes import Exit
from harness.core.platforms import unit
from harness.core.reporting.render import render_console
from harness.core.reporting.report import Host, Report, build_report
from harness.core.results.platform_result import PlatformResult
from harness.machine import files, interrupts
from harness.machine.progress import LiveBoard, ProgressPrinter
from harness.machine.reports import write_reports
from harness.plugin import head_start, junit
from harness.plugin.scheduling import record_durations
from harness.plugin.state import STATE, is_worker

RESULTS_KEY = "harness_results"
HOST_KEY = "harness_host"
_report = pytest.StashKey[Report]()
_worker_host = pytest.StashKey[Host]()  # the host a worker saw (the engine's)
_printer = pytest.StashKey[ProgressPrinter | LiveBoard]()
_started = pytest.StashKey[float]()


def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    if is_worker(config):
        return
    config.stash[_started] = time.time()
    cfg = config.stash[STATE].cfg
    status_dir = files.own_dir(cfg.report_dir / "status")
    for old in [*status_dir.glob("*.json"), *status_dir.glob(f"*{RESULT_SUFFIX}"),
                *status_dir.glob(f"*{BUILT_SUFFIX}")]:
        old.unlink()  # a result kept from an earlier run must never count for this one
    tr = config.pluginmanager.get_plugin("terminalreporter")
    if tr is not None and cfg.bake_targets:  # one line: what the run builds and checks
        tr.write_line(unit.listing(cfg.units))
    for each in cfg.bake_targets or (cfg,):
        said = bake.notice(each.bake_target or "", each.bake_notes)
        if tr is not None and said:  # what of a bake target the run does not apply: never silent
            tr.write_line(said)
    if tr is not None:
        printer: ProgressPrinter | LiveBoard
        if live(config):
            printer = LiveBoard(status_dir, [u.name for u in cfg.units], sys.stdout,
                                before=_end_line(tr))
        else:
            printer = ProgressPrinter(status_dir, _line_writer(tr))
        printer.start()
        config.stash[_printer] = printer
        if isinstance(printer, LiveBoard):
            config.pluginmanager.register(_FirstTest(printer), "harness-live-ready")
    # Before xdist brings its workers up (its own sessionstart comes last).
    head_start.begin(config)


class StartGuard:
    """A cancel during pytest's session start (the controller's builds already run, xdist's
    workers are still coming up: seconds) ends pytest without its session finish, so without
    a report or junit.xml, and with the builds left to stop by themselves. The finish is run
    here then, as for any interrupted run, before the interruption goes on."""

    @pytest.hookimpl(wrapper=True)
    def pytest_sessionstart(self, session: pytest.Session) -> Generator[None, None, None]:
        try:
            return (yield)
        except KeyboardInterrupt:
            hook = session.config.hook  # as pytest's own wrap_session would, in its order
            hook.pytest_keyboard_interrupt(excinfo=pytest.ExceptionInfo.from_current())
            session.exitstatus = Exit.INTERRUPTED
            hook.pytest_sessionfinish(session=session, exitstatus=Exit.INTERRUPTED)
            raise


class _FirstTest:
    """The live view takes the screen once the first test starts: pytest and xdist have then
    written their own lines (xdist rewrites "bringing up nodes" in place until its workers have
    collected, and the builds already run by then, harness.plugin.head_start)."""

    def __init__(self, board: LiveBoard) -> None:
        self.board = board

    def pytest_runtest_logstart(self) -> None:
        self.board.ready()


def live(config: pytest.Config) -> bool:
    """One line per platform updated in place: with --progress tty, or auto in a terminal."""
    progress = config.stash[STATE].cfg.progress
    if progress == "auto":
        return sys.stdout.isatty() and os.environ.get("TERM", "dumb") != "dumb"
    return bool(progress == "tty")


@pytest.hookimpl(tryfirst=True)
def pytest_report_teststatus(report: pytest.TestReport,
                             config: pytest.Config) -> tuple[str, str, str] | None:
    """While the live view owns the screen, pytest prints no progress letters; the outcome
    categories (and so the summary's counts) stay pytest's."""
    if is_worker(config) or not isinstance(config.stash.get(_printer, None), LiveBoard):
        return None
    if report.when in ("setup", "teardown") and report.passed:
        return "", "", ""
    failed_outside_call = report.when in ("collect", "setup", "teardown") and report.failed
    outcome = "error" if failed_outside_call else str(report.outcome)
    return outcome, "", outcome.upper()  # the word still heads the short summary's lines


def _end_line(tr: Any) -> Callable[[], None]:
    def end() -> None:
        if tr._tw.width_of_current_line:  # "bringing up nodes..." has no newline of its own
            tr._tw.line()

    return end


def _line_writer(tr: Any) -> Callable[[str], None]:
    def write(line: str) -> None:
        if tr._tw.width_of_current_line:  # after pytest's progress dots: start a fresh line
            tr._tw.line()
        tr.write_line(line)

    return write


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """xdist: a worker finished; take its results."""
    output = getattr(node, "workeroutput", {}) or {}
    state = node.config.stash[STATE]
    for data in json.loads(output.get(RESULTS_KEY, "[]")):
        result = PlatformResult.from_dict(data)
        state.results[result.unit] = result
    if HOST_KEY in output:
        node.config.stash[_worker_host] = json.loads(output[HOST_KEY])


def _host(config: pytest.Config) -> Host:
    state = config.stash[STATE]
    pipeline = state.pipeline
    try:
        facts = pipeline.facts.to_dict()
    except Exception:  # the engine may be the very thing that is missing
        facts = {}
    return Host(arch=facts.get("arch"), engine_version=facts.get("version"),
                api_version=facts.get("api_version"), buildx=facts.get("buildx"),
                builder=resolve(state.cfg.builder, facts.get("buildx")))


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    state = config.stash[STATE]
    if is_worker(config):
        config.workeroutput[RESULTS_KEY] = json.dumps(  # type: ignore[attr-defined]
            [r.to_dict() for p in state.pipelines for r in p.results.values()])
        if any(p.results for p in state.pipelines):
            config.workeroutput[HOST_KEY] = json.dumps(_host(config))  # type: ignore[attr-defined]
        return
    # The controller's builds end first: one still running is one no worker will check (the
    # run was interrupted, or stopped early), so it is stopped, and kept as interrupted.
    head_start.end(config)
    printer = config.stash.get(_printer, None)
    if printer:
        printer.stop()
    if exitstatus == Exit.USAGE or config.option.collectonly:
        return
    # Interrupted: pytest says so, or this process was signalled (a cancel whose
    # KeyboardInterrupt pytest did not see as its own), whatever the checks came to.
    interrupted = exitstatus == Exit.INTERRUPTED or interrupts.signalled()
    for pipeline in state.pipelines:  # without xdist the controller built them
        state.results.update({r.unit: r for r in pipeline.results.values()})
    # What workers finished but could not hand over (Ctrl-C stops them first) is kept.
    for name, kept in saved_results(state.cfg.report_dir, state.pipeline.run).items():
        state.results.setdefault(name, kept)
    cut_short = []
    for each in state.cfg.units:
        came_back = each.name in state.results
        so_far = state.results.setdefault(each.name, PlatformResult(each.platform.name,
                                                                    target=each.target))
        if verdicts.unfinished(so_far, interrupted, came_back):
            cut_short.append(each.name)
    tr = config.pluginmanager.get_plugin("terminalreporter")
    if cut_short and tr is not None:
        # pytest's last line counts the tests that ran ("1 passed": the build's): the
        # platforms cut short are counted there too, as junit.xml's interrupted[PLATFORM].
        tr.stats.setdefault("interrupted", []).extend(cut_short)
        tr._known_types = None  # pytest keeps the line's words from its last test: asked anew
    host = config.stash.get(_worker_host, None) or _host(config)
    index = state.index
    if index is not None and index.attested:  # what its publisher saw, against this check
        index.findings += verdicts.attested(index.attested, state.results)
    run = (config.stash.get(_started, time.time()), time.time())
    report = build_report(list(state.results.values()), host, state.cfg.quirk_policy,
                          index.to_report() if index else None, run, state.pipeline.run)
    # report.json says what the process exits with, whatever decided it.
    session.exitstatus = run_status(Exit.INTERRUPTED if interrupted else int(exitstatus),
                                    report.exit_status)
    report = replace(report, exit_status=session.exitstatus)
    report_dir = state.cfg.report_dir
    write_reports(report, report_dir)
    xml = config.option.xmlpath
    if cut_short and xml:
        junit.add_errors(Path(xml), {name: next(
            (f.message for f in state.results[name].findings if f.interruption),
            "interrupted") for name in cut_short})
    if xml:
        junit.add_failures(Path(xml), _odd_answers(report))
    config.stash[_report] = report
    for target in dict.fromkeys(r.target for r in state.results.values()):
        record_durations(config, state.cfg.for_target(target), {
            r.platform: r.seconds for r in state.results.values() if r.target == target})


def _odd_answers(report: Report) -> dict[str, list[str]]:
    """The `same = true` checks the platforms answered differently: check -> messages."""
    found: dict[str, list[str]] = {}
    for entry in report.platforms:
        for f in entry.findings:
            if f.cause == sameness.CAUSE:  # by its cause: a fix may read alike
                found.setdefault(f.source.removeprefix(PREFIX), []).append(f.message)
    return found


def run_status(pytest_status: int, verdict_status: int) -> int:
    """The process's status: the verdicts decide, except for an interrupted run (2) and bad
    input (4). What pytest says beyond the verdicts is the harness's own failure: its
    internal error (3), or a check that failed although every verdict passed, exit 70; no test
    selected (5) is a selection that matched nothing, exit 4."""
    if pytest_status in (Exit.INTERRUPTED, Exit.USAGE):
        return pytest_status
    if pytest_status == pytest.ExitCode.NO_TESTS_COLLECTED:
        return Exit.USAGE
    if verdict_status != Exit.OK:
        return verdict_status
    if pytest_status != pytest.ExitCode.OK:
        return Exit.SOFTWARE
    return Exit.OK


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    report = config.stash.get(_report, None)
    if report is None:
        return
    terminalreporter.section("multi-arch verdicts")
    for line in render_console(report):
        terminalreporter.write_line(line)
    where = config.stash[STATE].cfg.report_dir
    terminalreporter.write_line(f"reports: {where}/report.json, report.md, junit.xml; "
                                f"logs: {where}/logs/")
