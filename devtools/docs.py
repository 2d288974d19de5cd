"""The reference pages of the documentation site, generated from the code that defines them.

``python -m devtools.docs --out DIR`` (developer tooling, run by ``nox -s docs`` and
``nox -s lint``) writes the Markdown pages that ``nox -s docs`` builds
with the hand-written ones (MkDocs, strict):

- ``configuration.md``: every option, from the one options table (``harness.core.options``);
- ``troubleshooting.md``: every cause a failure can have, from the diagnosis table
  (``harness.core.diagnosis``): its kind, verdict and exit status, what you see, and the fix;
- ``report-json.md``: every field of report.json, from its JSON Schema
  (``harness.core.report_schema``, the one ``report --schema`` prints);
- ``bench-history.md`` and its plot: every benchmark run kept in ``docs/bench/history.json``.

Nothing here is written by hand, so no page can drift from the code.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from devtools import bench_pairs
from devtools.bench_record import Pair
from harness.commands.cli import run_command
from harness.core import diagnosis, options, report_schema, sinks
from harness.core.diagnosis import Event, Stage
from harness.core.outcomes import Exit, RunKind
from harness.machine import files

PAGES = ("configuration.md", "troubleshooting.md", "report-json.md", "bench-history.md")
HISTORY = Path("docs/bench/history.json")


def _code(text: object) -> str:
    return sinks.markdown_code(str(text))


def _cell(text: object) -> str:
    return sinks.markdown(str(text))


def _span(text: str) -> str:
    """A code span outside a table: a fence longer than any run of backticks in ``text``."""
    fence = "`" * (max((len(r) for r in re.findall("`+", text)), default=0) + 1)
    return f"{fence} {text} {fence}"


def configuration() -> str:
    lines = ["# Configuration reference", "",
             "Every option, as `[tool.harness]` in pyproject.toml and on the command line of "
             "each command that takes it; the command line wins (the KEY=VALUE options, "
             "`build-args`, `labels` and `engines`, key by key: `--build-arg VERSION=2` keeps "
             "the other arguments of pyproject.toml). Generated from the options "
             "table (`harness/core/options.py`).", "",
             "| pyproject key | flag | type | default | commands | what it does |",
             "|---|---|---|---|---|---|"]
    for o in options.OPTIONS:
        default = "" if o.default in (None, (), [], {}) else _code(
            ", ".join(o.default) if isinstance(o.default, (list, tuple)) else o.default)
        kind = f"one of {', '.join(o.choices)}" if o.choices else o.kind
        key = _code(o.toml_key) if o.in_pyproject else "(command line only)"
        lines.append(f"| {key} | {_code(o.flag)} | {_cell(kind)} | {default} | "
                     f"{_cell(', '.join(sorted(o.commands)))} | {_cell(o.help)} |")
    return "\n".join(lines) + "\n"


SAID = "THE LINE THAT SAID SO"


def _sample(stage: Stage) -> tuple[Event, re.Match[str] | None]:
    """An event of ``stage`` with every field named by what it stands for, and a match of
    the line of output that shows the cause."""
    event = Event(stage, output=SAID, status=1, command="COMMAND", platform="PLATFORM",
                  mode=RunKind.QEMU, subject="TOOL", host="HOST", log="LOG",
                  emulator="QEMU A", second="QEMU B", why_not="WHY")
    return event, re.match(f"({SAID})", SAID)


def troubleshooting() -> str:
    lines = ["# Troubleshooting", "",
             "Every cause a failure can have, in the order the harness tries them (the first "
             "that explains what happened wins). Each decides the finding's kind, so the "
             "platform's verdict and the run's exit status: a CI retries an `error` (exit "
             f"{int(Exit.CANNOT_CHECK)}) and blocks on a `fail` (exit "
             f"{int(Exit.IMAGE_WRONG)}). Generated from the diagnosis table "
             "(`harness/core/diagnosis.py`); words in capitals stand for what the harness "
             "fills in.", ""]
    for cause in diagnosis.CAUSES:
        stage = sorted(cause.stages)[0]
        event, m = _sample(stage)
        message, fix = cause.make(event, m if cause.pattern is not None else None)
        kind = cause.kind
        lines += [f"## `{cause.name}`", "",
                  f"- **kind** `{kind}`: verdict `{kind.verdict}`, exit status "
                  f"{int(kind.exit_status)}",
                  f"- **when**: {_cell(', '.join(sorted(s.value for s in cause.stages)))}",
                  f"- **what you see**: {_cell(message)}",
                  f"- **why**: {_cell(cause.why)}"]
        if cause.pattern is not None:
            lines.append(f"- **recognised by** the pattern {_span(cause.pattern.pattern)}")
        lines += [f"- **fix**: {_cell(fix) if fix else 'nothing to fix'}", ""]
    return "\n".join(lines)


def _fields(schema: dict[str, Any], path: str) -> Iterator[tuple[str, str, str]]:
    """(path, type, description) of every field of ``schema``, depth first."""
    for name, sub in schema.get("properties", {}).items():
        here = f"{path}.{name}" if path else name
        yield here, _type(sub), sub.get("description", "")
        items = sub.get("items")
        if isinstance(items, dict):
            yield from _fields(items, f"{here}[]")
        values = sub.get("additionalProperties")
        if isinstance(values, dict) and values.get("properties"):
            yield from _fields(values, f"{here}.SOURCE")
        for option in sub.get("oneOf", []):
            yield from _fields(option, here)
        yield from _fields(sub, here) if sub.get("type") == "object" else iter(())


def _type(schema: dict[str, Any]) -> str:
    if "enum" in schema:
        return "one of " + ", ".join(f"`{v}`" for v in schema["enum"])
    if "const" in schema:
        return f"`{schema['const']}`"
    kind = schema.get("type")
    if isinstance(kind, list):
        return " or ".join(kind)
    if kind:
        return str(kind)
    if "oneOf" in schema:
        return " or ".join(_type(o) for o in schema["oneOf"])
    return "any"


def report_json() -> str:
    lines = ["# report.json", "",
             "Every field of report.json, from its JSON Schema (what "
             "`multiarch-harness report --schema` prints; `report` and `publish` validate "
             "every report they read against it). Fields are only ever added.", "",
             "| field | type | what it is |", "|---|---|---|"]
    for path, kind, about in _fields(report_schema.SCHEMA, ""):
        lines.append(f"| {_code(path)} | {kind} | {_cell(about)} |")
    return "\n".join(lines) + "\n"


def _draws(r: dict[str, Any]) -> dict[str, Any]:
    """A run's figures: with ``pairs`` (from run 28), each side's median seconds and each
    ratio's median and spread over the pairs; an earlier run's one draw as itself (its
    harness / floor where it kept a floor)."""
    if r.get("pairs"):
        got = bench_pairs.summary([Pair.read(p) for p in r["pairs"]])
        return {**got, "side_by_side": got["harness_median"], "buildx_peer": got["buildx_median"],
                "buildx_floor": got.get("floor_median"), "pairs": len(r["pairs"])}
    one: dict[str, Any] = {"side_by_side": r["side_by_side"], "buildx_peer": r["buildx_peer"],
                           "buildx_floor": r.get("buildx_floor"), "pairs": 0}
    if r.get("buildx_floor"):
        ratio = round(float(r["side_by_side"]) / float(r["buildx_floor"]), 3)
        one.update(floor_ratio_median=ratio, floor_ratio_min=ratio, floor_ratio_max=ratio)
    return one


BARS, RATIOS = 220, 380  # the base lines of the seconds' bars and of the floor ratios


def _plot(runs: list[dict[str, Any]]) -> str:
    """An SVG of each run's side-by-side time against plain buildx's, with the ratio and,
    where the run kept it, the floor (a dashed line); below, each run's harness / floor: one
    draw a point, a run of pairs its median (a point) and its spread (a bar, min to max)."""
    draws = [_draws(r) for r in runs]
    top = float(max([1.0, *(max(d["side_by_side"], d["buildx_peer"], d["buildx_floor"] or 0)
                            for d in draws)]))
    shown = [v for d in draws for v in (d.get("floor_ratio_min"), d.get("floor_ratio_max"))
             if v is not None]
    low: float = min([0.95, *shown])
    high: float = max([1.15, *shown])
    width, height, base, bar = max(120 * len(runs) + 60, 760), RATIOS + 30, BARS, 36
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

    def reach(seconds: Any) -> float:
        """How high ``seconds`` reaches above the base line, on the plot's common scale."""
        return (base - 40) * float(seconds) / top

    def level(ratio: float) -> float:
        """Where ``ratio`` sits in the panel of floor ratios (BARS + 50 to RATIOS)."""
        return RATIOS - (RATIOS - BARS - 60) * (ratio - low) / (high - low)

    one = level(1.0)
    out.append(f'<line x1="40" y1="{one:.1f}" x2="{width - 10}" y2="{one:.1f}" stroke="#999" '
               f'stroke-dasharray="2,3"/><text x="8" y="{one + 4:.1f}">1.0</text>')
    for n, (r, d) in enumerate(zip(runs, draws, strict=True)):
        x = 50 + 120 * n
        for k, (key, colour) in enumerate((("side_by_side", "#1e88e5"),
                                           ("buildx_peer", "#90a4ae"))):
            h = reach(d[key])
            out.append(f'<rect x="{x + k * (bar + 4)}" y="{base - h:.1f}" width="{bar}" '
                       f'height="{h:.1f}" fill="{colour}"><title>{sinks.html(str(d[key]))} s'
                       '</title></rect>')
        if d["buildx_floor"]:  # from run 21: what this machine allows (docs/benchmarks)
            y = base - reach(d["buildx_floor"])
            out.append(f'<line class="floor" x1="{x - 2}" y1="{y:.1f}" x2="{x + 2 * bar + 6}" '
                       f'y2="{y:.1f}" stroke="#000" stroke-dasharray="3,2"><title>floor '
                       f'{sinks.html(str(d["buildx_floor"]))} s</title></line>')
        ratio = float(d["side_by_side"]) / float(d["buildx_peer"])
        out.append(f'<text x="{x}" y="{base + 16}">run {sinks.html(str(r["run"]))}: '
                   f'{ratio:.3f}</text>')
        if "floor_ratio_median" in d:
            cx = x + bar + 2
            if d["pairs"]:
                out.append(f'<line class="spread" x1="{cx}" y1="{level(d["floor_ratio_max"]):.1f}"'
                           f' x2="{cx}" y2="{level(d["floor_ratio_min"]):.1f}" stroke="#1e88e5" '
                           f'stroke-width="3"><title>{d["pairs"]} pairs: '
                           f'{d["floor_ratio_min"]:.3f}-{d["floor_ratio_max"]:.3f}</title></line>')
            out.append(f'<circle class="median" cx="{cx}" cy="{level(d["floor_ratio_median"]):.1f}"'
                       f' r="4" fill="#000"><title>run {sinks.html(str(r["run"]))}: harness / '
                       f'floor {d["floor_ratio_median"]:.3f}</title></circle>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _figure(r: dict[str, Any], d: dict[str, Any]) -> str:
    """A run's harness / floor: its median and the spread of its pairs, or its one draw."""
    median = f"{d['floor_ratio_median']:.3f}"
    if d["pairs"]:
        median += f", {d['pairs']} pairs {d['floor_ratio_min']:.3f}-{d['floor_ratio_max']:.3f}"
    return f"run {_cell(r['run'])} ({median})"


def _schedule(r: dict[str, Any]) -> str:
    """Which platform built and probed when (bench.json's ``schedule``, where the history kept
    it), the last to finish first: the platform on the run's critical path."""
    spans = r.get("schedule") or {}
    if not spans:
        return "no schedule kept"
    done = sorted(spans.items(), key=lambda item: -max(
        (end for _s, end in item[1].values()), default=0.0))
    return "; ".join(f"{_cell(name)} " + ", ".join(
        f"{_cell(phase)} {start:.0f}-{end:.0f}" for phase, (start, end) in phases.items())
        for name, phases in done)


def analysis(runs: list[dict[str, Any]]) -> list[str]:
    """What the history says of harness / floor, generated: the runs above the floor, those
    beyond the target, the spread across runs, each run above the floor with its schedule."""
    judged = [(r, d) for r in runs if "floor_ratio_median" in (d := _draws(r))]
    if not judged:
        return ["No run kept a floor (plain buildx's time plus the checks' CPU beyond what its "
                "builds left idle): there is nothing yet to set the harness against."]
    target = bench_pairs.TARGET_FLOOR_RATIO
    across = bench_pairs.spread([d["floor_ratio_median"] for _r, d in judged])
    above = [(r, d) for r, d in judged if d["floor_ratio_median"] > 1.0]
    beyond = [(r, d) for r, d in above if d["floor_ratio_median"] > target]
    rest = [(r, d) for r, d in judged if d["floor_ratio_median"] <= 1.0]
    last_r, last_d = judged[-1]
    where = "above" if last_d["floor_ratio_median"] > 1.0 else "at or below"
    within = "beyond" if last_d["floor_ratio_median"] > target else "within"
    lines = [f"{len(judged)} runs kept a floor. Across them, harness / floor has median "
             f"{across['median']:.3f} ({across['min']:.3f}-{across['max']:.3f}); the latest, "
             f"{_figure(last_r, last_d)}, sits {where} the floor, {within} the target "
             f"(≤ {target}). A run of pairs counts by its median.", "",
             f"- Above the floor: {', '.join(_figure(r, d) for r, d in above) or 'none'}",
             f"- Of those, beyond the target (≤ {target}): "
             f"{', '.join(_figure(r, d) for r, d in beyond) or 'none'}",
             f"- At or below the floor: {', '.join(_figure(r, d) for r, d in rest) or 'none'}",
             ""]
    if above:
        lines += ["Each run above the floor, and its schedule (seconds from the command's "
                  "start; the platform that finished last first):", ""]
        lines += [f"- {_figure(r, d)}: {_schedule(r)}" for r, d in above]
    return lines


def bench_history(history: dict[str, Any]) -> tuple[str, str]:
    """The benchmark's runs as a page (a table) and a plot (SVG), from the history data."""
    runs = history.get("runs", [])
    lines = ["# Benchmark history", "", _cell(history.get("about", "")), "",
             "![side by side against plain buildx, per run](bench-history.svg)", "",
             "| run | side by side | plain buildx | ratio (target ≤ 1.0) | floor (ratio) | "
             "warm rerun | publish / docker push | harness / floor | by hand ratio |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        d = _draws(r)
        # A run may lack a measure (run 12's publish stopped on a full disk): shown as "-".
        publish = f"{r['publish_first_s'] / r['docker_push_s']:.3f}" \
            if r.get("publish_first_s") and r.get("docker_push_s") else "-"
        # From run 16 a rerun reads the answers back; the same rerun asking every image
        # again is its own figure.
        warm = f"{r['warm']} s" + (f" (every image asked again: {r['warm_asked']} s)"
                                   if r.get("warm_asked") else "")
        # The least a run that checks can take here (from run 21; see docs/benchmarks.md).
        floor = f"{d['buildx_floor']} s ({d['buildx_floor'] / d['buildx_peer']:.3f})" \
            if d["buildx_floor"] else "-"
        # From run 28, medians over the pairs with their spread (min-max); before, one draw.
        pairs = f", {d['pairs']} pairs" if d["pairs"] else ""
        lines.append(
            f"| {_cell(r['run'])} | {d['side_by_side']} s | {d['buildx_peer']} s | "
            f"{d['side_by_side'] / d['buildx_peer']:.3f} | {floor} | {warm} | {publish} | "
            f"{bench_pairs.shown(d, 'floor_ratio')}{pairs} | "
            f"{bench_pairs.shown(d, 'by_hand_ratio')} |")
    lines += ["", "## Analysis", "", *analysis(runs)]
    return "\n".join(lines) + "\n", _plot(runs)


def write(out: Path, history: Path = HISTORY) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    page, plot = bench_history(json.loads(history.read_text()))
    written = []
    for name, text in zip(PAGES, (configuration(), troubleshooting(), report_json(), page),
                          strict=True):
        files.write_atomic(out / name, text)
        written.append(out / name)
    files.write_atomic(out / "bench-history.svg", plot)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.docs", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("docs/reference"),
                        help="where the generated pages go (default docs/reference)")
    args = parser.parse_args(argv)
    for path in write(args.out):
        print(f"wrote {path}")
    return Exit.OK


if __name__ == "__main__":
    sys.exit(run_command("docs", main, sys.argv[1:]))
