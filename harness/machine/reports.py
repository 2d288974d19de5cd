"""The report files of a run: report.json, report.md and report.html in the report directory,
and report.md appended to GitHub's step summary. Rendering is harness.core's (pure); this is
where it meets the file system and the environment.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import jsonschema

from harness.core import sinks
from harness.core.failures.errors import UsageError
from harness.core.reporting.html_report import render_html
from harness.core.reporting.render import render_markdown
from harness.core.reporting.report import Report
from harness.core.reporting.report_schema import SCHEMA
from harness.machine.files import read_json, write_atomic

STEP_SUMMARY = "GITHUB_STEP_SUMMARY"
# Bytes of a report.json read back: a run's is kilobytes to a few megabytes (each answer is
# kept to 4 KiB, package lists are the bulk); a larger file is no report of this harness.
REPORT_BYTES = 256 << 20


def write_json(report: Report, path: Path) -> None:
    """report.json; every string redacted (:func:`harness.core.sinks.json_safe`). NaN and
    Infinity are no JSON: the harness's own numbers are counts and clock readings; the JSON
    it reads (reports, kept answers, registries) is refused with them (harness.core.jsondoc)
    and configs' numbers where they are read (a timeout of nan is bad input). One here is a
    harness bug, raised before anything is written, never a report.json a CI chokes on."""
    write_atomic(path, json.dumps(sinks.json_safe(report.to_json()), indent=2, sort_keys=False,
                                  allow_nan=False) + "\n")


def write_html(report: Report, path: Path) -> None:
    write_atomic(path, render_html(report, base=str(path.parent)))


def write_markdown(report: Report, path: Path, lead: str = "",
                   step_summary: bool = True) -> str:
    """report.md, also appended to GitHub's step summary when there is one (and
    ``step_summary``); ``lead`` goes first (the gate's word, see harness.core.reporting.github)."""
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


def write_reports(report: Report, directory: Path, lead: str = "",
                  step_summary: bool = True) -> str:
    """report.json, report.md and report.html in ``directory``; report.md's text. A report
    rewritten later (publish adds its phases) says ``step_summary=False``: GitHub's step
    summary has it already."""
    write_json(report, directory / "report.json")
    text = write_markdown(report, directory / "report.md", lead, step_summary)
    write_html(report, directory / "report.html")
    return text


_VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def read_report(path: Path) -> Report:
    """A report.json, read bounded (harness.core.jsondoc: too big, too deep or NaN is
    refused) and validated against its schema (harness.core.reporting.report_schema): one that
    cannot be read, or of the wrong shape, is bad input naming the file and the field."""
    fix = ("give report.json files written by build or check (`multiarch-harness report "
           "--schema` prints their schema)")
    try:
        data = read_json(path, REPORT_BYTES)
    except (OSError, ValueError) as exc:  # jsondoc.Exceeded is a ValueError
        raise UsageError(f"{path} is not a report: {sinks.terminal(str(exc), 300)}",
                         fix) from exc
    errors = sorted(_VALIDATOR.iter_errors(data),
                    key=lambda e: (len(e.absolute_path), [str(p) for p in e.absolute_path]))
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path) or "the top level"
        raise UsageError(f"{path} is not a report.json of this harness: at {where}: "
                         f"{errors[0].message}", fix)
    return Report.from_json(data)
