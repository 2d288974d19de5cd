"""The baseline-CPU run: the image's commands asked again on the platform's oldest CPU
(``QEMU_CPU`` for an emulated platform, this machine's QEMU launched with ``-cpu`` for one
that runs natively), in two runs: those that answered before the hello world, beside it; the
hello world's binary and the declared checks after it."""

from __future__ import annotations

import time
from dataclasses import dataclass

from harness.containers.hello import HELLO_DIR
from harness.containers.probe_container import QEMU_MOUNT, ImageProbe, on_path
from harness.containers.probe_result import Span, Timed
from harness.core.answers import baseline, sources
from harness.core.answers import observation as obs
from harness.core.answers.observation import Observation
from harness.core.declared.usercheck import DeclaredCheck
from harness.core.failures.errors import ProbeTimeout
from harness.core.platforms.table import Platform


@dataclass
class BaselineRun:
    """Commands run on the platform's baseline CPU: (command, status, illegal instruction),
    what ``uname -m`` said there, and when the run started and how long it took."""

    ran: list[tuple[str, int, bool]]
    uname: str | None
    started: float
    seconds: float


def answered_commands(found: list[Observation]) -> list[list[str]]:
    """The image's own commands that answered before the hello world: asked again on the
    baseline CPU."""
    answered = {o.source for o in found if o.raw is not None and o.error is None}
    return [list(sources.BY_NAME[s].command) for s in ("uname", *sources.USERLANDS,
                                                      "getconf", "rustc", "cargo")
            if s in answered]


def late_commands(found: list[Observation], checks: tuple[DeclaredCheck, ...]
                   ) -> list[list[str]]:
    """The hello world's binary, where it ran, and the declared checks that answered."""
    answered = {o.source for o in found if o.raw is not None and o.error is None}
    commands = []
    if "hello" in answered and next(o for o in found if o.source == "hello").value == "ran":
        commands.append([f"{HELLO_DIR}/target/debug/harness-hello"])
    return commands + [list(c.command) for c in checks if c.source in answered]


def run(probe: ImageProbe, platform: Platform, commands: list[list[str]]
                  ) -> BaselineRun:
    """``commands`` asked again on the platform's oldest CPU: QEMU_CPU for an emulated
    platform, QEMU launched with -cpu for one that runs natively."""
    cpu = baseline.CPUS[platform.name][0]
    ran: list[tuple[str, int, bool]] = []
    uname = None
    start, started = time.monotonic(), time.time()
    for cmd in commands:
        shown = " ".join(cmd)
        asked, env = cmd, {"QEMU_CPU": cpu}
        if probe.launcher:
            path = on_path(probe, cmd[0])
            if path is None:
                continue
            asked, env = [QEMU_MOUNT, "-cpu", cpu, path, *cmd[1:]], {}
        try:
            out = probe.run(asked, env=env)
        except ProbeTimeout:
            ran.append((shown, -1, False))
            continue
        ran.append((shown, out.status, baseline.illegal(out.status, out.text[-4096:])))
        if cmd == ["uname", "-m"] and out.status == 0:
            # Its last line: QEMU warns first of CPU features its TCG does not have.
            uname = (out.text.strip().splitlines() or [""])[-1].strip()
    return BaselineRun(ran, uname, started, time.monotonic() - start)


def observation(platform: Platform, early: BaselineRun, late: BaselineRun) -> Timed:
    """One observation of both runs on the baseline CPU, timed from the first's start to
    the second's end (the report's timeline)."""
    cpu, about = baseline.CPUS[platform.name]
    span = Span(early.started, round(late.started + late.seconds - early.started, 2))
    seen = obs.baseline_cpu(cpu, about, early.ran + late.ran, early.uname or late.uname)
    return Timed([span.stamp(seen)], span)
