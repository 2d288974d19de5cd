"""The reports as text: report.md (Markdown, with a Mermaid gantt of each platform's
phases) and the console's summary table. Their data is report.json's (harness.core.report);
every value from outside goes through its sink's renderer (harness.core.sinks). Pure.
"""

from __future__ import annotations

from typing import Any

from harness.core import parity, sinks
from harness.core.clock import epoch
from harness.core.outcomes import Kind, Verdict

md_code = sinks.markdown_code
# Findings that say there was nothing to check: shown in the tables, not listed as findings.
QUIET = (Kind.ABSENT, Kind.NOT_APPLICABLE)
_ICON = {Verdict.PASS: "✅", Verdict.QUIRK: "⚠️", Verdict.FAIL: "❌", Verdict.ERROR: "⛔"}


def _seen(platform: dict[str, Any], source: str) -> str | None:
    """A source's value for a table cell: None when there is a value, else a word of ours."""
    seen = platform["observed"].get(source)
    if not seen:
        return "-"
    if seen.get("kind") == "skipped":
        return "skipped"
    if seen.get("kind") == Kind.NOT_APPLICABLE:  # nothing to ask here: not a missing answer
        return "not applicable"
    if seen.get("error"):
        return "error"
    if seen.get("raw") is None:
        return "absent"
    return None


def _value(platform: dict[str, Any], source: str) -> str:
    seen = platform["observed"][source]
    return str(seen.get("value") or seen.get("raw"))


def _cell(platform: dict[str, Any], source: str) -> str:
    """The cell of report.md's table: a word of ours, or the value as a code span."""
    word = _seen(platform, source)
    return word if word is not None else sinks.markdown_code(_value(platform, source), 80)


def _console_cell(platform: dict[str, Any], source: str) -> str:
    word = _seen(platform, source)
    return word if word is not None else sinks.terminal(_value(platform, source), 40)


def _build_cell(platform: dict[str, Any]) -> str:
    build = platform.get("build") or {}
    if "seconds" not in build:
        return "-"
    return f"{build['seconds']:.0f} s" + ("" if build.get("ok", True) else " (failed)")


def render_markdown(report: dict[str, Any]) -> str:
    host = report.get("host", {})
    lines = [
        f"### Multi-arch image check: {report['verdict']}",
        "",
        f"Host {md_code(host.get('arch', '?'))}, engine "
        f"{sinks.markdown(host.get('engine_version', '?'))} "
        f"(API {sinks.markdown(host.get('api_version', '?'))}), builder "
        f"{sinks.markdown(host.get('builder', '?'))}.",
        "",
        "| Platform | Verdict | Runs as | Build | dpkg | uname -m | rustc host | ELF /bin/sh |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for p in report["platforms"]:
        run = p.get("run") or {}
        runs = run.get("kind", "?")
        if runs == "qemu" and run.get("qemu_version"):
            runs = f"QEMU {run['qemu_version']}"
        lines.append(
            f"| {md_code(p['platform'])} | {_ICON.get(p['verdict'], '')} {p['verdict']} | "
            f"{sinks.markdown(runs)} | "
            f"{_build_cell(p)} | {_cell(p, 'dpkg')} | {_cell(p, 'uname')} | "
            f"{_cell(p, 'rustc')} | {_cell(p, 'sh-elf')} |"
        )
    lines += _engine_lines(report, markdown=True)
    read_back = [md_code(p["platform"]) for p in report["platforms"] if kept_answers(p)]
    if read_back:
        lines += ["", f"Answers read back for {', '.join(read_back)}: the same images ran on "
                      "this machine before, as they would run now (`--no-cache` asks them "
                      "again)."]
    lines += gantt(report)
    notes = [(p["platform"], f) for p in report["platforms"] for f in p["findings"]
             if f["kind"] not in QUIET]
    index = report.get("index")
    if index:
        lines.insert(3, f"Checked {md_code(index['ref'])} (index "
                        f"{md_code(index.get('digest'))}).")
        lines.insert(4, "")
        notes += [("index", f) for f in index.get("findings", [])]
    compared = report.get("parity")
    if compared:
        lines += ["", "#### Parity across platforms", "",
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
            fix = f" — *fix:* {sinks.markdown(f['fix'])}" if f.get("fix") else ""
            lines.append(f"- **{sinks.markdown(platform)}** {md_code(f['source'])} "
                         f"({sinks.markdown(f['kind'])}): {sinks.markdown(f['message'])}{fix}")
    return "\n".join(lines) + "\n"




def gantt(report: dict[str, Any]) -> list[str]:
    """The timeline as a Mermaid gantt block (GitHub renders it, in step summaries too):
    a section per platform, a task per phase, milliseconds from the run's start."""
    spans = [(p, [(epoch(ph["start"]), epoch(ph["end"]), ph)
                  for ph in p.get("phases") or []]) for p in report["platforms"]]
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
        how = (p.get("run") or {}).get("kind") or ""
        lines.append(f"    section {sinks.mermaid_name(p['platform'] + ' ' + how)}")
        for a, b, ph in phases:
            name = ph["name"] + (f" {ph['label']}" if ph.get("label") else "")
            lines.append(f"    {sinks.mermaid_name(name)} :{round((a - zero) * 1000)}, "
                         f"{max(round((b - a) * 1000), 1)}ms")
    lines.append("```")
    return lines


def _engine_lines(report: dict[str, Any], markdown: bool) -> list[str]:
    """Where each platform ran, when they did not all run on one engine."""
    engines = {p["platform"]: p.get("engine") or {} for p in report["platforms"]}
    if len({e.get("url") for e in engines.values()}) <= 1:
        return []
    lines, bullet = (["", "Engines:", ""], "- ") if markdown else (["engines:"], "  ")
    text = sinks.markdown if markdown else sinks.terminal
    for name, e in engines.items():
        lines.append(f"{bullet}{text(name)} on {text(e.get('url', '?'))} (Docker "
                     f"{text(e.get('version', '?'))}, {text(e.get('arch', '?'))})")
    return lines


def kept_answers(platform: dict[str, Any]) -> bool:
    """Whether a platform's answers were read back from an earlier run of the same image on
    the same machine (harness.machine.kept), not asked in this run."""
    observed = platform.get("observed") or {}
    config = observed.get("config") or {}
    return (config.get("detail") or {}).get("read") == "kept"


def render_console(report: dict[str, Any]) -> list[str]:
    """A plain-text table for the end of the terminal output."""
    rows: list[tuple[str, ...]] = [("PLATFORM", "VERDICT", "RUNS AS", "BUILD", "DPKG", "UNAME",
                                    "RUSTC HOST")]
    for p in report["platforms"]:
        rows.append((
            sinks.terminal(p["platform"]), sinks.terminal(p["verdict"]).upper(),
            sinks.terminal((p.get("run") or {}).get("kind", "?")),
            _build_cell(p), *(_console_cell(p, s) for s in ("dpkg", "uname", "rustc")),
        ))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
             for r in rows]
    lines += _engine_lines(report, markdown=False)
    read_back = [p["platform"] for p in report["platforms"] if kept_answers(p)]
    if read_back:
        lines.append(f"answers read back ({sinks.terminal(', '.join(read_back))}): the same "
                     "images ran on this machine before, as they would run now; --no-cache "
                     "asks them again")
    compared = report.get("parity")
    if compared and (compared["missing_count"] or compared["versions_count"]):
        lines.append(f"parity (warning): {sinks.terminal(parity.summary(compared))}")
        lines += [f"    {sinks.terminal(line, 200)}" for line in parity.lines(compared, 5)]
    notes = [(p["platform"], f) for p in report["platforms"] for f in p["findings"]]
    notes += [("index", f) for f in (report.get("index") or {}).get("findings", [])]
    for where, f in notes:
        if f["kind"] not in QUIET:
            lines.append(f"{sinks.terminal(where)} [{sinks.terminal(f['kind'])}] "
                         f"{sinks.terminal(f['source'])}: {sinks.terminal(f['message'])}")
            if f.get("fix"):
                lines.append(f"    fix: {sinks.terminal(f['fix'])}")
    return lines
