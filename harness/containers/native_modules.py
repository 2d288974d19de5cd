"""Load the image's native modules with its own interpreters (the ``native-modules``
source): on the platform, on its baseline CPU, and where one loads only on the platform, on
the later levels' CPUs to name the lowest it needs.

Each interpreter imports its modules in one process (harness.core.answers.module_loaders.LOADER,
passed as ``python -c``; NODE_LOADER as ``node -e`` for Node addons); a module that kills or
hangs that process is named by the load under way, and the batch is started again after it,
so every other module is still tried. The baseline and later CPUs are asked as the baseline
run asks commands (harness.containers.baseline_run): ``QEMU_CPU`` for an emulated platform, this
machine's QEMU launched with ``-cpu`` for one that runs natively. Finding, judging and every
message's bounds are in the core.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable

from harness.core.answers import baseline, extensions, module_loaders, module_notes
from harness.core.answers import observation as obs
from harness.core.answers.extensions import Module
from harness.core.answers.module_loaders import Load
from harness.core.answers.module_notes import Outcome
from harness.core.failures.diagnosis import clean
from harness.core.failures.errors import HarnessError, ProbeTimeout
from harness.core.outcomes import RunKind
from harness.core.platforms.table import Platform

from .probe_container import QEMU_MOUNT, ImageProbe
from .probe_result import Span, Timed


def load_all(probe: ImageProbe, platform: Platform, modules: Iterable[Module], *,
             on_baseline: bool, skip: Iterable[str] = ()) -> Timed:
    """Every module of ``modules`` loaded (those ``skip`` names left out), judged by the core;
    ``on_baseline``: the platform's baseline CPU can be asked (as for the commands)."""
    start, started = time.monotonic(), time.time()
    batches = extensions.by_interpreter(modules, skip)
    cpu = baseline.CPUS.get(platform.name, ("", ""))[0] if on_baseline else ""
    outcomes: list[Outcome] = []
    try:
        for python, mods in batches.items():
            outcomes.extend(_interpreter(probe, platform, python, mods, cpu))
    except HarnessError as exc:
        return Timed([obs.failed("native-modules", f"native modules could not be loaded: "
                                 f"{exc.message}", fix=exc.fix, cause=exc.cause or None)])
    took = time.monotonic() - start
    data = module_notes.detail(outcomes, cpu, len(batches), took, tuple(skip))
    span = Span(started, round(took, 2))  # the detail's seconds, as extensions.detail rounds
    return Timed([span.stamp(obs.native_modules(data))], span)


def _interpreter(probe: ImageProbe, platform: Platform, python: str, mods: list[Module],
                 cpu: str) -> list[Outcome]:
    """One interpreter's modules: on the platform, then the ones that loaded (or raised) on
    the baseline CPU, then the ones that failed only there on each later level's CPU."""
    # A file of another platform is named in the audit's words, not tried.
    known = {i: seen for i, m in enumerate(mods)
             if (seen := module_loaders.foreign_load(m, platform.name)) is not None}
    tried = iter(load(probe, python, [m for i, m in enumerate(mods) if i not in known]))
    outcomes = [Outcome(m, known[i] if i in known else next(tried)) for i, m in enumerate(mods)]
    if not cpu:
        return outcomes
    again = [o for o in outcomes if o.platform.loaded or o.platform.status == "raised"]
    for o, seen in zip(again, load(probe, python, [o.module for o in again], cpu),
                       strict=True):
        o.baseline = seen
    later = [o for o in again
             if module_notes.needs_later(o) or module_notes.needs_later_raised(o)]
    levels = module_loaders.later_levels(platform.name)
    for o in later:
        o.level = "none" if levels else ""  # none tried: arm64 has no later CPU known here
    for level in levels:
        if not later:
            break
        seen_there = load(probe, python, [o.module for o in later], baseline.CPUS[level][0])
        for o, there in zip(later, seen_there, strict=True):
            if there.loaded:
                o.level = level
        later = [o for o in later if o.level == "none"]
    return outcomes


def load(probe: ImageProbe, python: str, mods: list[Module], cpu: str = "") -> list[Load]:
    """What ``python`` (or node: the modules' own interpreter) made of importing each module
    of ``mods`` (``cpu``: on that QEMU CPU
    model), in order. A module that ends the process is named by its death, and the batch
    goes on after it."""
    if not mods:
        return []
    emulated = bool(cpu) or probe.mode is RunKind.QEMU
    limit = module_loaders.LIMIT_EMULATED if emulated else module_loaders.LIMIT_NATIVE
    marker = f"harness-native-{uuid.uuid4().hex}"
    found: dict[int, Load] = {}
    todo = list(range(len(mods)))
    while todo:
        cmd = [*module_loaders.command(mods[0]), marker, str(limit),
               *module_loaders.args(mods[i] for i in todo)]
        env: dict[str, str] = {}
        if cpu and probe.launcher:
            cmd = [QEMU_MOUNT, "-cpu", cpu, *cmd]
        elif cpu:
            env = {"QEMU_CPU": cpu}
        try:
            # Each import is bounded by the loader itself; this bounds the whole, with room.
            out = probe.run(cmd, timeout=limit * len(todo) + probe.timeout, env=env)
        except ProbeTimeout as exc:
            for i in todo:
                found.setdefault(i, Load("timeout",
                                        clean(exc.message, module_loaders.MESSAGE_LIMIT)))
            break
        batch = module_loaders.parse(out.text, marker)
        for j, seen in batch.loads.items():
            if 0 <= j < len(todo):
                found[todo[j]] = seen
        if batch.done:
            break
        if not batch.ready:  # the interpreter itself did not start
            limit_said = module_loaders.MESSAGE_LIMIT
            said = clean(out.text.strip()[-limit_said:], limit_said)
            for i in todo:
                found.setdefault(i, Load("no-python", f"{python} did not start (exit "
                                                      f"{out.status}): {said}"))
            break
        under_way = batch.started if batch.started is not None else \
            next((j for j in range(len(todo)) if todo[j] not in found), None)
        if under_way is None or not 0 <= under_way < len(todo):
            break
        found[todo[under_way]] = module_loaders.death(out.status, out.text, limit)
        probe._log_line(f"# {mods[todo[under_way]].name}: "
                        f"{found[todo[under_way]].message}; the others again after it")
        todo = [i for i in todo[under_way + 1:] if i not in found]
    return [found.get(i, Load("exited", "not reached")) for i in range(len(mods))]
