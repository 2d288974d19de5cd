"""The report files of a run: report.json, report.md and report.html in the report directory,
and report.md appended to GitHub's step summary. Rendering is harness.core's (pure); this is
where it meets the file system and the environment.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from harness.core import sinks
from harness.core.html_report import render_html
from harness.core.report import render_markdown
from harness.machine.files import write_atomic

STEP_SUMMARY = "GITHUB_STEP_SUMMARY"


def write_json(report: dict[str, Any], path: Path) -> None:
    """report.json; every string redacted (:func:`harness.core.sinks.json_safe`)."""
    write_atomic(path, json.dumps(sinks.json_safe(report), indent=2, sort_keys=False) + "\n")


def write_html(report: dict[str, Any], path: Path) -> None:
    write_atomic(path, render_html(report, base=str(path.parent)))


def write_markdown(report: dict[str, Any], path: Path, lead: str = "",
                   step_summary: bool = True) -> str:
    """report.md, also appended to GitHub's step summary when there is one (and
    ``step_summary``); ``lead`` goes first (the gate's word, see harness.core.github)."""
    text = (lead + "\n" if lead else "") + render_markdown(report)
    write_atomic(path, text)
    summary = os.environ.get(STEP_SUMMARY) if step_summary else None
    if summary:
        append_step_summary(summary, text)
    return text


def append_step_summary(path: str, text: str) -> None:
    """Append to GitHub's step summary. One that cannot be written is a warning: the gate's
    status never changes for it."""
    try:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(text + "\n")
    except OSError as exc:
        print(f"warning: cannot append the report to ${STEP_SUMMARY} "
              f"({sinks.terminal(path, 200)}): {sinks.terminal(exc.strerror or str(exc))}; "
              "the verdicts and the exit status are unchanged", file=sys.stderr)


def write_reports(report: dict[str, Any], directory: Path, lead: str = "",
                  step_summary: bool = True) -> str:
    """report.json, report.md and report.html in ``directory``; report.md's text. A report
    rewritten later (publish adds its phases) says ``step_summary=False``: GitHub's step
    summary has it already."""
    write_json(report, directory / "report.json")
    text = write_markdown(report, directory / "report.md", lead, step_summary)
    write_html(report, directory / "report.html")
    return text
