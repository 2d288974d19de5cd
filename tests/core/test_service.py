"""Service checks: reading them, and judging what a started service did."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.core.answers import observation as obs
from harness.core.declared import service as svc
from harness.core.failures.errors import UsageError
from harness.core.judging.verdicts import judge
from harness.core.outcomes import Kind, RunMode, Verdict
from harness.core.platforms.table import parse_platform

ARM64 = parse_platform("linux/arm64")
QEMU = RunMode("qemu", "qemu-aarch64", "x", "PF", "7.2")
CHECK = svc.ServiceCheck(8080, "/health", "^ok {dpkg}$")


def test_the_option_is_port_path_and_a_pattern() -> None:
    assert svc.parse_option("8080/health=^ok {dpkg}$") == CHECK
    assert svc.parse_option("80=") == svc.ServiceCheck(80)
    assert svc.parse_option("80/q?a=b=c").path == "/q?a"  # the first = ends the path
    assert CHECK.source == "service:8080/health"


@pytest.mark.parametrize(("text", "said"), [
    ("health=ok", "is not PORT/PATH=REGEX"), ("8080/health", "is not PORT/PATH=REGEX"),
    ("70000/=x", "port 70000 is not a TCP port"), ("8080/=(", "is not a regular expression"),
    ("8080/={arch}", "unknown placeholder {arch}"),
])
def test_a_bad_option_is_one_usage_error(text: str, said: str) -> None:
    with pytest.raises(UsageError) as err:
        svc.parse_option(text)
    assert said in err.value.message and err.value.fix


def test_the_table_is_one_check_or_an_array_of_them() -> None:
    one = {"port": 8080, "path": "/health", "expect": "^ok {dpkg}$"}
    assert svc.parse_table(one) == (CHECK,)
    assert svc.parse_table([one, {"port": 9, "status": 204, "timeout": 2}]) == (
        CHECK, svc.ServiceCheck(9, status=204, timeout=2.0))


@pytest.mark.parametrize(("spec", "said"), [
    ({"port": "8080"}, "port must be a number"), ({"port": 80, "path": "x"}, "does not start"),
    ({"port": 80, "status": 999}, "999 is not an HTTP status"),
    ({"port": 80, "timeout": 0}, "timeout must be above 0"),
    ({"port": 80, "expct": "x"}, "unknown key 'expct'"),
])
def test_a_bad_table_is_one_usage_error(spec: dict[str, Any], said: str) -> None:
    with pytest.raises(UsageError) as err:
        svc.parse_table(spec)
    assert said in err.value.message


def test_waiting_scales_under_emulation() -> None:
    assert CHECK.wait_seconds(emulated=False) == svc.DEFAULT_TIMEOUT
    assert CHECK.wait_seconds(emulated=True) == svc.DEFAULT_TIMEOUT * svc.EMULATED_FACTOR


def test_a_ready_service_has_its_timeout_or_at_least_ten_seconds_to_answer_whole() -> None:
    assert svc.ServiceCheck(8080, timeout=1).answer_seconds() == svc.MIN_ANSWER == 10.0
    assert svc.ServiceCheck(8080, timeout=30).answer_seconds() == 30


def answer(**kw: Any) -> svc.ServiceAnswer:
    return svc.ServiceAnswer(**{"ready": True, "waited": 1.5, **kw})


def test_an_answer_is_judged_by_status_and_body_for_the_platform() -> None:
    assert svc.judge(CHECK, answer(http_status=200, body="ok arm64"), ARM64, 30) == []
    assert svc.judge(CHECK, answer(http_status=500, body="ok amd64"), ARM64, 30) == [
        "GET /health answered HTTP 500, not 200",
        "GET /health answered 'ok amd64', which does not match /^ok {dpkg}$/ for "
        "linux/arm64"]


def test_a_service_that_never_answered_says_why_with_its_last_log_lines() -> None:
    exited = answer(ready=False, exited=3, logs="starting\nboom\n")
    assert svc.judge(CHECK, exited, ARM64, 150) == [
        "the service exited with status 3 after 1.5 s, before answering on port 8080; its "
        "last log lines: starting | boom"]
    silent = answer(ready=False, waited=150.2)
    assert svc.judge(CHECK, silent, ARM64, 150) == [
        "the service was not ready within 150 s: never accepting connections on port 8080; "
        "it logged nothing"]
    sick = answer(ready=False, unhealthy=True, health=True, logs="x")
    assert svc.judge(CHECK, sick, ARM64, 150)[0].startswith(
        "the service's HEALTHCHECK said unhealthy after 1.5 s")
    reset = answer(refused="Connection reset by peer")
    assert svc.judge(CHECK, reset, ARM64, 30) == [
        "GET /health on port 8080 failed: Connection reset by peer; it logged nothing"]


@given(st.text(min_size=1, max_size=20_000))
def test_a_services_log_reaches_a_finding_bounded_and_without_control_characters(
        logs: str) -> None:
    [message] = svc.judge(CHECK, answer(ready=False, exited=1, logs=logs), ARM64, 30)
    assert len(message) < 1700
    assert not any(ord(c) < 32 and c not in "\t" for c in message)


def test_a_failed_service_check_fails_the_platform() -> None:
    seen = obs.answered(CHECK.source, svc.Seen(CHECK, answer(ready=False, exited=3), 30))
    verdict = judge(ARM64, [seen], "amd64", QEMU)
    assert verdict.findings[0].message.startswith("the service exited with status 3")
    assert (seen.value, seen.detail["waited"]) == ("failed", 1.5)
    assert verdict.verdict == Verdict.FAIL
    assert verdict.findings[0].kind is Kind.MISMATCH
    assert "[tool.harness.service]" in verdict.findings[0].fix


def test_a_service_the_engine_would_not_start_for_the_images_fault_fails_in_its_words() -> None:
    """The engine side hands the diagnosis's words over unjudged (it used to record them as
    a judged outcome); the judging step makes the mismatch."""
    said = "linux/arm64: the image has no command to start"
    seen = obs.answered(CHECK.source, svc.Seen(CHECK, svc.ServiceAnswer(
        False, 0.0, not_started=said), 0.0))
    assert seen.value is None and not seen.absent  # nothing judged on the engine side
    [finding] = judge(ARM64, [seen], "amd64", QEMU).findings
    assert (finding.kind, finding.message) == (Kind.MISMATCH, said)
    assert seen.value == "failed" and "waited" not in seen.detail
