"""The benchmark history page, generated from ``docs/bench/history.json``: a table of every
run, a plot (SVG) of harness against plain buildx and of harness / floor (a run of pairs as
its median with its spread), and a short analysis (which runs sit above the floor and beyond
the target, with their schedules where the history kept them).

The history is read once, run by run, into :class:`Draw` (the JSON edge); the page, the plot
and the analysis read those.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from devtools import bench_pairs
from devtools.bench_record import Pair, Schedule
from harness.core import sinks


def _cell(text: object) -> str:
    return sinks.markdown(str(text))


def _number(value: object, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"docs/bench/history.json: {what} is no number: {value!r:.80}")
    return value  # as the history has it: 212 stays 212 on the page, not 212.0


def _maybe(value: object, what: str) -> float | None:
    """A figure a run may lack (a measure taken from a later run on, or that failed)."""
    return None if value is None else _number(value, what)


def _schedule(value: object) -> Schedule:
    """bench.json's schedule as the history kept it (optional): platform -> phase -> span."""
    if not isinstance(value, dict):
        return {}
    return {str(name): {str(ph): [_number(t, "a schedule's span") for t in span]
                        for ph, span in phases.items() if isinstance(span, list)
                        and len(span) == 2}
            for name, phases in value.items() if isinstance(phases, dict)}


@dataclass(frozen=True)
class Draw:
    """One run of the history as the page shows it: with ``pairs`` (from run 28), each side's
    median seconds and each ratio's median and spread over the pairs; an earlier run's one
    draw as itself (its harness / floor where it kept a floor)."""

    run: str
    side_by_side: float
    buildx_peer: float
    buildx_floor: float | None
    pairs: int  # 0: one draw
    ratios: dict[str, float]  # floor_ratio_median, floor_ratio_min, ... (bench_pairs.summary)
    warm: float | None
    warm_asked: float | None
    publish_ratio: float | None  # first publish / docker push
    schedule: Schedule

    @property
    def floor_ratio(self) -> float | None:
        """harness / floor: the median of the pairs, or the one draw's."""
        return self.ratios.get("floor_ratio_median")

    @classmethod
    def read(cls, r: Mapping[str, object]) -> Draw:
        """A run of docs/bench/history.json, read once."""
        run = str(r.get("run"))
        first, push = r.get("publish_first_s"), r.get("docker_push_s")
        # A run may lack a measure (run 12's publish stopped on a full disk).
        publish = _number(first, "publish_first_s") / _number(push, "docker_push_s") \
            if first and push else None
        # From run 16 a rerun reads the answers back; the same rerun asking every image
        # again is its own figure.
        warm, asked = _maybe(r.get("warm"), "warm"), _maybe(r.get("warm_asked"), "warm_asked")
        pairs = r.get("pairs")
        if isinstance(pairs, list) and pairs:
            ratios = bench_pairs.summary([Pair.read(p) if isinstance(p, dict) else
                                          Pair.read({}) for p in pairs])
            harness, buildx = ratios["harness_median"], ratios["buildx_median"]
            floor = ratios.get("floor_median")
        else:
            harness = _number(r.get("side_by_side"), f"run {run}'s side_by_side")
            buildx = _number(r.get("buildx_peer"), f"run {run}'s buildx_peer")
            floor = _maybe(r.get("buildx_floor"), f"run {run}'s buildx_floor") or None
            one = round(harness / floor, 3) if floor else None
            ratios = {} if one is None else {"floor_ratio_median": one, "floor_ratio_min": one,
                                             "floor_ratio_max": one}
        return cls(run=run, side_by_side=harness, buildx_peer=buildx, buildx_floor=floor,
                   pairs=len(pairs) if isinstance(pairs, list) else 0, ratios=ratios,
                   warm=warm, warm_asked=asked or None, publish_ratio=publish,
                   schedule=_schedule(r.get("schedule")))


BARS, RATIOS = 220, 380  # the base lines of the seconds' bars and of the floor ratios


def plot(draws: list[Draw]) -> str:
    """An SVG of each run's side-by-side time against plain buildx's, with the ratio and,
    where the run kept it, the floor (a dashed line); below, each run's harness / floor: one
    draw a point, a run of pairs its median (a point) and its spread (a bar, min to max)."""
    top = float(max([1.0, *(max(d.side_by_side, d.buildx_peer, d.buildx_floor or 0)
                            for d in draws)]))
    shown = [v for d in draws for v in (d.ratios.get("floor_ratio_min"),
                                        d.ratios.get("floor_ratio_max")) if v is not None]
    low: float = min([0.95, *shown])
    high: float = max([1.15, *shown])
    width, height, base, bar = max(120 * len(draws) + 60, 760), RATIOS + 30, BARS, 36
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="sans-serif" font-size="12">',
           f'<line x1="40" y1="{base}" x2="{width - 10}" y2="{base}" stroke="#999"/>',
           '<rect x="44" y="6" width="10" height="10" fill="#1e88e5"/>'
           '<text x="58" y="15">harness, build and check</text>',
           '<rect x="224" y="6" width="10" height="10" fill="#90a4ae"/>'
           '<text x="238" y="15">plain docker buildx build</text>',
           '<line x1="404" y1="11" x2="418" y2="11" stroke="#000" stroke-dasharray="3,2"/>'
           '<text x="422" y="15">floor: plain buildx + the checks\' CPU beyond its idle'
           '</text>',
           f'<text x="44" y="{BARS + 40}">harness / floor: a point per run; from run 28 the '
           'median of its pairs, with a bar from the lowest pair to the highest</text>']

    def reach(seconds: float) -> float:
        """How high ``seconds`` reaches above the base line, on the plot's common scale."""
        return (base - 40) * float(seconds) / top

    def level(ratio: float) -> float:
        """Where ``ratio`` sits in the panel of floor ratios (BARS + 50 to RATIOS)."""
        return RATIOS - (RATIOS - BARS - 60) * (ratio - low) / (high - low)

    one = level(1.0)
    out.append(f'<line x1="40" y1="{one:.1f}" x2="{width - 10}" y2="{one:.1f}" stroke="#999" '
               f'stroke-dasharray="2,3"/><text x="8" y="{one + 4:.1f}">1.0</text>')
    for n, d in enumerate(draws):
        x = 50 + 120 * n
        for k, (seconds, colour) in enumerate(((d.side_by_side, "#1e88e5"),
                                               (d.buildx_peer, "#90a4ae"))):
            h = reach(seconds)
            out.append(f'<rect x="{x + k * (bar + 4)}" y="{base - h:.1f}" width="{bar}" '
                       f'height="{h:.1f}" fill="{colour}"><title>{sinks.html(str(seconds))} s'
                       '</title></rect>')
        if d.buildx_floor:  # from run 21: what this machine allows (docs/benchmarks)
            y = base - reach(d.buildx_floor)
            out.append(f'<line class="floor" x1="{x - 2}" y1="{y:.1f}" x2="{x + 2 * bar + 6}" '
                       f'y2="{y:.1f}" stroke="#000" stroke-dasharray="3,2"><title>floor '
                       f'{sinks.html(str(d.buildx_floor))} s</title></line>')
        out.append(f'<text x="{x}" y="{base + 16}">run {sinks.html(d.run)}: '
                   f'{d.side_by_side / d.buildx_peer:.3f}</text>')
        if d.floor_ratio is not None:
            cx = x + bar + 2
            low_pair, high_pair = d.ratios["floor_ratio_min"], d.ratios["floor_ratio_max"]
            if d.pairs:
                out.append(f'<line class="spread" x1="{cx}" y1="{level(high_pair):.1f}"'
                           f' x2="{cx}" y2="{level(low_pair):.1f}" stroke="#1e88e5" '
                           f'stroke-width="3"><title>{d.pairs} pairs: '
                           f'{low_pair:.3f}-{high_pair:.3f}</title></line>')
            out.append(f'<circle class="median" cx="{cx}" cy="{level(d.floor_ratio):.1f}"'
                       f' r="4" fill="#000"><title>run {sinks.html(d.run)}: harness / '
                       f'floor {d.floor_ratio:.3f}</title></circle>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _figure(d: Draw) -> str:
    """A run's harness / floor: its median and the spread of its pairs, or its one draw."""
    median = f"{d.floor_ratio or 0.0:.3f}"
    if d.pairs:
        median += (f", {d.pairs} pairs {d.ratios['floor_ratio_min']:.3f}-"
                   f"{d.ratios['floor_ratio_max']:.3f}")
    return f"run {_cell(d.run)} ({median})"


def _when(d: Draw) -> str:
    """Which platform built and probed when (bench.json's ``schedule``, where the history kept
    it), the last to finish first: the platform on the run's critical path."""
    if not d.schedule:
        return "no schedule kept"
    done = sorted(d.schedule.items(), key=lambda item: -max(
        (span[-1] for span in item[1].values()), default=0.0))
    return "; ".join(f"{_cell(name)} " + ", ".join(
        f"{_cell(phase)} {start:.0f}-{end:.0f}" for phase, (start, end) in phases.items())
        for name, phases in done)


def analysis(draws: list[Draw]) -> list[str]:
    """What the history says of harness / floor, generated: the runs above the floor, those
    beyond the target, the spread across runs, each run above the floor with its schedule."""
    judged = [(d, d.floor_ratio) for d in draws if d.floor_ratio is not None]
    if not judged:
        return ["No run kept a floor (plain buildx's time plus the checks' CPU beyond what its "
                "builds left idle): there is nothing yet to set the harness against."]
    target = bench_pairs.TARGET_FLOOR_RATIO
    across = bench_pairs.spread([ratio for _d, ratio in judged])
    above = [d for d, ratio in judged if ratio > 1.0]
    beyond = [d for d, ratio in judged if ratio > target]
    rest = [d for d, ratio in judged if ratio <= 1.0]
    last, last_ratio = judged[-1]
    where = "above" if last_ratio > 1.0 else "at or below"
    within = "beyond" if last_ratio > target else "within"
    lines = [f"{len(judged)} runs kept a floor. Across them, harness / floor has median "
             f"{across['median']:.3f} ({across['min']:.3f}-{across['max']:.3f}); the latest, "
             f"{_figure(last)}, sits {where} the floor, {within} the target "
             f"(≤ {target}). A run of pairs counts by its median.", "",
             f"- Above the floor: {', '.join(_figure(d) for d in above) or 'none'}",
             f"- Of those, beyond the target (≤ {target}): "
             f"{', '.join(_figure(d) for d in beyond) or 'none'}",
             f"- At or below the floor: {', '.join(_figure(d) for d in rest) or 'none'}",
             ""]
    if above:
        lines += ["Each run above the floor, and its schedule (seconds from the command's "
                  "start; the platform that finished last first):", ""]
        lines += [f"- {_figure(d)}: {_when(d)}" for d in above]
    return lines


def page(about: str, draws: list[Draw]) -> str:
    """The page: the history's own account of itself, the plot, a row per run, the analysis."""
    lines = ["# Benchmark history", "", _cell(about), "",
             "![side by side against plain buildx, per run](bench-history.svg)", "",
             "| run | side by side | plain buildx | ratio (target ≤ 1.0) | floor (ratio) | "
             "warm rerun | publish / docker push | harness / floor | by hand ratio |",
             "|---|---|---|---|---|---|---|---|---|"]
    for d in draws:
        publish = "-" if d.publish_ratio is None else f"{d.publish_ratio:.3f}"
        warm = f"{d.warm} s" + (f" (every image asked again: {d.warm_asked} s)"
                                if d.warm_asked else "")
        # The least a run that checks can take here (from run 21; see docs/benchmarks.md).
        floor = f"{d.buildx_floor} s ({d.buildx_floor / d.buildx_peer:.3f})" \
            if d.buildx_floor else "-"
        # From run 28, medians over the pairs with their spread (min-max); before, one draw.
        pairs = f", {d.pairs} pairs" if d.pairs else ""
        lines.append(
            f"| {_cell(d.run)} | {d.side_by_side} s | {d.buildx_peer} s | "
            f"{d.side_by_side / d.buildx_peer:.3f} | {floor} | {warm} | {publish} | "
            f"{bench_pairs.shown(d.ratios, 'floor_ratio')}{pairs} | "
            f"{bench_pairs.shown(d.ratios, 'by_hand_ratio')} |")
    lines += ["", "## Analysis", "", *analysis(draws)]
    return "\n".join(lines) + "\n"


def bench_history(history: Mapping[str, object]) -> tuple[str, str]:
    """The benchmark's runs as a page and a plot (SVG), from the history's JSON."""
    runs = history.get("runs") or []
    if not isinstance(runs, list) or not all(isinstance(r, dict) for r in runs):
        raise ValueError("docs/bench/history.json: `runs` is no list of runs")
    draws = [Draw.read(r) for r in runs]
    return page(str(history.get("about", "")), draws), plot(draws)
