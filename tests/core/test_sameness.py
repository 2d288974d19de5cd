"""`same = true`: a declared check's answers compared across platforms, platform names aside."""

from __future__ import annotations

from dataclasses import asdict

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.core.answers.observation import Observation
from harness.core.declared import sameness
from harness.core.declared.usercheck import parse
from harness.core.failures.errors import UsageError
from harness.core.outcomes import Verdict
from harness.core.platforms.table import PLATFORMS, parse_platform
from harness.core.reporting.report import Report, build_report, merge_reports
from harness.core.results.platform_result import PlatformResult

AMD64, ARM64, ARMV7 = (parse_platform(n) for n in ("linux/amd64", "linux/arm64",
                                                    "linux/arm/v7"))


def answers(**by_platform: str) -> dict[str, sameness.Answer]:
    return {p.replace("_", "/"): sameness.Answer.of(text, parse_platform(p.replace("_", "/")))
            for p, text in by_platform.items()}


def test_each_platforms_names_read_as_one_placeholder() -> None:
    assert sameness.normalise("myapp 1.4 (linux/arm/v7, armhf, armv7l)\n", ARMV7) == \
        "myapp 1.4 ({arch}, {arch}, {arch})"
    assert sameness.normalise("x86_64-unknown-linux-gnu amd64", AMD64) == "{arch} {arch}"
    # Whole words only: `arm` in `alarm` is not a name.
    assert sameness.normalise("alarm arm64", ARM64) == "alarm {arch}"


def test_the_same_program_agrees_and_a_stale_one_does_not() -> None:
    same = {"check:v": answers(linux_amd64="myapp 1.4 linux/amd64",
                               linux_arm64="myapp 1.4 linux/arm64")}
    assert sameness.judge(same) == []
    stale = {"check:v": answers(linux_amd64="myapp 1.4 linux/amd64",
                                linux_arm64="myapp 1.3 linux/arm64")}
    odd = sameness.judge(stale)
    # Two platforms, no majority: both are out, each naming both answers.
    assert [o.platform for o in odd] == ["linux/amd64", "linux/arm64"]
    assert all("'myapp 1.4 {arch}'" in o.message and "'myapp 1.3 {arch}'" in o.message
               for o in odd)


def test_the_odd_platform_out_is_the_only_one_to_fail() -> None:
    three = {"check:v": answers(linux_amd64="1.4", linux_arm64="1.4", linux_386="1.3")}
    [odd] = sameness.judge(three)
    assert odd.platform == "linux/386" and "linux/amd64, linux/arm64 printed '1.4'" in odd.message


def test_an_answer_from_outside_is_shown_escaped_and_bounded() -> None:
    [a, b] = sameness.judge({"check:v": answers(linux_amd64="\x1b[2J" + "A" * 5000,
                                                linux_arm64="ok")})
    assert "\x1b" not in a.message + b.message and len(a.message) < 600


@given(st.text(max_size=200), st.sampled_from(PLATFORMS))
def test_normalising_twice_changes_nothing(text: str, platform: object) -> None:
    once = sameness.normalise(text, platform)  # type: ignore[arg-type]
    assert sameness.normalise(once, platform) == once  # type: ignore[arg-type]


def result(platform: str, output: str) -> PlatformResult:
    seen = Observation("check:v", output, (), output,
                       detail={"same": asdict(sameness.Answer.of(output,
                                                                 parse_platform(platform)))})
    return PlatformResult(platform, Verdict.PASS, [], [seen])


def test_the_report_fails_the_odd_platform_once_even_when_built_again() -> None:
    results = [result("linux/amd64", "1.4"), result("linux/arm64", "1.4"),
               result("linux/arm/v7", "1.3")]
    report = build_report(results, {}, "warn")
    assert [p.verdict for p in report.platforms] == ["pass", "fail", "pass"]
    assert report.exit_status == 1
    again = build_report(results, {}, "warn")  # a merged report of reports is judged the same
    assert len(again.platforms[1].findings) == 1


@pytest.mark.parametrize("value", ["yes", 1, "true"])
def test_same_must_be_a_boolean(value: object) -> None:
    with pytest.raises(UsageError, match="same must be true or false"):
        parse({"v": {"command": "true", "expect": "", "same": value}})
    assert parse({"v": {"command": "true", "expect": "", "same": True}})[0].same


def test_a_sameness_finding_is_known_by_its_cause_never_by_its_fix_text() -> None:
    """The odd platform's finding names its cause; a finding with sameness's fix text and
    another cause is not one (junit.xml's failures, issue 37)."""
    from harness.core.outcomes import Kind
    from harness.core.results.finding import Finding
    from harness.plugin.results import _odd_answers

    results = [result("linux/amd64", "1.4"), result("linux/arm64", "1.4"),
               result("linux/arm/v7", "1.3")]
    report = build_report(results, {}, "warn")
    [odd] = [f for p in report.platforms for f in p.findings]
    assert odd.cause == sameness.CAUSE
    alike = Finding("check:w", Kind.MISMATCH, "w printed 2", sameness.FIX, cause="pattern")
    reworded = Finding("check:x", Kind.MISMATCH, "x differs", "print the same",
                       cause=sameness.CAUSE)
    report.platforms[0].findings.extend([alike, reworded])
    assert sorted(_odd_answers(report)) == ["v", "x"]


def test_an_older_report_without_causes_merges_with_each_finding_once() -> None:
    """A report written before findings had a cause is read back, and its sameness finding
    is the one judged again, not a second one."""
    results = [result("linux/amd64", "1.4"), result("linux/arm64", "1.4"),
               result("linux/arm/v7", "1.3")]
    old = build_report(results, {}, "warn").to_json()
    for p in old["platforms"]:
        for f in p["findings"]:
            del f["cause"]
    merged = merge_reports([Report.from_json(old)])
    [odd] = [f for p in merged.platforms for f in p.findings]
    assert odd.cause == sameness.CAUSE and merged.exit_status == 1
