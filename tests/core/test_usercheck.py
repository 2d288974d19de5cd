"""Declared checks: parsing [tool.harness.checks], the platform's names in patterns, verdicts."""

from __future__ import annotations

import re
from typing import Any

import pytest

from harness.core.answers import observation as obs
from harness.core.declared import usercheck
from harness.core.declared.usercheck import DeclaredCheck, expand, matches, parse
from harness.core.failures.errors import UsageError
from harness.core.judging.verdicts import judge
from harness.core.outcomes import Kind, RunMode, Verdict
from harness.core.platforms.table import parse_platform

ARM = parse_platform("linux/arm/v7")
I386 = parse_platform("linux/386")
NATIVE, QEMU = RunMode("native"), RunMode("qemu", "qemu-arm", "x", "PF", "7.2")


def one(**spec: Any) -> DeclaredCheck:
    [check] = parse({"app": {"command": ["app", "--version"], "expect": "x", **spec}})
    return check


def test_a_declared_check_is_read_in_exec_or_shell_form() -> None:
    assert one().command == ("app", "--version")
    check = one(command="cat /etc/app | head -1", expect="^{dpkg}$", status=3, timeout=5)
    assert check.command == ("sh", "-c", "cat /etc/app | head -1")
    assert check.shown == "cat /etc/app | head -1"
    assert (check.status, check.timeout, check.source) == (3, 5.0, "check:app")


def test_placeholders_are_every_name_of_the_platform_escaped() -> None:
    assert expand("^{dpkg}$", ARM) == "^(?:armhf)$"
    assert expand("{triple}", I386) == \
        "(?:i686\\-unknown\\-linux\\-gnu|i586\\-unknown\\-linux\\-gnu)"
    assert expand("{platform} {goarch}", ARM) == "(?:linux/arm/v7) (?:arm)"
    assert expand(r"\d{2} {uname}", ARM) == r"\d{2} (?:armv7l)"  # regex braces are kept
    assert matches("^myapp 1\\.2 \\({goarch}\\)$", ARM, "banner\nmyapp 1.2 (arm)\n")
    assert not matches("^myapp 1\\.2 \\({goarch}\\)$", I386, "myapp 1.2 (arm)")


@pytest.mark.parametrize(("spec", "words"), [
    ({"expect": "{arch}"}, "unknown placeholder {arch}"),
    ({"expect": "(unclosed"}, "not a regular expression"),
    ({"expect": 3}, "expect must be a regular expression"),
    ({"timeout": float("nan")}, "timeout must be a number of seconds"),
    ({"timeout": float("inf")}, "timeout must be a number of seconds"),
    ({"command": []}, "command must be a string or a non-empty list"),
    ({"command": ["app", 1]}, "command must be a string or a non-empty list"),
    ({"status": "0"}, "status must be an exit status"),
    ({"status": 256}, "status must be an exit status"),
    ({"timeout": 0}, "timeout must be a number of seconds"),
    ({"expcet": "x"}, "did you mean 'expect'?"),
])
def test_a_bad_declared_check_is_a_usage_error_naming_it(spec: dict[str, Any],
                                                         words: str) -> None:
    with pytest.raises(UsageError) as err:
        parse({"app": {"command": ["app"], "expect": "x", **spec}})
    assert words in str(err.value)
    assert "[tool.harness.checks.app]" in str(err.value)
    assert err.value.exit_status == 4


def test_names_and_tables_are_checked() -> None:
    with pytest.raises(UsageError, match="not a plain name"):
        parse({"my check": {"command": "x", "expect": "x"}})
    with pytest.raises(UsageError, match="is not a table"):
        parse({"app": "app --version"})
    with pytest.raises(UsageError, match="is not a table"):
        parse(["app"])


def verdict_of(check: DeclaredCheck, output: str, platform: Any = ARM,
               mode: RunMode = QEMU) -> tuple[str, list[str]]:
    found = [obs.config("linux", platform.architecture, platform.variant),
             obs.declared(check, output)]
    judgement = judge(platform, found, "amd64", mode)
    return judgement.verdict, [f.message for f in judgement.findings]


def test_a_declared_check_passes_when_its_output_matches_for_the_platform() -> None:
    check = one(expect="^{dpkg}$")
    assert verdict_of(check, "armhf\n") == (Verdict.PASS, [])
    verdict, [message] = verdict_of(check, "amd64\n")
    assert verdict == Verdict.FAIL
    assert message == ("check app: `app --version` printed 'amd64', which does not match "
                       "/^{dpkg}$/ for linux/arm/v7")


def test_uname_of_the_host_kernel_in_a_declared_check_is_the_known_quirk() -> None:
    check = one(command=["uname", "-m"], expect="^{uname}$")
    verdict, [message] = verdict_of(check, "x86_64\n", I386, NATIVE)
    assert verdict == Verdict.QUIRK
    assert "only with uname -m x86_64" in message
    assert verdict_of(check, "i686\n", I386, NATIVE) == (Verdict.PASS, [])
    # under QEMU there is no such excuse: x86_64 for linux/386 is wrong
    assert verdict_of(check, "x86_64\n", I386, QEMU)[0] == Verdict.FAIL


def test_what_an_image_printed_is_escaped_in_the_finding() -> None:
    _, [message] = verdict_of(one(expect="^ok$"), "\x1b[2J\x1b[31mforged\n" + "x" * 9000)
    assert "\x1b" not in message and "\\x1b" in message
    assert len(message) < 600


def test_a_user_pytest_check_that_failed_fails_its_platform() -> None:
    failed = obs.user_test("pytest:checks/test_app.py::test_v", False,
                           "AssertionError: \x1b[31m")
    judgement = judge(ARM, [failed, obs.user_test("pytest:checks/t.py::ok", True, "")],
                      "amd64", QEMU)
    assert judgement.verdict == Verdict.FAIL
    [finding] = judgement.findings
    assert finding.kind is Kind.MISMATCH and finding.source == "pytest:checks/test_app.py::test_v"
    assert re.search(r"AssertionError: \\x1b\[31m$", finding.message)


def test_a_declared_check_whose_command_is_absent_is_missing_not_skipped() -> None:
    absent = obs.absent("check:jq")
    absent.detail["command"] = "jq --version"
    judgement = judge(ARM, [absent], "amd64", QEMU)
    assert judgement.verdict == Verdict.FAIL
    [finding] = judgement.findings
    assert finding.kind is Kind.MISSING
    assert finding.message == "check jq: the command `jq --version` is not in the image"


def test_an_empty_expect_accepts_any_output_so_the_status_alone_counts() -> None:
    check = one(expect="")
    assert judge(ARM, [obs.declared(check, "anything\n")], "x86_64", QEMU).verdict == Verdict.PASS


def test_the_whole_output_is_matched_not_its_first_kilobytes() -> None:
    """`ls --help` ends in 'GNU coreutils online help' after ~7 KiB; 50 MB ending in a
    marker is found too (the report keeps a bounded raw)."""
    check = one(expect="GNU coreutils online help")
    help_text = "Usage: ls [OPTION]... [FILE]...\n" + "  -a  do not ignore\n" * 400 + \
        "GNU coreutils online help: <https://www.gnu.org/software/coreutils/>\n"
    seen = obs.declared(check, help_text)
    assert len(seen.raw or "") <= obs.RAW_LIMIT + 100 < len(help_text)
    assert judge(ARM, [seen], "x86_64", QEMU).verdict == Verdict.PASS
    big = "y" * 50_000_000 + "\nmarker\n"
    assert judge(ARM, [obs.declared(one(expect="^marker$"), big)], "x86_64", QEMU).verdict \
        == Verdict.PASS
    assert "output" not in seen.to_dict()  # never serialised whole


def test_output_past_the_cap_is_said_not_taken_for_a_mismatch() -> None:
    seen = obs.declared(one(expect="never-printed"), "z" * 1000)
    seen.detail["dropped_bytes"] = 5_000_000
    [finding] = judge(ARM, [seen], "x86_64", QEMU).findings
    assert finding.kind is Kind.USAGE and "longer than the 64 MiB" in finding.message
    assert "5000000 bytes longer" in finding.message and "| tail" in finding.fix


@pytest.mark.parametrize("expect", ["^z+$", "z{1000}", "^(?!.*error)"])
def test_a_cut_output_gives_no_verdict_from_its_pattern_even_where_it_matches(
        expect: str) -> None:
    """`$` matches at the cut and a must-not-appear lookahead never sees what is past it: a
    pattern found in the first 64 MiB is no pass either (as a structure test's)."""
    seen = obs.declared(one(expect=expect), "z" * 1000)
    assert matches(expect, ARM, "z" * 1000)  # what was read alone would pass
    seen.detail["dropped_bytes"] = 5_000_000
    judged = judge(ARM, [seen], "x86_64", QEMU)
    [finding] = judged.findings
    assert finding.kind is Kind.USAGE and finding.kind.exit_status == 4
    assert judged.verdict is not Verdict.PASS
    assert "check app" in finding.message and "5000000 bytes" in finding.message
    assert "cannot be judged" in finding.message and "| tail" in finding.fix


def test_a_cut_output_of_a_same_check_is_not_compared_as_whole() -> None:
    """With `same = true` the output is compared whole across platforms: cut, it cannot be,
    even with an empty expect."""
    check = one(expect="", same=True)
    seen = obs.declared(check, "z" * 1000, ARM)
    seen.detail["dropped_bytes"] = 1
    [finding] = judge(ARM, [seen], "x86_64", QEMU).findings
    assert finding.kind is Kind.USAGE
    cut_without_pattern = obs.declared(one(expect=""), "z" * 1000)
    cut_without_pattern.detail["dropped_bytes"] = 1  # nothing asked of the text: status only
    assert judge(ARM, [cut_without_pattern], "x86_64", QEMU).verdict == Verdict.PASS


def test_a_pattern_that_backtracks_forever_is_bad_input_naming_the_check(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`(a|aa)+$` against 40 a's and a '!' would take ages in Python's re: bounded here."""
    monkeypatch.setattr(usercheck, "MATCH_SECONDS", 0.2)  # the bound, not its size, is tested
    seen = obs.declared(one(expect="(a|aa)+$"), "a" * 40 + "!")
    [finding] = judge(ARM, [seen], "x86_64", QEMU).findings
    assert finding.kind is Kind.USAGE and finding.kind.exit_status == 4
    assert "check app" in finding.message and "did not finish matching" in finding.message
    assert "[tool.harness.checks.app]" in finding.fix
