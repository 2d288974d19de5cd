"""The reference pages of the documentation site, generated from the code that defines them.

``python -m devtools.docs --out DIR`` (developer tooling, run by ``nox -s docs`` and
``nox -s lint``) writes the Markdown pages that ``nox -s docs`` builds
with the hand-written ones (MkDocs, strict):

- ``configuration.md``: every option, from the one options table
  (``harness.core.settings.options``);
- ``troubleshooting.md``: every cause a failure can have, from the diagnosis table
  (``harness.core.failures.diagnosis``): its kind, verdict and exit status, what you see, and the
  fix;
- ``report-json.md``: every field of report.json, from its JSON Schema
  (``harness.core.reporting.report_schema``, the one ``report --schema`` prints);
- ``bench-history.md`` and its plot: every benchmark run kept in ``docs/bench/history.json``,
  with a short analysis (``devtools.bench_history``).

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

from devtools import bench_history
from harness.commands.cli import run_command
from harness.core import sinks
from harness.core.failures import diagnosis
from harness.core.failures.diagnosis import Event, Stage
from harness.core.outcomes import Exit, RunKind
from harness.core.reporting import report_schema
from harness.core.settings import options
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
             "table (`harness/core/settings/options.py`).", "",
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
             "(`harness/core/failures/diagnosis.py`); words in capitals stand for what the harness "
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


def write(out: Path, history: Path = HISTORY) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    page, plot = bench_history.bench_history(json.loads(history.read_text()))
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
