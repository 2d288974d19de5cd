"""The builds start with the run: the controller builds every platform while xdist brings its
workers up, and each worker adopts its platform's build as that build ends, then probes it.

A worker is a new interpreter that imports pytest, the plugin and the docker SDK, and collects
the checks, before it asks for its first build: on 2 cores with four platforms, the builds
began seconds after the command, most of it the workers' start (four of them sharing the two
cores), where plain ``docker buildx build`` starts at once (the measured seconds:
docs/benchmarks.md, runs 21 to 23). Started here, they begin as
soon as pytest's own session does. The builds are the same (:meth:`Pipeline.build`, its slots
and findings); only the process that runs them changes.

Where a worker knows better what to build, the builds stay with the workers: a selection
(``-k``, ``-m``, ``--lf``, test ids) may leave a platform unchecked (and ``--collect-only``
checks none), ``--ref`` pulls instead of building, the classic builder runs in the engine
with no process of ours to stop on Ctrl-C, and without xdist there are no workers to wait
for.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from harness.containers import build
from harness.containers.pipeline import Built, Pipeline
from harness.core.failures.errors import HarnessError
from harness.core.judging.verdicts import interrupted
from harness.core.platforms.table import Platform
from harness.core.platforms.unit import Unit
from harness.plugin.state import STATE, is_worker

KEY = "harness_head_start"  # workerinput: the controller builds, the workers adopt
STOP_SECONDS = 60.0  # for the cancelled builds to end (buildx cancels each in the engine)


class HeadStart:
    """Every unit's build, each in a thread of the controller."""

    def __init__(self, pipelines: Callable[[str | None], Pipeline], units: Iterable[Unit]
                 ) -> None:
        # Its own pipelines (one per target): the controller's results are still the workers'.
        self.cancelled = threading.Event()
        self.threads = [threading.Thread(target=self._build, args=(pipelines(u.target),
                                                                   u.platform),
                                         daemon=True, name=f"build {u.name}") for u in units]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def _build(self, pipeline: Pipeline, platform: Platform) -> None:
        built: Built | None = None
        try:
            built = pipeline.build(platform)
        except BaseException:  # interrupted: Pipeline.build kept it so
            built = pipeline.built.get(platform.name)
        finally:
            if built is None or (self.cancelled.is_set() and built.error is not None):
                # Stopped by stop(): whatever buildx said, the run was interrupted.
                finding = interrupted("build")
                cut = Built(platform, error=HarnessError(finding.message, finding.fix,
                                                         cause=finding.cause or ""),
                            finding=finding)
                if built is not None:
                    cut.mode, cut.engine, cut.phases = built.mode, built.engine, built.phases
                built = pipeline.built[platform.name] = cut
                pipeline.save(platform)
            pipeline.hand_over(built)

    def stop(self) -> None:
        """At the run's end: stop the builds still running (no worker will check them: the
        run was interrupted, or stopped early) and wait for them to end."""
        if any(t.is_alive() for t in self.threads):
            self.cancelled.set()
            build.cancel_running()
        for thread in self.threads:
            thread.join(STOP_SECONDS)


_head_start = pytest.StashKey[HeadStart]()


def wanted(config: pytest.Config) -> bool:
    """Whether the controller builds (see the module's docstring)."""
    state = config.stash.get(STATE, None)
    if state is None or is_worker(config) or state.cfg.ref:
        return False
    if config.pluginmanager.get_plugin("dsession") is None:  # no xdist workers
        return False
    if not checks_every_platform(config.option, config.args):
        return False
    try:
        facts = state.pipeline.facts
    except HarnessError:  # no engine: every worker says so on its own
        return False
    return build.resolve(state.cfg.builder, facts.buildx) == "buildx"


def checks_every_platform(option: Any, args: list[str]) -> bool:
    """Whether pytest's options (``config.option``) and arguments run every platform's checks:
    no selection (``-k``, ``-m``, ``--lf``, ``--sw``, ``--deselect``, a test id) and no plan
    alone (``--collect-only``, ``--setup-plan``, ``--setup-only``)."""
    flags = ("collectonly", "setupplan", "setuponly", "keyword", "markexpr", "lf", "stepwise",
             "deselect")
    return not any(getattr(option, name, None) for name in flags) and \
        not any("::" in arg for arg in args)


def begin(config: pytest.Config) -> None:
    """Start every platform's build in the controller, where wanted."""
    if not wanted(config):
        return
    state = config.stash[STATE]
    own: dict[str | None, Pipeline] = {}

    def pipeline(target: str | None) -> Pipeline:
        if target not in own:
            own[target] = state.new_pipeline(target)
        return own[target]

    head = HeadStart(pipeline, state.cfg.units)
    config.stash[_head_start] = head
    head.start()


def configure_node(node: Any) -> None:
    """Tell a worker to adopt the controller's builds."""
    if node.config.stash.get(_head_start, None) is not None:
        node.workerinput[KEY] = "1"


def started(config: pytest.Config) -> bool:
    """In a worker: whether the controller builds."""
    return bool(getattr(config, "workerinput", {}).get(KEY))


def end(config: pytest.Config) -> None:
    """At the run's end (see HeadStart.stop)."""
    head = config.stash.get(_head_start, None)
    if head is not None:
        head.stop()
