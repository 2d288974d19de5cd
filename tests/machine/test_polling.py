"""The harness's own wait (harness.machine.polling), on the real clock."""

from __future__ import annotations

import time

import pytest

from harness.machine import polling


def test_what_the_check_gives_ends_the_wait_at_once() -> None:
    asked: list[float] = []

    def third() -> str | None:
        asked.append(time.monotonic())
        return "up" if len(asked) == 3 else None

    started = time.monotonic()
    assert polling.until(third, 5, 0.01) == "up"
    assert len(asked) == 3 and time.monotonic() - started < 1


def test_a_false_answer_is_an_answer_none_is_not() -> None:
    assert polling.until(lambda: 0, 1, 0.01) == 0
    assert polling.until(lambda: False, 1, 0.01) is False


def test_nothing_by_the_timeout_is_none_after_asking_to_the_end() -> None:
    asked: list[float] = []

    def never() -> None:
        asked.append(time.monotonic())

    started = time.monotonic()
    assert polling.until(never, 0.3, 0.05) is None
    took = time.monotonic() - started
    assert 0.3 <= took < 2 and len(asked) >= 3
    assert asked[-1] - started >= 0.3  # asked once more at the end


def test_a_zero_timeout_still_asks_once() -> None:
    asked: list[int] = []
    assert polling.until(lambda: asked.append(1), 0, 1) is None
    assert asked == [1]


def test_what_the_check_raises_goes_to_the_caller() -> None:
    def stopped() -> None:
        raise RuntimeError("exited 127")

    with pytest.raises(RuntimeError, match="exited 127"):
        polling.until(stopped, 5, 0.01)
