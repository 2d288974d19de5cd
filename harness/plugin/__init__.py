"""The pytest plugin behind ``multiarch-harness build`` and ``check`` (and the nox sessions).

Installed with the package, it is registered through the ``pytest11`` entry point
(``multiarch_harness``) and stays inert, adding only its options, until ``--multiarch`` is
given: the harness's command line gives it, with the built-in checks (``checks.py``) and the
user's ``--checks`` directories to collect.

With ``--ref REF`` it checks a published tag or a local image instead of building: the
controller resolves the registry index once and hands it to the workers.

Split by role, as pytest-xdist is: ``options`` (command line and pyproject), ``scheduling``
(parametrisation, grouping, order, worker count), ``head_start`` (the controller's builds,
started before the workers are up), ``fixtures`` (the worker's build and probe fixtures),
``results`` (gathering, reports and exit status in the controller).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.containers import ssh
from harness.containers.pipeline import Pipeline
from harness.containers.pull import local_platform
from harness.core.failures.errors import HarnessError, UsageError
from harness.core.oci import reference
from harness.core.oci.reference import is_registry_ref
from harness.core.results.finding import Finding
from harness.distribution.check_ref import IndexCheck, resolve
from harness.machine import files, interrupts, podman, runs
from harness.machine.config import HarnessConfig
from harness.plugin import fixtures, head_start, results, scheduling
from harness.plugin import pytest_options as options
from harness.plugin.state import STATE, HarnessState, is_worker

INDEX_KEY = "harness_index"
RUN_KEY = "harness_run"  # workerinput: the controller's run id (harness.machine.runs)
_lock = pytest.StashKey[runs.ReportDirLock]()


def pytest_addoption(parser: pytest.Parser) -> None:
    options.add(parser)


def active(config: pytest.Config) -> bool:
    return bool(config.getoption("harness_active", False))


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    if not active(config):
        return
    interrupts.install()  # a CI cancel (SIGTERM) stops the run as Ctrl-C does
    scheduling.yield_to_builds(config)
    cfg = options.load(config)
    for directory in map(str, cfg.check_dirs):  # the user's own checks, collected too
        if directory not in config.args:
            config.args.append(directory)
    if is_worker(config):
        runs.join(config.workerinput.get(RUN_KEY, ""))  # type: ignore[attr-defined]
    else:
        # One run per report directory, before any work: a second run sharing it would read
        # this one's status/ files, and report its verdicts.
        try:
            config.stash[_lock] = runs.ReportDirLock(cfg.report_dir).acquire()
        except UsageError as exc:
            raise pytest.UsageError(str(exc)) from exc
    index = _resolve_index(config, cfg) if cfg.ref else None
    # One id for the whole run, the same in every worker: the build slots' "asked" marks,
    # the containers' label, report.json.
    state = HarnessState(cfg, Pipeline(cfg, index.entries if index else None,
                                       run=runs.run_id()), index)
    config.stash[STATE] = state
    if cfg.ref and not is_registry_ref(cfg.ref):
        try:
            cfg.platforms = [local_platform(state.pipeline.client, cfg.ref)]
        except HarnessError as exc:
            raise pytest.UsageError(str(exc)) from exc
    if config.option.xmlpath is None and not hasattr(config, "workerinput"):
        # JUnit XML belongs with the other reports of the run.
        config.option.xmlpath = str(cfg.report_dir / "junit.xml")
    if config.option.xmlpath and not hasattr(config, "workerinput"):
        files.unlink_link(Path(config.option.xmlpath))  # pytest's open() would follow it
    for role in (scheduling, fixtures, results):
        config.pluginmanager.register(role, f"harness-{role.__name__.rsplit('.', 1)[-1]}")
    if not is_worker(config):
        config.pluginmanager.register(results.StartGuard(), "harness-start-guard")


def _resolve_index(config: pytest.Config, cfg: HarnessConfig) -> IndexCheck | None:
    """With --ref to a registry: its index (which platforms it has, their manifest
    digests), asked once by the controller and handed to the workers."""
    assert cfg.ref is not None
    if is_worker(config):
        data = json.loads(config.workerinput.get(INDEX_KEY, "null"))  # type: ignore[attr-defined]
        return IndexCheck.from_dict(data) if data else None
    try:
        reference.check(cfg.ref)
    except UsageError as exc:
        raise pytest.UsageError(str(exc)) from exc
    if not is_registry_ref(cfg.ref):
        return None
    try:
        return resolve(cfg.ref, cfg.index_platforms or cfg.platforms,
                       insecure=cfg.insecure_registry)
    except UsageError as exc:  # nothing published by that name: bad input, before work
        raise pytest.UsageError(str(exc)) from exc
    except HarnessError as exc:
        return IndexCheck(cfg.ref, findings=[Finding("index", exc.kind, exc.message, exc.fix,
                                                     cause=exc.cause or None)])


@pytest.hookimpl(optionalhook=True, tryfirst=True)  # before xdist's own (a CPU count)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """``-n auto``: see scheduling.workers_for. Here, not in scheduling: xdist asks before
    pytest_configure, where the roles are registered (from there, it was never asked and
    gave one worker per core)."""
    if not active(config):
        return None
    try:
        return scheduling.workers_for(len(options.load(config).units))
    except Exception:  # bad input is reported by pytest_configure, with its fix
        return None


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist: hand each worker the resolved index, so the registry is asked once, and whether
    the controller builds (harness.plugin.head_start)."""
    state = node.config.stash.get(STATE, None)
    if state is None:
        return
    head_start.configure_node(node)
    node.workerinput[RUN_KEY] = state.pipeline.run
    if state.index is not None:
        node.workerinput[INDEX_KEY] = json.dumps(state.index.to_dict())


def pytest_unconfigure(config: pytest.Config) -> None:
    """The ssh tunnels this process opened (ssh:// engines) end with it; the report directory
    is free for the next run."""
    if active(config):
        ssh.close_all()
        state = config.stash.get(STATE, None)
        if state is not None and not is_worker(config) and podman.wanted(state.cfg.engines):
            podman.stop()  # the service preflight started for this run (--engine podman)
        lock = config.stash.get(_lock, None)
        if lock is not None:
            lock.release()
