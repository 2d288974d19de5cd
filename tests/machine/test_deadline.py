"""The whole-answer deadline, against hostile peers on loopback (tests/loopback.py): a
dripping body or head, a peer that accepts and never answers, and a kept-alive connection
that goes silent on its second request. Each peer gives up by itself after CAP seconds, so a
reader without the deadline fails these tests (slow), it does not hang them."""

from __future__ import annotations

import time

import pytest
import requests

from harness.machine import deadline
from tests import loopback

LIMIT = 0.5  # the deadline, seconds (each hostile peer costs it)
ANSWERED = 1.5  # the deadline of a peer that answers: never reached, so it costs nothing
READ = 20.0  # the per-read timeout: never what ends these reads


def test_a_dripping_body_is_cut_at_the_deadline_with_what_it_sent() -> None:
    with loopback.serve(loopback.dripping(0.05)) as port:
        start = time.monotonic()
        with deadline.Deadline(LIMIT) as limit, deadline.session() as s, \
                s.get(f"http://127.0.0.1:{port}/", timeout=(5, READ), stream=True) as r:
            body, stopped = deadline.read(r.raw, 1 << 20, limit)
        took = time.monotonic() - start
    assert took < LIMIT + 1.0, took
    assert isinstance(stopped, TimeoutError) and f"{LIMIT:g} s" in str(stopped)
    assert 2 <= len(body) < 1000 and set(body) == {ord("o")}


@pytest.mark.parametrize("peer", [loopback.dripping(0.2, head=True), loopback.silent],
                         ids=["dripping-head", "silent"])
def test_a_peer_that_never_ends_its_head_is_cut_at_the_deadline(
        peer: loopback.Handler) -> None:
    with loopback.serve(peer) as port:
        start = time.monotonic()
        with deadline.Deadline(LIMIT) as limit, deadline.session() as s, \
                pytest.raises(requests.RequestException):
            s.get(f"http://127.0.0.1:{port}/", timeout=(5, READ))
        took = time.monotonic() - start
    assert limit.expired and took < LIMIT + 1.0, took


def test_a_kept_alive_connection_is_bounded_by_the_deadline_of_its_next_request() -> None:
    with loopback.serve(loopback.answering(b"{}", then=loopback.answering(b"", loopback.silent))
                        ) as port, deadline.session() as s:
        url = f"http://127.0.0.1:{port}/v2/"
        with deadline.Deadline(ANSWERED):
            assert s.get(url, timeout=(5, READ)).content == b"{}"
        with deadline.Deadline(ANSWERED):
            assert s.get(url, timeout=(5, READ)).content == b""  # the same connection
        start = time.monotonic()
        with deadline.Deadline(LIMIT), pytest.raises(requests.RequestException):
            s.get(url, timeout=(5, READ))
        assert time.monotonic() - start < LIMIT + 1.0


def test_a_whole_answer_in_time_is_read_whole() -> None:
    with loopback.serve(loopback.answering(b'{"ok": 1}')) as port, \
            deadline.Deadline(ANSWERED) as limit, deadline.session() as s, \
            s.get(f"http://127.0.0.1:{port}/", timeout=(5, READ), stream=True) as r:
        body, stopped = deadline.read(r.raw, 1 << 20, limit)
    assert (body, stopped, limit.fired) == (b'{"ok": 1}', None, False)
