"""A probe's typed result (harness.containers.probe_result): its spans, read by the pipeline
for the report's timeline and times, and written into each observation's detail once, where
report.json shows them."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from harness.containers.probe_result import KEPT, TIMED, Probed, Span
from harness.core.answers import observation as obs
from harness.core.outcomes import Verdict
from harness.core.results.platform_result import PlatformResult


def test_a_span_is_written_into_its_detail_as_report_json_keeps_it() -> None:
    hello = Span(1700000000.5, 7.31).stamp(obs.hello("Hello, world!", True))
    assert (hello.detail["started"], hello.detail["seconds"]) == (1700000000.5, 7.31)
    assert "read" not in hello.detail  # where it was read is told only where it is known
    audit = Span(1700000001.0, 0.42, "in place").stamp(obs.absent("elf-audit"))
    assert audit.detail == {"seconds": 0.42, "started": 1700000001.0, "read": "in place"}


def test_the_stamped_detail_reaches_report_json_unchanged() -> None:
    seen = Span(1700000000.0, 2.5, KEPT).stamp(obs.hello("Hello, world!", True))
    result = PlatformResult("linux/arm64", Verdict.PASS, observations=[seen])
    shown = result.to_dict()["observed"]["hello"]["detail"]
    assert {k: shown[k] for k in ("started", "seconds", "read")} == {
        "started": 1700000000.0, "seconds": 2.5, "read": "kept"}


@given(started=st.floats(0, 2e9), seconds=st.floats(0, 1e5))
def test_a_spans_end_is_its_start_and_its_seconds(started: float, seconds: float) -> None:
    assert Span(started, seconds).end == started + seconds


def test_a_skipped_source_has_no_span_of_its_own() -> None:
    """An override's skip reports the source as skipped: its time is the probe's own, as it
    was when the pipeline read the spans from the observations the report keeps."""
    spans = {source: Span(100.0 + i, 1.0) for i, source in enumerate(TIMED)}
    probed = Probed([], spans)
    kept = probed.without(lambda source: "not here" if source == "hello" else None)
    assert sorted(kept) == sorted(set(TIMED) - {"hello"})
    assert probed.without(lambda _source: None) == spans


def test_the_timeline_names_every_timed_source() -> None:
    assert dict(TIMED) == {"hello": "hello", "elf-audit": "audit",
                           "baseline-cpu": "baseline", "native-modules": "native"}
