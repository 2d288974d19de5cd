"""What the plugin keeps on ``config.stash`` for one pytest process (controller or worker)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from harness.containers.pipeline import Pipeline
from harness.core.platforms.unit import Unit
from harness.core.results.platform_result import PlatformResult
from harness.distribution.check_ref import IndexCheck
from harness.machine.config import HarnessConfig


@dataclass
class HarnessState:
    cfg: HarnessConfig
    pipeline: Pipeline
    index: IndexCheck | None = None  # with --ref to a registry: what its index holds
    # Results gathered by the controller: its own (no xdist) or its workers'.
    # Kept by unit name (harness.core.platforms.unit): the platform's without --bake.
    results: dict[str, PlatformResult] = field(default_factory=dict)
    # With --bake: each target's pipeline (``pipeline`` holds the engines and the run id they
    # share).
    others: dict[str, Pipeline] = field(default_factory=dict)

    def pipeline_for(self, target: str | None) -> Pipeline:
        """The pipeline that builds and checks the units of ``target``."""
        # The run's own pipeline has every target's overrides: each target builds in its own.
        if target is None or not self.cfg.bake_targets:
            return self.pipeline
        if target not in self.others:
            self.others[target] = self.new_pipeline(target)
        return self.others[target]

    def new_pipeline(self, target: str | None) -> Pipeline:
        """A pipeline of ``target``'s configuration, sharing the run's engines and id."""
        return Pipeline(self.cfg.for_target(target), run=self.pipeline.run,
                        engines=self.pipeline.engines, width=len(self.cfg.units))

    @property
    def pipelines(self) -> list[Pipeline]:
        return [self.pipeline, *self.others.values()]


STATE = pytest.StashKey[HarnessState]()


def is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def unit_of(item: pytest.Item) -> Unit | None:
    """The unit of work a test is parametrised with (the ``unit`` fixture), if any."""
    callspec = getattr(item, "callspec", None)
    unit = callspec.params.get("unit") if callspec else None
    return unit if isinstance(unit, Unit) else None
