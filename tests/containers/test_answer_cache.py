"""Answers kept for a rerun (harness.containers.answer_cache): read back with their timed
parts as typed spans, each read now and marked kept, as report.json has always shown it."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.containers import answer_cache
from harness.containers.probe_result import KEPT, Span
from harness.core.answers import observation as obs
from harness.core.answers.observation import Observation


@pytest.fixture(autouse=True)
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


def probed() -> list[Observation]:
    return [obs.config("linux", "arm64", None), obs.dpkg("arm64\n"),
            Span(1000.0, 7.5).stamp(obs.hello("Hello, world!", True)),
            Span(1001.0, 2.0, "export").stamp(obs.absent("elf-audit"))]


def test_kept_answers_are_read_back_with_their_spans_as_read_now(tmp_path: Path) -> None:
    answer_cache.store("k1", probed())
    log = tmp_path / "probe.log"
    back = answer_cache.read_answers("k1", "app:1", log)
    assert back is not None and back.read_back
    assert [o.source for o in back.observations] == [o.source for o in probed()]
    assert sorted(back.spans) == ["elf-audit", "hello"]  # the parts that were timed
    for source, span in back.spans.items():
        assert span.read == KEPT and span.started > 1001.0 and span.seconds < 5.0
        seen = next(o for o in back.observations if o.source == source)
        assert (seen.detail["started"], seen.detail["seconds"], seen.detail["read"]) == (
            span.started, span.seconds, KEPT)  # report.json shows the span read now
    assert all(o.detail["read"] == KEPT for o in back.observations)
    assert "answers read back: app:1 ran before" in log.read_text()


def test_answers_with_a_failure_are_not_kept() -> None:
    answer_cache.store("k2", [*probed(), obs.failed("uname", "the engine went away")])
    assert answer_cache.read_answers("k2", "app:1", None) is None


def test_answers_never_kept_are_asked_again() -> None:
    assert answer_cache.read_answers("never", "app:1", None) is None
