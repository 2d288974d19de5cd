"""The bench's peers, run in pairs against the harness: plain buildx, and the checks by hand.

A *pair* is one cold harness run (build and check, every layer rebuilt) followed by one
plain ``docker buildx build --load`` of the same platforms with the harness's own command
lines, and then the by-hand checks (``bench_by_hand.sh``: each image asked in turn with
``docker run --platform P``, as a user would write it). The bench runs pairs A B A B ...
(``--pairs N``, default 2), so that one draw of a noisy machine (a slow archive, a busy
neighbour) is not taken for the harness's cost. Each pair keeps its harness seconds, plain
buildx's seconds, its floor (plain buildx plus the checks' CPU beyond what its builds left
idle, over the cores) and the by-hand seconds; the bench reports the median of each ratio
over the pairs, with its spread as the lowest and highest pair (min and max: with a handful
of pairs there are no quartiles to speak of).

The arithmetic here is pure; the functions that run things are the thin ones at the end.
"""

from __future__ import annotations

import contextlib
import dataclasses
import re
import shlex
import statistics
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from devtools.bench_record import AptFetch, Cpu, CpuRuns, FirstPeer, Pair, Peer
from harness.core.platforms.table import parse_platform
from harness.machine import host

PEER = "harness-bench/peer"
BY_HAND = Path(__file__).with_name("bench_by_hand.sh")
DEFAULT_PAIRS = 2
TARGET_BUILDX_RATIO = 1.0  # harness build and check / plain buildx build
TARGET_FLOOR_RATIO = 1.03  # the median of harness / floor over the pairs (issue 40)
RATIOS = ("floor_ratio", "buildx_ratio", "by_hand_ratio")  # each pair's, each run's median


class CpuUse:
    """The machine's CPU use over a block (a context manager): ``used``, the core-seconds
    busy and idle, or None off Linux."""

    def __enter__(self) -> CpuUse:
        self._before = host.cpu_seconds()
        self.used: host.CpuSeconds | None = None
        return self

    def __exit__(self, *_exc: object) -> None:
        after = host.cpu_seconds()
        if self._before is not None and after is not None:
            self.used = after - self._before

    def record(self) -> Cpu | None:
        return None if self.used is None else Cpu(round(self.used.busy, 1),
                                                   round(self.used.idle, 1))


def buildx_floor(peer_wall: float, peer_idle: float, checks_busy: float, cores: int) -> float:
    """The least time a run that builds as plain buildx does and then checks can take on this
    machine: plain buildx's time, plus the CPU its checks need beyond what plain buildx's
    builds left idle, spread over every core. (A lower bound: idle time at a build's end
    cannot serve that platform's own checks.)"""
    return peer_wall + max(0.0, checks_busy - peer_idle) / cores


def by_hand_ratio(harness: float, buildx: float, by_hand: float) -> float:
    """The harness's build and check against plain buildx's build plus the checks by hand:
    the same work done the way a user would without the harness."""
    return harness / (buildx + by_hand)


def pair_ratios(pair: Pair) -> dict[str, float]:
    """One pair's ratios: harness / floor, harness / plain buildx and ``by_hand_ratio``,
    each only where the pair has what it needs (no floor off Linux, say)."""
    found = {"buildx_ratio": round(pair.harness / pair.buildx, 3)}
    if pair.floor:
        found["floor_ratio"] = round(pair.harness / pair.floor, 3)
    if pair.by_hand is not None:
        found["by_hand_ratio"] = round(by_hand_ratio(pair.harness, pair.buildx, pair.by_hand), 3)
    return found


def spread(values: Sequence[float]) -> dict[str, float]:
    """The median of ``values`` and their spread, as the lowest and the highest."""
    if not values:
        raise ValueError("no values to take a median of")
    return {"median": round(statistics.median(values), 3), "min": round(min(values), 3),
            "max": round(max(values), 3)}


def summary(pairs: Sequence[Pair]) -> dict[str, float]:
    """Each ratio's median over the pairs and its spread, as ``floor_ratio_median``,
    ``floor_ratio_min``, ``floor_ratio_max`` and so on (a ratio no pair has is left out),
    and the median seconds of each side."""
    ratios = [pair_ratios(p) for p in pairs]
    found: dict[str, float] = {}
    for name in RATIOS:
        values = [r[name] for r in ratios if name in r]
        if values:
            found.update({f"{name}_{k}": v for k, v in spread(values).items()})
    for side in ("harness", "buildx", "floor", "by_hand"):
        values = [v for p in pairs if (v := getattr(p, side)) is not None]
        if values:
            found[f"{side}_median"] = round(statistics.median(values), 1)
    return found


def shown(figures: Mapping[str, float | None], name: str) -> str:
    """A ratio as its median and spread (``1.031 (1.012-1.050)``), or one draw as itself."""
    if f"{name}_median" not in figures:
        return "-"
    low, high = figures[f"{name}_min"] or 0.0, figures[f"{name}_max"] or 0.0
    median = f"{figures[f'{name}_median'] or 0.0:.3f}"
    return median if low == high else f"{median} ({low:.3f}-{high:.3f})"


def render(pairs: Sequence[Pair]) -> list[str]:
    """The pairs, one line each, then each ratio's median and spread."""
    lines = [f"{'  pair ' + str(n) + ': harness / plain buildx / floor / by hand':<44} "
             f"{p.harness:.1f} / {p.buildx:.1f} / {p.floor if p.floor else '-'} / "
             f"{p.by_hand if p.by_hand is not None else '-'} s"
             for n, p in enumerate(pairs, 1)]
    if pairs:
        got = summary(pairs)
        for name, what in (("floor_ratio", "harness / floor"),
                           ("buildx_ratio", "harness / plain buildx"),
                           ("by_hand_ratio", "harness / (plain buildx + by hand)")):
            lines.append(f"{'  ' + what + ', median (min-max)':<44} {shown(got, name)}")
    return lines


def render_cpu(cpu: CpuRuns, peer: FirstPeer | None) -> list[str]:
    """The machine's CPU over the timed runs, and the floor it sets under the cold ratio."""
    lines = []
    for used, said in ((cpu.side_by_side, "side by side"), (cpu.buildx_peer, "plain buildx"),
                       (cpu.warm_asked, "checks (every image asked again)")):
        if used:
            lines.append(f"{'  CPU, ' + said + ': busy / idle':<44} "
                         f"{used.busy:>8.0f} / {used.idle:.0f} core-s")
    if peer and peer.buildx_floor and peer.buildx_peer:
        floor = peer.buildx_floor
        ratio = floor / peer.buildx_peer
        lines.append(f"{'  floor: plain buildx + checks beyond its idle':<44} "
                     f"{floor:>9.1f}s  ratio {ratio:.3f}")
        if ratio > TARGET_BUILDX_RATIO:
            # Said, so that a ratio over the target is not read as the harness's scheduling.
            lines.append("  the cold target is out of reach on this machine: the checks need "
                         "more CPU than plain buildx's builds left idle")
    return lines


def render_fetch(fetch: AptFetch | None) -> list[str]:
    """apt's fetch seconds in each side's build of each platform (emulated CPU and network)."""
    ours, peer = (fetch.harness, fetch.buildx_peer) if fetch else ({}, {})
    return [f"{'  apt fetches ' + p + ', harness / plain buildx':<44} "
            f"{ours.get(p, '-'):>5} / {peer.get(p, '-')} s" for p in sorted({*ours, *peer})]


# apt's account of each fetch: `Fetched 140 MB in 40s (3539 kB/s)`, longer `in 1min 5s`.
FETCHED = re.compile(r"Fetched [0-9.,]+ [kMG]?B in (?:(\d+)h ?)?(?:(\d+)min ?)?(\d+)s")


def fetched_seconds(log: str) -> int | None:
    """The seconds apt said its fetches took in one build's log (its index and its packages),
    or None where apt fetched nothing (another package manager, every layer cached)."""
    found = [int(h or 0) * 3600 + int(m or 0) * 60 + int(sec)
             for h, m, sec in FETCHED.findall(log)]
    return sum(found) if found else None


def build_log(logs: Path, platform: str) -> Path:
    """A platform's build log in ``logs``, named as the harness names its own."""
    return logs / f"{parse_platform(platform).slug}-build.log"


def fetch_seconds(logs: Path, platforms: list[str]) -> dict[str, int]:
    """apt's fetch seconds of each platform's build whose log in ``logs`` has them."""
    seen = {}
    for name in platforms:
        log = build_log(logs, name)
        secs = fetched_seconds(log.read_text(errors="replace")) if log.is_file() else None
        if secs is not None:
            seen[name] = secs
    return seen


def by_hand_command(images: dict[str, str]) -> list[str]:
    """The by-hand script's command line for these images (platform -> image)."""
    return ["sh", str(BY_HAND), *[arg for item in images.items() for arg in item]]


def run_by_hand(images: dict[str, str], log: Path) -> float:
    """The by-hand checks of ``images`` (platform -> image), one after another; the seconds
    the whole script took. Its output goes to ``log``."""
    start = time.monotonic()
    with log.open("wb") as out:
        proc = subprocess.run(by_hand_command(images), stdout=out, stderr=subprocess.STDOUT,
                              check=False)
    wall = time.monotonic() - start
    if proc.returncode != 0:
        raise SystemExit(f"bench: the checks by hand failed (exit {proc.returncode}); see {log}")
    return wall


def measure_buildx_peer(logs: Path, platforms: list[str], out: Path,
                        by_hand: bool = False) -> Peer | None:
    """Plain `docker buildx build --load` of every platform at once, each with the command
    line the harness logged for it (its tag changed, no cache), each one's output in ``out``:
    the wall time, when each platform's build ended (seconds from the start, to set beside
    the harness's schedule), the machine's CPU over the builds and apt's fetch seconds in
    each; with ``by_hand``, then the
    checks by hand of the images it built (``by_hand``, their seconds, timed apart from the
    builds). None when the harness did not build with buildx."""
    commands = []
    for name in platforms:
        first = build_log(logs, name).read_text().split("\n", 1)[0]
        if not first.startswith("$ docker buildx build"):
            return None
        argv = shlex.split(first[2:])
        argv[argv.index("--tag") + 1] = f"{PEER}:{parse_platform(name).slug}"
        if "--no-cache" not in argv:
            argv.insert(-1, "--no-cache")
        commands.append(argv)
    out.mkdir(parents=True, exist_ok=True)
    tags = {name: f"{PEER}:{parse_platform(name).slug}" for name in platforms}
    with contextlib.ExitStack() as stack, CpuUse() as cpu:  # the builds' CPU alone
        procs = {}
        start = time.monotonic()
        for name, argv in zip(platforms, commands, strict=True):
            log = stack.enter_context(build_log(out, name).open("wb"))
            procs[name] = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        ends: dict[str, float] = {}
        while len(ends) < len(procs):
            for name, proc in procs.items():
                if name not in ends and proc.poll() is not None:
                    ends[name] = round(time.monotonic() - start, 1)
            time.sleep(0.2)
    failed = [proc.args for proc in procs.values() if proc.returncode != 0]
    wall = time.monotonic() - start
    got = Peer(round(wall, 1), ends, cpu.record(), fetch_seconds(out, platforms))
    try:
        if failed:
            raise SystemExit(f"bench: plain buildx failed: {failed}")
        print(f"bench: plain docker buildx build --load of {len(platforms)} at once: "
              f"{wall:.1f} s", flush=True)
        if by_hand:
            got = dataclasses.replace(got, by_hand=round(run_by_hand(tags, out / "by-hand.log"), 1))
            print(f"bench: the checks by hand of the {len(platforms)} images, one after "
                  f"another: {got.by_hand:.1f} s", flush=True)
    finally:
        subprocess.run(["docker", "rmi", *tags.values()], capture_output=True, check=False)
    return got
