"""The GET of a service check against hostile services on loopback (tests/loopback.py): one
that drips its body, one that sends less than its Content-Length and closes or stalls, one
that accepts and never answers. Each is a fail of the service, with what it sent, within the
check's answer deadline; never a hang, never a harness bug. (The service started in the
engine is tested in tests/engine/test_service_checks.py.)"""

from __future__ import annotations

import time

import pytest

from harness.containers import service_run as service
from harness.core.declared import service as svc
from harness.core.platforms.table import parse_platform
from tests import loopback

AMD64 = parse_platform("linux/amd64")
ANSWER = 0.5  # seconds: svc.MIN_ANSWER (10 in use) made short: what each hostile peer costs


@pytest.fixture(autouse=True)
def _short_answer_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    # What is proved is that ask() keeps to answer_seconds(), whatever MIN_ANSWER is (that
    # it is 10 s is tests/core/test_service.py's).
    monkeypatch.setattr(svc, "MIN_ANSWER", ANSWER)


def asked(handler: loopback.Handler) -> tuple[svc.ServiceAnswer, list[str], float]:
    with loopback.serve(handler) as port:
        check = svc.ServiceCheck(port, "/health", "ok", timeout=0.25)
        start = time.monotonic()
        answer = service.ask("127.0.0.1", check)
        took = time.monotonic() - start
    return answer, svc.judge(check, answer, AMD64, 1), took


def test_a_service_dripping_its_body_fails_at_the_answer_deadline_with_what_it_sent() -> None:
    answer, errors, took = asked(loopback.dripping(0.02))
    assert svc.MIN_ANSWER <= took < svc.MIN_ANSWER + 2, took
    assert answer.http_status == 200 and 10 <= len(answer.body) < 1000
    assert len(errors) == 1 and errors[0].startswith(
        "GET /health answered HTTP 200, and then no whole answer within 0.5 s after ")
    assert "of 1000 bytes of its body; it sent 'ooo" in errors[0]


def test_a_service_dripping_its_head_fails_at_the_answer_deadline() -> None:
    answer, errors, took = asked(loopback.dripping(0.02, head=True))
    assert took < svc.MIN_ANSWER + 2, took
    assert answer.http_status is None
    assert len(errors) == 1 and errors[0].startswith("GET /health on port ")
    assert errors[0].endswith(" failed: no answer within 0.5 s; it logged nothing")


def test_a_service_that_accepts_and_never_answers_fails_at_the_answer_deadline() -> None:
    answer, errors, took = asked(loopback.silent)
    assert took < svc.MIN_ANSWER + 2, took
    assert answer.http_status is None and "failed: no answer within 0.5 s" in errors[0]


@pytest.mark.parametrize(("stall", "why"), [
    (False, "it closed the connection after 5 of 100 bytes of its body"),
    (True, "no whole answer within 0.5 s after 5 of 100 bytes of its body"),
], ids=["closed", "stalled"])
def test_a_body_shorter_than_its_content_length_fails_with_what_it_sent(
        stall: bool, why: str) -> None:
    answer, errors, took = asked(loopback.short(b"ok ok", 100, stall))
    assert took < svc.MIN_ANSWER + 2, took
    assert (answer.http_status, answer.body) == (200, "ok ok")
    assert errors == [f"GET /health answered HTTP 200, and then {why}; it sent 'ok ok'; "
                      "it logged nothing"]


def test_a_whole_answer_is_judged_as_before() -> None:
    answer, errors, _ = asked(loopback.answering(b"all ok"))
    assert (answer.http_status, answer.body, answer.short, errors) == (200, "all ok", "", [])
