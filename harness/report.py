"""Results per platform, and the reports rendered from them: report.json, report.md, console.

``report.json`` is read by CI scripts; its fields are documented in the README and kept
stable: add fields, never rename them.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness.outcomes import Exit, Kind, Verdict
from harness.outcomes import exit_status as _exit_status
from harness.verdicts import ERROR, FAIL, PASS, QUIRK, Finding, worst

SCHEMA_VERSION = 1
_ICON = {PASS: "✅", QUIRK: "⚠️", FAIL: "❌", ERROR: "⛔"}


@dataclass
class PlatformResult:
    platform: str
    verdict: Verdict = ERROR
    findings: list[Finding] = field(default_factory=list)
    observed: dict[str, dict[str, Any]] = field(default_factory=dict)
    image: dict[str, Any] = field(default_factory=dict)  # tag, id
    build: dict[str, Any] = field(default_factory=dict)  # builder, seconds, log, ok
    run: dict[str, Any] = field(default_factory=dict)  # kind native/qemu/unavailable, qemu
    probe_seconds: float | None = None
    hello_seconds: float | None = None
    probe_log: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["verdict"] = str(self.verdict)
        data["findings"] = [f.to_dict() for f in self.findings]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PlatformResult:
        data = dict(data)
        data["verdict"] = Verdict(data.get("verdict", ERROR))
        data["findings"] = [Finding(**f) for f in data.get("findings", [])]
        return cls(**data)

    def kinds(self) -> list[Kind]:
        """The kinds that decide the exit status; a verdict with no finding counts as its own."""
        kinds = [f.kind for f in self.findings]
        if self.verdict is not PASS and not any(k.verdict is self.verdict for k in kinds):
            kinds.append({FAIL: Kind.BUILD, QUIRK: Kind.QUIRK}.get(self.verdict, Kind.ERROR))
        return kinds


def exit_status(results: list[PlatformResult], quirk_policy: str = "warn",
                extra: tuple[str, ...] = ()) -> Exit:
    """The run's status (see harness.outcomes): 1 an image is wrong (or a quirk under policy
    "fail"), 4 bad input, 70 a bug of the harness, 69 cannot check, else 0.

    ``extra``: finding kinds that belong to no platform (an index's findings).
    """
    return _exit_status([*(k for r in results for k in r.kinds()), *extra], quirk_policy)


def build_report(results: list[PlatformResult], host: dict[str, Any], quirk_policy: str,
                 index: dict[str, Any] | None = None) -> dict[str, Any]:
    """The report of a run; ``index``: what a checked registry reference resolved to."""
    ordered = sorted(results, key=lambda r: r.platform)
    extra = tuple(f["kind"] for f in (index or {}).get("findings", []))
    report = {
        "schema": SCHEMA_VERSION,
        "verdict": str(worst([*(r.verdict for r in ordered), *(Kind(k).verdict for k in extra)])
                       if ordered else ERROR),
        "exit_status": int(exit_status(ordered, quirk_policy, extra)),
        "quirk_policy": quirk_policy,
        "host": host,
        "platforms": [r.to_dict() for r in ordered],
    }
    if index is not None:
        report["index"] = index
    return report


def write_json(report: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2, sort_keys=False) + "\n")


def _cell(platform: dict[str, Any], source: str) -> str:
    seen = platform["observed"].get(source)
    if not seen:
        return "-"
    if seen.get("error"):
        return "error"
    if seen.get("raw") is None:
        return "absent"
    return f"`{seen.get('value') or seen.get('raw')}`"


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
        f"Host `{host.get('arch', '?')}`, engine {host.get('engine_version', '?')} "
        f"(API {host.get('api_version', '?')}), builder {host.get('builder', '?')}.",
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
            f"| `{p['platform']}` | {_ICON.get(p['verdict'], '')} {p['verdict']} | {runs} | "
            f"{_build_cell(p)} | {_cell(p, 'dpkg')} | {_cell(p, 'uname')} | "
            f"{_cell(p, 'rustc')} | {_cell(p, 'sh-elf')} |"
        )
    notes = [(p["platform"], f) for p in report["platforms"] for f in p["findings"]
             if f["kind"] != "absent"]
    index = report.get("index")
    if index:
        lines.insert(3, f"Checked `{index['ref']}` (index `{index.get('digest')}`).")
        lines.insert(4, "")
        notes += [("index", f) for f in index.get("findings", [])]
    if notes:
        lines += ["", "#### Findings", ""]
        for platform, f in notes:
            fix = f" — *fix:* {f['fix']}" if f.get("fix") else ""
            lines.append(f"- **{platform}** `{f['source']}` ({f['kind']}): {f['message']}{fix}")
    return "\n".join(lines) + "\n"


def write_markdown(report: dict[str, Any], path: Path) -> str:
    text = render_markdown(report)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as fh:
            fh.write(text + "\n")
    return text


def render_console(report: dict[str, Any]) -> list[str]:
    """A plain-text table for the end of the terminal output."""
    rows = [("PLATFORM", "VERDICT", "RUNS AS", "BUILD", "DPKG", "UNAME", "RUSTC HOST")]
    for p in report["platforms"]:
        rows.append((
            p["platform"], p["verdict"].upper(), (p.get("run") or {}).get("kind", "?"),
            _build_cell(p), *(_cell(p, s).strip("`") for s in ("dpkg", "uname", "rustc")),
        ))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
             for r in rows]
    notes = [(p["platform"], f) for p in report["platforms"] for f in p["findings"]]
    notes += [("index", f) for f in (report.get("index") or {}).get("findings", [])]
    for where, f in notes:
        if f["kind"] != "absent":
            lines.append(f"{where} [{f['kind']}] {f['source']}: {f['message']}")
            if f.get("fix"):
                lines.append(f"    fix: {f['fix']}")
    return lines
