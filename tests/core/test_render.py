"""report.md and the console's table: a source that does not apply to a platform."""

from __future__ import annotations

import pytest

from harness.core.answers import observation as obs
from harness.core.judging.verdicts import judge
from harness.core.outcomes import RunMode
from harness.core.platforms.table import parse_platform
from harness.core.reporting.html_report import cell_verdict
from harness.core.reporting.render import _seen, render_console, render_markdown
from harness.core.reporting.report import build_report
from harness.core.results.platform_result import PlatformResult
from tests.factories import HOST


def test_not_applicable_is_said_so_and_is_no_finding() -> None:
    platform = parse_platform("linux/386")
    seen = [obs.dpkg("i386\n"), *obs.not_applicable(platform)]
    judged = judge(platform, seen, "x86_64", RunMode("native"))
    report = build_report([PlatformResult("linux/386", judged.verdict, judged.findings, seen)],
                          HOST, "warn")
    [p] = report.platforms
    [entry] = report.to_json()["platforms"]
    assert entry["observed"]["isa"]["kind"] == "not-applicable"
    assert entry["observed"]["isa"]["detail"]["reason"].startswith("not applicable to linux/386")
    assert _seen(p, "isa") == "not applicable"  # a word of its own, never "absent"
    markdown, console = render_markdown(report), "\n".join(render_console(report))
    assert "not applicable" not in markdown.split("#### Findings", 1)[-1]
    assert "not-applicable" not in console and "not applicable" not in console


@pytest.mark.parametrize(("seen", "word", "colour"), [
    (None, "-", "absent"),
    (obs.dpkg("arm64\n"), None, "pass"),
    (obs.absent("dpkg"), "absent", "absent"),
    (obs.failed("dpkg", "timed out"), "error", "error"),
    (obs.Observation("dpkg", None, error="skipped on linux/arm64: slow", kind="skipped"),
     "skipped", "skipped"),
    (obs.Observation("dpkg", None, kind=obs.NOT_APPLICABLE), "not applicable",
     "not-applicable"),
])
def test_report_md_and_report_html_say_the_same_state_of_a_cell(
        seen: obs.Observation | None, word: str | None, colour: str) -> None:
    """One decision (harness.core.reporting.report.cell), shown in each page's words: a cell of
    report.md and the console is the value where report.html's is pass (no findings)."""
    platform = PlatformResult("linux/arm64", observations=[seen] if seen else [])
    assert _seen(platform, "dpkg") == word
    assert cell_verdict(platform, "dpkg") == colour
