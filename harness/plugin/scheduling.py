"""Which worker builds what, and in which order.

A platform's build and checks stay on one worker: :class:`PlatformScheduling` makes each
platform one unit of work (xdist's loadgroup, keyed on the platform's test id rather than
on the ``@group`` suffix that pytest 9.2 no longer lets xdist 3.8 add). Units are handed
out in collection order, so the platforms are collected longest first (durations of earlier
runs, kept in pytest's cache; platforms under QEMU first when nothing is known yet).
``-n auto`` starts one worker per core, never more than there are platforms: emulated builds
keep a core busy, and measured on 2 cores (``nox -s bench``, the four Rust images) four
workers took 148.3 s without cache against 142.7 s for two, 19.0 s warm against 15.3 s, and
their ELF audits slowed from 2.3-3.4 s to 6.9-8.0 s each.
"""

from __future__ import annotations

import os
import platform as host_platform
import re
from typing import Any

import pytest
from xdist.scheduler import LoadScopeScheduling

from harness.core import sources
from harness.core.platforms import Platform
from harness.machine.host import read_handlers, run_mode
from harness.plugin.state import STATE, target_of

DURATIONS_KEY = "harness/durations"
# Seconds assumed for a platform never built here: emulated builds are several times slower.
GUESS = {"qemu": 600.0, "native": 200.0, "unavailable": 0.0}


# After @pytest.mark.parametrize: the platform is the last part of every test id
# (test_x[case-linux/arm64]), which is how a test's platform is told (platform_of).
@pytest.hookimpl(trylast=True)
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    cfg = metafunc.config.stash[STATE].cfg
    if "source" in metafunc.fixturenames:
        metafunc.parametrize("source", sources.NAMES, ids=sources.NAMES)
    if "declared_check" in metafunc.fixturenames:
        metafunc.parametrize("declared_check", [c.source for c in cfg.checks],
                             ids=[c.name for c in cfg.checks])
    if "target" in metafunc.fixturenames:
        metafunc.parametrize("target", cfg.platforms, ids=[p.name for p in cfg.platforms],
                             indirect=True, scope="session")


def expected_seconds(config: pytest.Config, platforms: list[Platform]) -> dict[str, float]:
    cache = getattr(config, "cache", None)
    known: dict[str, Any] = cache.get(DURATIONS_KEY, {}) if cache else {}
    handlers = read_handlers()
    arch = host_platform.machine()
    return {p.name: float(known.get(p.name) or GUESS[run_mode(p, arch, handlers).kind])
            for p in platforms}


@pytest.hookimpl(trylast=True)  # after pytest groups items by session-scoped parameter
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    cfg = config.stash[STATE].cfg
    if not cfg.checks:  # no [tool.harness.checks]: their test has nothing to run
        unused = [i for i in items if getattr(i, "originalname", "") == "test_declared_check"]
        if unused:
            config.hook.pytest_deselected(items=unused)
            items[:] = [i for i in items if i not in unused]
    expected = expected_seconds(config, cfg.platforms)
    rank: dict[pytest.Item, tuple[float, int]] = {}
    for index, item in enumerate(items):
        platform = target_of(item)
        if platform is not None:
            rank[item] = (-expected[platform.name], index)
        else:
            rank[item] = (0.0, index)
    items.sort(key=rank.__getitem__)


_PLATFORM_ID = re.compile(r"[\[-]([a-z0-9]+/[a-z0-9_/]+)\]$")


def platform_of(nodeid: str) -> str:
    """The platform a test id is parametrised with, or the id itself."""
    m = _PLATFORM_ID.search(nodeid)
    return m[1] if m else nodeid


class PlatformScheduling(LoadScopeScheduling):  # type: ignore[misc]
    """Every test of one platform (``…[linux/arm64]``) is one unit, sent to one worker."""

    def _split_scope(self, nodeid: str) -> str:
        return platform_of(nodeid)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> PlatformScheduling:
    return PlatformScheduling(config, log)


def workers_for(platforms: int) -> int:
    """``-n auto``: one worker per core, never more than there are platforms."""
    return max(1, min(platforms, os.cpu_count() or 1))


def record_durations(config: pytest.Config, seconds: dict[str, float]) -> None:
    cache = getattr(config, "cache", None)
    if cache is None or not seconds:
        return
    known = dict(cache.get(DURATIONS_KEY, {}))
    known.update({k: round(v, 1) for k, v in seconds.items() if v > 0})
    cache.set(DURATIONS_KEY, known)
