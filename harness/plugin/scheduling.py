"""Which worker builds what, and in which order.

A platform's build and checks stay on one worker: :class:`PlatformScheduling` makes each
platform one unit of work (xdist's loadgroup, keyed on the platform's test id rather than
on the ``@group`` suffix that pytest 9.2 no longer lets xdist 3.8 add); with ``--bake``, each
target's platform is one (harness.core.platforms.unit: ``app-linux/arm64``). Units are handed
out in collection order, so the platforms are collected longest first: durations of earlier
runs of the same job (Dockerfile, build arguments, or reference checked), kept in pytest's
cache, so that a one-second build of another Dockerfile in the same checkout never teaches
it that a platform is short; platforms under QEMU first where nothing is known yet.
``-n auto`` starts one worker per platform: each probes its platform once a probe slot is free
(one per core), the emulated platforms first; the builds take build slots of their engine the
same way (harness.machine.slots), started by the controller as the run starts
(harness.plugin.head_start) or, without it, by each worker. By default every platform builds at
once, as plain ``docker buildx build`` of several platforms does: the native builds' downloads
and unpacking overlap the emulated builds' work; fewer at once, the emulated first, left the
native builds' downloads at the run's tail, once slow enough to cost more than they saved
(the runs' numbers: docs/benchmarks.md). ``--builds N`` caps them; the slots, not the
workers, set how much runs at once, so a warm rerun (every build a cache hit) probes the long
emulated platforms first and fills in the native ones beside them.
"""

from __future__ import annotations

import hashlib
import json
import platform as host_platform
import re
from typing import Any

import pytest
from xdist.scheduler import LoadScopeScheduling

from harness.core.answers import sources
from harness.core.declared import service
from harness.core.platforms.unit import unit_of as unit_named
from harness.machine.config import HarnessConfig
from harness.machine.host import read_handlers, run_mode
from harness.plugin.state import STATE, is_worker, unit_of

# {job: {platform: seconds}}; "harness/durations" held one {platform: seconds} for every job.
DURATIONS_KEY = "harness/durations-by-job"
KEPT_JOBS = 50
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
    if "structure_test" in metafunc.fixturenames:
        tests = [(f.source(t), f"{f.shown}:{t.name}") for f in cfg.all_structure
                 for t in f.tests]
        metafunc.parametrize("structure_test", [s for s, _ in tests],
                             ids=[i for _, i in tests])
    if "service_check" in metafunc.fixturenames:
        metafunc.parametrize("service_check", [c.source for c in cfg.services],
                             ids=[c.source.removeprefix(service.PREFIX) for c in cfg.services])
    if "unit" in metafunc.fixturenames:  # asked for by `target` too
        units = cfg.units
        metafunc.parametrize("unit", units, ids=[u.name for u in units], indirect=True,
                             scope="session")


def job_key(cfg: HarnessConfig) -> str:
    """What a duration is kept under: the Dockerfile (its path, not its text, so an edit
    keeps what was learnt) and build arguments, or the reference checked."""
    job: dict[str, Any] = {"ref": cfg.ref} if cfg.ref else {
        "dockerfile": str(cfg.dockerfile.resolve()), "build_args": sorted(cfg.build_args.items())}
    if cfg.bake_target:  # two targets of one Dockerfile (another stage) are two jobs
        job.update(bake_target=cfg.bake_target, stage=cfg.target)
    return hashlib.sha256(json.dumps(job, sort_keys=True).encode()).hexdigest()[:16]


def _known(config: pytest.Config) -> dict[str, Any]:
    cache = getattr(config, "cache", None)
    known = cache.get(DURATIONS_KEY, {}) if cache else {}
    return known if isinstance(known, dict) else {}


def expected_seconds(config: pytest.Config, cfg: HarnessConfig) -> dict[str, float]:
    """Each unit's build and checks (by unit name), as long as they took last time for its
    job (its target's); a guess by how it runs here (emulated is longer) where that job never
    ran it."""
    handlers = read_handlers()
    arch = host_platform.machine()
    found = {}
    kept = _known(config)  # pytest's cache, read once
    jobs = {t: kept.get(job_key(cfg.for_target(t))) for t in dict.fromkeys(u.target
                                                                         for u in cfg.units)}
    for unit in cfg.units:
        job = jobs[unit.target]
        known = job if isinstance(job, dict) else {}
        seen = known.get(unit.platform.name)
        found[unit.name] = float(seen) if isinstance(seen, int | float) and seen > 0 else \
            GUESS[run_mode(unit.platform, arch, handlers).kind]
    return found


@pytest.hookimpl(trylast=True)  # after pytest groups items by session-scoped parameter
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    cfg = config.stash[STATE].cfg
    # No declared checks, structure tests or service checks: their test has nothing to run.
    empty = {"test_declared_check"} if not cfg.checks else set()
    empty |= {"test_structure"} if not cfg.all_structure else set()
    empty |= {"test_service"} if not cfg.services else set()
    if empty:
        unused = [i for i in items if getattr(i, "originalname", "") in empty]
        if unused:
            config.hook.pytest_deselected(items=unused)
            items[:] = [i for i in items if i not in unused]
    expected = expected_seconds(config, cfg)
    rank: dict[pytest.Item, tuple[float, int]] = {}
    for index, item in enumerate(items):
        unit = unit_of(item)
        if unit is not None:
            rank[item] = (-expected[unit.name], index)
        else:
            rank[item] = (0.0, index)
    items.sort(key=rank.__getitem__)


_PLATFORM_ID = re.compile(r"[\[-]([a-z0-9]+/[a-z0-9_/]+)\]$")


def platform_of(nodeid: str) -> str:
    """The platform a test id is parametrised with, or the id itself."""
    m = _PLATFORM_ID.search(nodeid)
    return m[1] if m else nodeid


class PlatformScheduling(LoadScopeScheduling):  # type: ignore[misc]
    """Every test of one unit (``…[linux/arm64]``, ``…[app-linux/arm64]``) is sent to one
    worker."""

    def __init__(self, config: pytest.Config, log: Any = None) -> None:
        super().__init__(config, log)
        state = config.stash.get(STATE, None)
        self.units = state.cfg.units if state is not None else ()

    def _split_scope(self, nodeid: str) -> str:
        unit = unit_named(nodeid, self.units)
        return unit.name if unit is not None else platform_of(nodeid)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> PlatformScheduling:
    return PlatformScheduling(config, log)


# How much a worker yields the CPU to the builds: nice 10 weighs 110 against a default task's
# 1024. Where the engine's cgroups hang under the root (cgroup v1 without systemd, as on this
# project's CI machine), all the builds' RUN steps share one group that weighs as much as one
# process of ours: at nice 0, four workers starting up (imports, collection) took four fifths
# of the CPU from four builds. Only CPU that is short is weighed: alone, a worker runs at full
# speed.
WORKER_NICE = 10


def yield_to_builds(config: pytest.Config) -> None:
    """Start this run's local workers (xdist's ``popen`` gateways) at WORKER_NICE, before they
    import anything (execnet applies it first); a ``nice`` of the user's own is kept."""
    tx = getattr(config.option, "tx", None)
    if not tx or is_worker(config):
        return
    config.option.tx = [niced(spec) for spec in tx]


def niced(spec: str) -> str:
    """An xdist ``--tx`` spec with WORKER_NICE, if it is a local one without a nice."""
    gateway, *options = spec.split("//")
    if gateway.rpartition("*")[2] != "popen" or any(o.startswith("nice=") for o in options):
        return spec
    return f"{spec}//nice={WORKER_NICE}"


def workers_for(platforms: int) -> int:
    """``-n auto``: a worker per platform (see the module's docstring): how many build and
    probe at once is the slots' to say (harness.machine.slots)."""
    return max(1, platforms)


def record_durations(config: pytest.Config, cfg: HarnessConfig,
                     seconds: dict[str, float]) -> None:
    cache = getattr(config, "cache", None)
    if cache is None or not seconds:
        return
    known = _known(config)
    key = job_key(cfg)
    job = known.get(key)
    job = dict(job) if isinstance(job, dict) else {}
    job.update({k: round(v, 1) for k, v in seconds.items() if v > 0})
    # The jobs seen last are kept (a checkout's Dockerfiles and argument sets), not every one.
    known = {k: v for k, v in known.items() if k != key}
    known[key] = job
    cache.set(DURATIONS_KEY, dict(list(known.items())[-KEPT_JOBS:]))
