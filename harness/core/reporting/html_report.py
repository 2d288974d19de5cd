"""report.html: one self-contained page (inline CSS and SVG; no script, font or image
fetched from anywhere) for people to look at. Pure: report.json in, text out.

- a timeline: one row per platform, its phases as bars on the run's time axis, native or
  QEMU named, the run's wall time and the ideal (its longest platform alone) marked;
- a matrix: platforms x sources, each cell in its verdict's colour with the observed value,
  the raw answer in a <details>, and the findings with their fixes below;
- where it ran: host, engines, builder, QEMU; links to each platform's logs (relative).

Everything from a report goes through :func:`harness.core.sinks.html` (imported as ``escape``):
an image's answers are text here, never markup.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from typing import Any

from harness.core.answers import parity, sources
from harness.core.answers.details import NotApplicable
from harness.core.answers.observation import Observation
from harness.core.clock import epoch
from harness.core.judging.verdicts import verdict_of
from harness.core.outcomes import Kind
from harness.core.reporting.render import targets_matrix
from harness.core.reporting.report import Cell, Report, cell
from harness.core.results.platform_result import PlatformResult
from harness.core.sinks import html as escape

COLOURS = {"pass": "#2e7d32", "quirk": "#ed8c00", "fail": "#c62828", "error": "#6a1b9a",
           "absent": "#9e9e9e", "not-applicable": "#546e7a"}
# Cells whose word is the verdict's own (the value would be empty or a reason).
WORDS = {"not-applicable": "not applicable"}
PHASE_COLOURS = {"base": "#90a4ae", "pull": "#90a4ae", "build": "#1e88e5", "step": "#90caf9",
                 "cached": "#c5e1a5", "cache": "#26c6da", "probe": "#43a047",
                 "hello": "#fb8c00", "audit": "#8e24aa", "baseline": "#6d4c41",
                 "publish": "#00897b", "native": "#5e35b1"}
STEP_ROW = ("step", "cached")  # a build's steps, drawn thin inside its build
RAW_LIMIT = 2000
NEWLINE = "\n"  # kept in <pre> blocks; every other non-printing character is escaped

CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#212121;max-width:1200px}
h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:28px 0 8px}
.verdict{display:inline-block;padding:1px 8px;border-radius:4px;color:#fff;font-weight:600}
table{border-collapse:collapse;font-size:13px} th,td{border:1px solid #e0e0e0;padding:4px 6px}
th{background:#fafafa;text-align:left} td.cell{color:#fff;min-width:60px}
td.cell details summary{cursor:pointer;list-style:none} td.cell pre{color:#212121;
background:#fff;white-space:pre-wrap;max-width:420px;max-height:240px;overflow:auto;margin:4px 0}
.legend span{display:inline-block;margin-right:12px} .sw{display:inline-block;width:10px;
height:10px;margin-right:4px;border-radius:2px} ul.findings li{margin:4px 0}
.muted{color:#757575} code{font-size:12px}
"""


def _span(platform: PlatformResult) -> tuple[float, float] | None:
    times = [(epoch(p.start), epoch(p.end)) for p in platform.phases]
    if not times:
        return None
    return min(t[0] for t in times), max(t[1] for t in times)


def _run_span(report: Report) -> tuple[float, float] | None:
    run = report.run
    spans = [s for s in map(_span, report.platforms) if s]
    if run and run.start and run.end:
        return epoch(run.start), epoch(run.end)
    if not spans:
        return None
    return min(s[0] for s in spans), max(s[1] for s in spans)


# The colour of a cell without findings, by what its answer came to (report.cell).
_CELL_VERDICT = {Cell.MISSING: "absent", Cell.SKIPPED: "skipped",
                 Cell.NOT_APPLICABLE: "not-applicable", Cell.ERROR: "error",
                 Cell.ABSENT: "absent", Cell.ANSWERED: "pass"}


def cell_verdict(platform: PlatformResult, source: str) -> str:
    """The verdict of one source on one platform: its findings' worst, else pass if it
    answered, absent if it had nothing to answer, error if asking failed; not-applicable
    where the source does not apply to the platform (never absent: no answer is missing)."""
    found = [f.kind for f in platform.findings if f.source == source]
    state = cell(platform, source)
    if state is Cell.NOT_APPLICABLE or (found and all(k is Kind.NOT_APPLICABLE for k in found)):
        return "not-applicable"
    if found:
        return str(verdict_of(found))
    return _CELL_VERDICT[state]


def _short(value: object, limit: int = 40) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _axis_step(seconds: float) -> int:
    for step in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600):
        if seconds / step <= 12:
            return step
    return 7200


def timeline(report: Report) -> str:
    """The SVG timeline; a sentence when no platform has a phase (nothing was built)."""
    span = _run_span(report)
    platforms = report.platforms
    if span is None or span[1] <= span[0]:
        return '<p class="muted">No timings: no platform got as far as a phase.</p>'
    start, end = span
    wall = end - start
    left, width, row = 190, 760, 30
    scale = width / wall
    height = 40 + row * len(platforms) + 30
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{left + width + 20}" '
           f'height="{height}" role="img" aria-label="timeline" font-size="12">']
    step = _axis_step(wall)
    for t in range(0, int(wall) + 1, step):
        x = left + t * scale
        out.append(f'<line x1="{x:.1f}" y1="24" x2="{x:.1f}" y2="{height - 30}" '
                   'stroke="#eeeeee"/>')
        out.append(f'<text x="{x:.1f}" y="16" text-anchor="middle" fill="#757575">{t}s</text>')
    longest = max((s[1] - s[0] for s in map(_span, platforms) if s), default=0.0)
    for i, p in enumerate(platforms):
        y = 28 + i * row
        kind = p.run.kind if p.run else None
        how = "QEMU" if kind == "qemu" else kind or "?"
        out.append(f'<g class="row" data-platform="{escape(p.platform)}">')
        out.append(f'<text x="4" y="{y + 17}">{escape(p.unit)}</text>')
        out.append(f'<text x="{left - 8}" y="{y + 17}" text-anchor="end" fill="#757575">'
                   f'{escape(how)}</text>')
        for phase in p.phases:
            a, b = epoch(phase.start) - start, epoch(phase.end) - start
            x, w = left + a * scale, max((b - a) * scale, 1.0)
            name = phase.name
            top, h = (y + 16, 6) if name in STEP_ROW else \
                (y + 9, 10) if name in ("hello", "audit", "baseline", "native") else \
                (y + 3, 22)
            label = f"{name}: {phase.label}" if phase.label else name
            out.append(f'<rect class="phase" data-platform="{escape(p.platform)}" '
                       f'data-phase="{escape(name)}" x="{x:.1f}" '
                       f'y="{top}" width="{w:.1f}" height="{h}" rx="2" '
                       f'fill="{PHASE_COLOURS.get(name, "#bdbdbd")}"><title>'
                       f'{escape(label)} ({b - a:.1f} s)</title></rect>')
        out.append("</g>")
    base = height - 24
    out.append(f'<line x1="{left + wall * scale:.1f}" y1="24" x2="{left + wall * scale:.1f}" '
               f'y2="{base}" stroke="#212121"/>')
    if longest:
        x = left + longest * scale
        out.append(f'<line class="ideal" x1="{x:.1f}" y1="24" x2="{x:.1f}" y2="{base}" '
                   'stroke="#212121" stroke-dasharray="4 3"/>')
    out.append(f'<text x="{left}" y="{height - 8}">run: {wall:.1f} s wall time; ideal '
               f'(its longest platform alone): {longest:.1f} s (dashed)</text>')
    out.append("</svg>")
    legend = "".join(f'<span><i class="sw" style="background:{c}"></i>{n}</span>'
                     for n, c in PHASE_COLOURS.items() if n != "pull")
    return "\n".join(out) + f'\n<p class="legend">{legend}</p>'


def _sources(report: Report) -> list[str]:
    seen: list[str] = []
    for p in report.platforms:
        for source in [*p.observed(), *(f.source for f in p.findings)]:
            if source not in seen:
                seen.append(source)
    return sorted(seen, key=sources.rank)  # stable: the others keep the order found


def matrix(report: Report) -> str:
    sources = _sources(report)
    rows = ["<table class=\"matrix\"><tr><th>platform</th><th>verdict</th>"
            + "".join(f"<th>{escape(s)}</th>" for s in sources) + "</tr>"]
    for p in report.platforms:
        observed = p.observed()
        cells = []
        for source in sources:
            verdict = cell_verdict(p, source)
            seen = observed.get(source) or Observation(source, None)
            value = WORDS.get(verdict) or seen.value or seen.raw or seen.error or verdict
            raw = str(seen.raw or seen.error or NotApplicable.of(seen.detail).reason)[:RAW_LIMIT]
            inner = (f"<details><summary>{escape(_short(value))}</summary><pre>"
                     f"{escape(raw, keep=NEWLINE)}</pre></details>") if raw \
                else escape(_short(value))
            cells.append(f'<td class="cell {verdict}" data-source="{escape(source)}" '
                         f'data-verdict="{verdict}" style="background:'
                         f'{COLOURS[verdict]}">{inner}</td>')
        verdict = p.verdict
        target = f' data-target="{escape(p.target)}"' if p.target else ""
        rows.append(f'<tr data-platform="{escape(p.platform)}"{target} '
                    f'data-verdict="{escape(verdict)}"><th>'
                    f'{escape(p.unit)}</th><td><span class="verdict" style="background:'
                    f'{COLOURS.get(verdict, "#9e9e9e")}">{escape(verdict)}</span></td>'
                    + "".join(cells) + "</tr>")
    rows.append("</table>")
    return "\n".join(rows)


def _targets(report: Report) -> str:
    """With Bake targets: their verdicts, targets by platforms (render.targets_matrix)."""
    platforms, rows = targets_matrix(report)
    if not rows:
        return ""
    out = ['<h2>Targets by platform</h2><table class="targets"><tr><th>target</th>'
           + "".join(f"<th>{escape(p)}</th>" for p in platforms) + "</tr>"]
    for target, verdicts in rows:
        out.append(f'<tr data-target="{escape(target)}"><th>{escape(target)}</th>' + "".join(
            f'<td data-platform="{escape(p)}" data-verdict="{escape(v)}" style="background:'
            f'{COLOURS.get(v, "#eeeeee")}">{escape(v or "-")}</td>'
            for p, v in zip(platforms, verdicts, strict=True)) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def _findings(report: Report) -> str:
    items = []
    for p in report.platforms:
        for f in p.findings:
            if f.kind in (Kind.ABSENT, Kind.NOT_APPLICABLE):  # nothing to act on
                continue
            fix = f" <b>fix:</b> {escape(f.fix)}" if f.fix else ""
            items.append(f"<li><b>{escape(p.unit)}</b> <code>{escape(f.source)}"
                         f"</code> ({escape(f.kind)}): {escape(f.message)}{fix}</li>")
    for f in (report.index.findings if report.index else ()):
        items.append(f"<li><b>index</b> ({escape(f.kind)}): {escape(f.message)}</li>")
    return f'<ul class="findings">{"".join(items)}</ul>' if items else \
        '<p class="muted">No findings.</p>'


def _parity(report: Report) -> str:
    """The packages compared: across the platforms, or across each Bake target's."""
    found = [_compared(report.parity, "platforms", "")] if report.parity else []
    found += [_compared(c, f"{t}'s platforms", f"-{t}")
              for t, c in (report.target_parity or {}).items()]
    return "".join(found)


def _compared(compared: Mapping[str, Any], what: str, suffix: str) -> str:
    items = "".join(f"<li>{escape(line)}</li>" for line in parity.lines(compared, 50))
    pulled = "".join(f"<li>{escape(line)}</li>"
                     for line in parity.dependency_lines(compared, 50))
    return (f'<h2>Parity across {escape(what)}</h2><p id="parity{escape(suffix)}">'
            f'{escape(parity.summary(compared))} (a warning: verdicts are per platform).</p>'
            + (f'<ul class="findings">{items}</ul>' if items else "")
            + (f'<details id="dependencies{escape(suffix)}"><summary>'
               f'{compared["dependencies_count"]} '
               'packages pulled in as dependencies on some platforms only</summary>'
               f'<ul class="findings">{pulled}</ul></details>' if pulled else ""))


def _logs(platform: PlatformResult, base: str) -> str:
    paths = [("build", platform.build.log if platform.build else None),
             ("probe", platform.probe_log)]
    links = [f'<a href="{escape(posixpath.relpath(path, base) if path.startswith("/") else path)}">'
             f"{name}</a>" for name, path in paths if path]
    return " · ".join(links) or '<span class="muted">none</span>'


def _where(report: Report, base: str) -> str:
    host = report.host
    rows = [f"<p>Host <code>{escape(str(host.get('arch')))}</code>, engine "
            f"{escape(str(host.get('engine_version')))} (API "
            f"{escape(str(host.get('api_version')))}), builder "
            f"{escape(str(host.get('builder')))}, buildx {escape(str(host.get('buildx')))}.</p>",
            "<table><tr><th>platform</th><th>engine</th><th>runs as</th><th>logs</th></tr>"]
    for p in report.platforms:
        engine, run = p.engine, p.run
        runs = str(run.kind) if run else "?"
        if run and run.qemu_version:
            runs += f" (QEMU {run.qemu_version}, {run.interpreter or ''})"
        url, version, arch, kind = (engine.url, engine.version, engine.arch, engine.kind) \
            if engine else ("?", "?", "?", "?")
        rows.append(f"<tr><td>{escape(p.unit)}</td><td><code>"
                    f"{escape(str(url))}</code> {escape(str(kind))} "
                    f"{escape(str(version))} on "
                    f"{escape(str(arch))}</td><td>{escape(runs)}</td>"
                    f"<td>{_logs(p, base)}</td></tr>")
    rows.append("</table>")
    return "\n".join(rows)


def render_html(report: Report, base: str = "") -> str:
    """The page; ``base``: the report directory, so that log links are relative to it."""
    verdict = report.verdict
    title = f"Multi-arch image check: {verdict}"
    ref = report.index.ref if report.index else None
    checked = f"<p>Checked <code>{escape(ref)}</code>.</p>" if ref else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>
<style>{CSS}</style></head><body>
<h1>Multi-arch image check <span class="verdict" id="verdict" style="background:\
{COLOURS.get(verdict, '#9e9e9e')}">{escape(verdict)}</span></h1>
<p class="muted">exit status {report.exit_status}, quirk policy \
{escape(str(report.quirk_policy))}</p>{checked}
{_targets(report)}
<h2>Timeline</h2>
{timeline(report)}
<h2>Verdicts by source</h2>
{matrix(report)}
<h2>Findings</h2>
{_findings(report)}
{_parity(report)}
<h2>Where it ran</h2>
{_where(report, base)}
</body></html>
"""

