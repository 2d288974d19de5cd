"""What the plugin keeps on ``config.stash`` for one pytest process (controller or worker)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from harness.containers.pipeline import Pipeline
from harness.core.platforms.table import Platform
from harness.core.results.platform_result import PlatformResult
from harness.distribution.check_ref import IndexCheck
from harness.machine.config import HarnessConfig


@dataclass
class HarnessState:
    cfg: HarnessConfig
    pipeline: Pipeline
    index: IndexCheck | None = None  # with --ref to a registry: what its index holds
    # Results gathered by the controller: its own (no xdist) or its workers'.
    results: dict[str, PlatformResult] = field(default_factory=dict)


STATE = pytest.StashKey[HarnessState]()


def is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def target_of(item: pytest.Item) -> Platform | None:
    """The platform a test is parametrised with (the ``target`` fixture), if any."""
    callspec = getattr(item, "callspec", None)
    platform = callspec.params.get("target") if callspec else None
    return platform if isinstance(platform, Platform) else None
