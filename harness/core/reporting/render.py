"""The reports as text: report.md (Markdown, with a Mermaid gantt of each platform's
phases) and the console's summary table. Their data is report.json's
(harness.core.reporting.report);
every value from outside goes through its sink's renderer (harness.core.sinks). Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.core import sinks
from harness.core.answers import parity
from harness.core.clock import epoch
from harness.core.outcomes import Kind, Verdict
from harness.core.reporting.report import Cell, Report, cell
from harness.core.results.platform_result import PlatformResult

md_code = sinks.markdown_code
# Findings that say there was nothing to check: shown in the tables, not listed as findings.
QUIET = (Kind.ABSENT, Kind.NOT_APPLICABLE)
_ICON = {Verdict.PASS: "✅", Verdict.QUIRK: "⚠️", Verdict.FAIL: "❌", Verdict.ERROR: "⛔"}


# A cell's word where there is no value to show (harness.core.reporting.report.cell decides which).
_WORDS = {Cell.MISSING: "-", Cell.SKIPPED: "skipped", Cell.NOT_APPLICABLE: "not applicable",
          Cell.ERROR: "error", Cell.ABSENT: "absent"}


def _seen(platform: PlatformResult, source: str) -> str | None:
    """A source's value for a table cell: None when there is a value, else a word of ours."""
    return _WORDS.get(cell(platform, source))


def _value(platform: PlatformResult, source: str) -> str:
    seen = platform.observed()[source]
    return str(seen.value or seen.raw)


def _cell(platform: PlatformResult, source: str) -> str:
    """The cell of report.md's table: a word of ours, or the value as a code span."""
    word = _seen(platform, source)
    return word if word is not None else sinks.markdown_code(_value(platform, source), 80)


def _console_cell(platform: PlatformResult, source: str) -> str:
    word = _seen(platform, source)
    return word if word is not None else sinks.terminal(_value(platform, source), 40)


def _build_cell(platform: PlatformResult) -> str:
    build = platform.build
    if build is None or build.seconds is None:
        return "-"
    return f"{build.seconds:.0f} s" + ("" if build.ok else " (failed)")


def _runs(platform: PlatformResult) -> str:
    return str(platform.run.kind) if platform.run else "?"


def render_markdown(report: Report) -> str:
    host = report.host
    lines = [
        f"### Multi-arch image check: {report.verdict}",
        "",
        f"Host {md_code(str(host.get('arch', '?')))}, engine "
        f"{sinks.markdown(str(host.get('engine_version', '?')))} "
        f"(API {sinks.markdown(str(host.get('api_version', '?')))}), builder "
        f"{sinks.markdown(str(host.get('builder', '?')))}.",
        "",
        "| Platform | Verdict | Runs as | Build | dpkg | uname -m | rustc host | ELF /bin/sh |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for p in report.platforms:
        runs = _runs(p)
        if p.run and runs == "qemu" and p.run.qemu_version:
            runs = f"QEMU {p.run.qemu_version}"
        lines.append(
            f"| {md_code(p.unit)} | {_ICON.get(p.verdict, '')} {p.verdict} | "
            f"{sinks.markdown(runs)} | "
            f"{_build_cell(p)} | {_cell(p, 'dpkg')} | {_cell(p, 'uname')} | "
            f"{_cell(p, 'rustc')} | {_cell(p, 'sh-elf')} |"
        )
    lines += _targets_lines(report, markdown=True)
    lines += _engine_lines(report, markdown=True)
    read_back = [md_code(p.unit) for p in report.platforms if p.kept()]
    if read_back:
        lines += ["", f"Answers read back for {', '.join(read_back)}: the same images ran on "
                      "this machine before, as they would run now (`--no-cache` asks them "
                      "again)."]
    lines += gantt(report)
    notes = [(p.unit, f) for p in report.platforms for f in p.findings
             if f.kind not in QUIET]
    index = report.index
    if index:
        lines.insert(3, f"Checked {md_code(index.ref)} (index "
                        f"{md_code(str(index.digest))}).")
        lines.insert(4, "")
        notes += [("index", f) for f in index.findings]
    for of, compared in parities(report):
        lines += ["", f"#### Parity across {of}platforms", "",
                  f"{sinks.markdown(parity.summary(compared))} (a warning: verdicts are "
                  "per platform)."]
        lines += [f"- {sinks.markdown(line)}" for line in parity.lines(compared)]
        pulled = parity.dependency_lines(compared)
        if pulled:  # the detail: no one asked for these, so they are not in the summary
            lines += ["", f"<details><summary>{compared['dependencies_count']} packages pulled "
                          "in as dependencies on some platforms only</summary>", ""]
            lines += [f"- {sinks.markdown(line)}" for line in pulled] + ["", "</details>"]
    if notes:
        lines += ["", "#### Findings", ""]
        for platform, f in notes:
            fix = f" — *fix:* {sinks.markdown(f.fix)}" if f.fix else ""
            lines.append(f"- **{sinks.markdown(platform)}** {md_code(f.source)} "
                         f"({sinks.markdown(f.kind)}): {sinks.markdown(f.message)}{fix}")
    return "\n".join(lines) + "\n"




def gantt(report: Report) -> list[str]:
    """The timeline as a Mermaid gantt block (GitHub renders it, in step summaries too):
    a section per platform, a task per phase, milliseconds from the run's start."""
    spans = [(p, [(epoch(ph.start), epoch(ph.end), ph) for ph in p.phases])
             for p in report.platforms]
    starts = [a for _p, phases in spans for a, _b, _ph in phases]
    if not starts:
        return []
    zero = min(starts)
    lines = ["", "#### Timeline", "", "```mermaid", "gantt",
             "    title Each platform's phases, from the start of the run",
             "    dateFormat x", "    axisFormat %M:%S"]
    for p, phases in spans:
        if not phases:
            continue
        how = str(p.run.kind) if p.run else ""
        lines.append(f"    section {sinks.mermaid_name(p.unit + ' ' + how)}")
        for a, b, ph in phases:
            name = ph.name + (f" {ph.label}" if ph.label else "")
            lines.append(f"    {sinks.mermaid_name(name)} :{round((a - zero) * 1000)}, "
                         f"{max(round((b - a) * 1000), 1)}ms")
    lines.append("```")
    return lines


def parities(report: Report, terminal: bool = False
             ) -> list[tuple[str, Mapping[str, Any]]]:
    """Each comparison of packages with what it compares (``""``, or ``"app's "`` for a
    target's platforms, escaped for markdown, or for a terminal)."""
    escape = sinks.terminal if terminal else sinks.markdown
    found = [("", report.parity)] if report.parity else []
    return found + [(f"{escape(t)}'s ", c) for t, c in (report.target_parity or {}).items()]


def targets_matrix(report: Report) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """With Bake targets: the platforms (columns) and each target's verdict on each (rows;
    ``""`` where a target does not build a platform). Empty without targets."""
    if not any(p.target for p in report.platforms):
        return [], []
    platforms = sorted({p.platform for p in report.platforms})
    verdicts: dict[str, dict[str, str]] = {}
    for p in report.platforms:
        verdicts.setdefault(p.target or "", {})[p.platform] = str(p.verdict)
    return platforms, [(t, [v.get(name, "") for name in platforms]) for t, v in verdicts.items()]


def _targets_lines(report: Report, markdown: bool) -> list[str]:
    """The targets by platforms matrix, with Bake targets."""
    platforms, rows = targets_matrix(report)
    if not rows:
        return []
    if not markdown:
        table = [("TARGET", *platforms)] + [(sinks.terminal(t), *(v.upper() or "-" for v in vs))
                                            for t, vs in rows]
        widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
        return [""] + ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                       for r in table]
    lines = ["", "#### Targets by platform", "", "| Target | " + " | ".join(
        md_code(p) for p in platforms) + " |", "|---|" + "---|" * len(platforms)]
    lines += [f"| {md_code(t)} | " + " | ".join(
        f"{_ICON.get(Verdict(v), '')} {v}" if v else "—" for v in vs) + " |" for t, vs in rows]
    return lines


def _engine_lines(report: Report, markdown: bool) -> list[str]:
    """Where each platform ran, when they did not all run on one engine."""
    engines = {p.unit: p.engine for p in report.platforms}
    if len({e.url if e else None for e in engines.values()}) <= 1:
        return []
    lines, bullet = (["", "Engines:", ""], "- ") if markdown else (["engines:"], "  ")
    text = sinks.markdown if markdown else sinks.terminal
    for name, e in engines.items():
        url, version, arch, kind = (e.url, e.version, e.arch, e.kind) if e else \
            ("?", "?", "?", "?")
        lines.append(f"{bullet}{text(name)} on {text(url)} ({kind} "
                     f"{text(str(version))}, {text(str(arch))})")
    return lines


def render_console(report: Report) -> list[str]:
    """A plain-text table for the end of the terminal output."""
    rows: list[tuple[str, ...]] = [("PLATFORM", "VERDICT", "RUNS AS", "BUILD", "DPKG", "UNAME",
                                    "RUSTC HOST")]
    for p in report.platforms:
        rows.append((
            sinks.terminal(p.unit), sinks.terminal(p.verdict).upper(),
            sinks.terminal(_runs(p)),
            _build_cell(p), *(_console_cell(p, s) for s in ("dpkg", "uname", "rustc")),
        ))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
             for r in rows]
    lines += _targets_lines(report, markdown=False)
    lines += _engine_lines(report, markdown=False)
    read_back = [p.unit for p in report.platforms if p.kept()]
    if read_back:
        lines.append(f"answers read back ({sinks.terminal(', '.join(read_back))}): the same "
                     "images ran on this machine before, as they would run now; --no-cache "
                     "asks them again")
    for of, compared in parities(report, terminal=True):
        if compared["missing_count"] or compared["versions_count"]:
            lines.append(f"parity{' of ' + of.removesuffix(' ') if of else ''} (warning): "
                         f"{sinks.terminal(parity.summary(compared))}")
            lines += [f"    {sinks.terminal(line, 200)}" for line in parity.lines(compared, 5)]
    notes = [(p.unit, f) for p in report.platforms for f in p.findings]
    notes += [("index", f) for f in (report.index.findings if report.index else ())]
    for where, f in notes:
        if f.kind not in QUIET:
            lines.append(f"{sinks.terminal(where)} [{sinks.terminal(f.kind)}] "
                         f"{sinks.terminal(f.source)}: {sinks.terminal(f.message)}")
            if f.fix:
                lines.append(f"    fix: {sinks.terminal(f.fix)}")
    return lines
