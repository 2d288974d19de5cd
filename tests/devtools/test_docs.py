"""The reference pages are generated from the code that defines each thing: every option,
every cause of a failure and every report.json field is there, and a new one appears
without anyone writing it."""

from __future__ import annotations

from pathlib import Path

from devtools import docs
from harness.core.failures import diagnosis
from harness.core.reporting import report_schema
from harness.core.settings import options


def test_every_option_is_in_the_configuration_reference() -> None:
    page = docs.configuration()
    for o in options.OPTIONS:
        assert f"`{o.flag}`" in page, o.flag
        if o.in_pyproject:
            assert f"`{o.toml_key}`" in page, o.toml_key


def test_every_options_row_gives_its_declared_default_and_help() -> None:
    """The reference page says what the parsers and HarnessConfig take: the one declaration."""
    rows = {row.split(" | ")[1]: row for row in docs.configuration().splitlines()
            if row.startswith("| ") and " | `--" in row}
    assert sorted(rows) == sorted(f"`{o.flag}`" for o in options.OPTIONS)
    for o in options.OPTIONS:
        row = rows[f"`{o.flag}`"]
        assert row.endswith(f" | {docs._cell(o.help)} |"), o.flag
        shown = row.split(" | ")[3]
        defaults = list(o.default) if isinstance(o.default, (list, tuple, dict)) else \
            [] if o.default is None else [o.default]
        assert all(str(d) in shown for d in defaults), o.flag
        assert bool(defaults) == bool(shown.strip()), o.flag


def test_every_cause_is_in_troubleshooting_with_its_status_and_fix() -> None:
    page = docs.troubleshooting()
    sections = page.split("\n## ")[1:]
    assert [s.split("`")[1] for s in sections] == [c.name for c in diagnosis.CAUSES]
    for cause, section in zip(diagnosis.CAUSES, sections, strict=True):
        assert f"exit status {int(cause.kind.exit_status)}" in section
        assert "- **fix**: " in section and "- **what you see**: " in section
        assert cause.why and f"- **why**: {docs._cell(cause.why)}" in section
    emulator = next(s for s in sections if s.startswith("`emulator-crash`"))
    assert "verdict `error`, exit status 69" in emulator and "native runner" in emulator


def test_every_report_field_is_in_the_report_reference() -> None:
    page = docs.report_json()
    for name in report_schema.SCHEMA["properties"]:
        assert f"| `{name}` |" in page, name
    for name in report_schema.PLATFORM["properties"]:
        assert f"| `platforms[].{name}` |" in page, name
    assert "`emulator`" in page  # the finding kinds, from the enum


ROOT = Path(__file__).resolve().parents[2]


def test_the_pages_are_written_where_the_site_reads_them(tmp_path: Path) -> None:
    written = docs.write(tmp_path / "reference", ROOT / "docs" / "bench" / "history.json")
    assert sorted(p.name for p in written) == sorted(docs.PAGES)
    nav = (ROOT / "mkdocs.yml").read_text()
    assert all(f"reference/{name}" in nav for name in docs.PAGES)


def test_every_report_field_says_what_it_is() -> None:
    rows = [line for line in docs.report_json().splitlines() if line.startswith("| `")]
    assert rows and not [row for row in rows if row.rstrip().endswith("|  |")]
