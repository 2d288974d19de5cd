"""``multiarch-harness report DIR [DIR...]``: one report from the report directories of
several runs (the jobs of a CI matrix, a platform each): report.json and report.md in
``--report-dir``, with the verdicts and exit status one run of every platform would have.

``--platform`` names the platforms expected (default: only those found), ``--matrix`` the
JSON of ``multiarch-harness matrix``: an expected platform without a report is `error`. In
GitHub Actions (``GITHUB_ACTIONS=true``) each platform that did not pass becomes one
annotation, and the step summary starts with what the run means for the release.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from harness.core import jsondoc
from harness.core.failures.errors import UsageError
from harness.core.outcomes import Exit
from harness.core.platforms.table import parse_platforms
from harness.core.reporting import github
from harness.core.reporting.render import render_console
from harness.core.reporting.report import Report, merge_reports
from harness.core.reporting.report_schema import SCHEMA
from harness.core.settings import options
from harness.machine.reports import read_report, write_reports

MATRIX_BYTES = 1 << 20  # --matrix: a few hundred bytes a platform


def _reports(paths: list[str]) -> list[tuple[Path, Report]]:
    found: list[tuple[Path, Report]] = []
    for text in paths:
        path = Path(text)
        if not path.exists():
            raise UsageError(f"{text} does not exist",
                             "give report directories written by build or check")
        # A directory with none is a matrix whose jobs all stopped early: --matrix says which.
        files = sorted(path.rglob("report.json")) if path.is_dir() else [path]
        found.extend((f, read_report(f)) for f in files)
    return found



def _expected(args: Any) -> list[str]:
    names = [p.name for p in parse_platforms(args.platforms or [])]
    if args.matrix:
        try:
            names += [entry["platform"] for entry in
                      jsondoc.parse(args.matrix, max_bytes=MATRIX_BYTES)["include"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise UsageError("--matrix is not the JSON of `multiarch-harness matrix`",
                             "pass that command's output") from exc
    return list(dict.fromkeys(names))


def main(argv: list[str]) -> int:
    parser = options.argument_parser("report", description=__doc__)
    parser.add_argument("--matrix", default=None, metavar="JSON",
                        help="the platforms expected, as `multiarch-harness matrix` printed them")
    parser.add_argument("--schema", action="store_true",
                        help="print the JSON Schema of report.json and exit")
    parser.add_argument("dirs", nargs="*", metavar="DIR", help="report directories to merge")
    args = parser.parse_args(argv)
    if args.schema:
        print(json.dumps(SCHEMA, indent=2))
        return Exit.OK
    if not args.dirs:
        raise UsageError("no report directory given",
                         "multiarch-harness report DIR [DIR...]")
    expected = _expected(args)
    found = _reports(args.dirs)
    if not found and not expected:
        raise UsageError("no report.json in " + " ".join(args.dirs),
                         "give report directories written by build or check")
    try:
        merged = merge_reports([r for _f, r in found], expected)
    except ValueError as exc:
        raise UsageError(str(exc), "give each platform's report once") from exc
    out = Path(args.report_dir or "reports")
    github_actions = os.environ.get("GITHUB_ACTIONS") == "true"
    write_reports(merged, out, lead=github.gate(merged))
    if github_actions:
        for line in github.annotation_lines(merged):
            print(line)
    print("\n".join(render_console(merged)))
    print(f"report: merged {len(found)} reports into {out / 'report.json'}, report.md and "
          "report.html")
    return merged.exit_status
