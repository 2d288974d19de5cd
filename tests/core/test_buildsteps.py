"""A build's steps, timed from the builder's own output."""

from __future__ import annotations

from harness.core.buildspec.buildsteps import LABEL_LIMIT, StepClock


def test_buildkit_steps_open_and_close_by_number() -> None:
    clock = StepClock()
    for t, line in enumerate([
            "#1 [internal] load build definition from Dockerfile",
            "#1 DONE 0.0s",
            "#4 [1/3] FROM harness.invalid/base/debian:bookworm-slim-linux-arm64",
            "#4 CACHED",
            "#5 [2/3] RUN apt-get update",
            "#5 0.22 Get:1 http://deb.debian.org/debian bookworm InRelease",
            "#6 [builder 3/3] RUN cargo build",  # a named stage's step, interleaved
            "#5 DONE 12.3s",
            "#6 ERROR: process did not complete"]):
        clock.line(line, 100.0 + t)
    steps = clock.steps(end=200.0)
    assert [(s.label, s.start, s.end) for s in steps] == [
        ("[1/3] FROM harness.invalid/base/debian:bookworm-slim-linux-arm64", 102.0, 103.0),
        ("[2/3] RUN apt-get update", 104.0, 107.0),
        ("[builder 3/3] RUN cargo build", 106.0, 108.0)]
    # Only the step BuildKit took from its cache is marked so; a done or failed one is not.
    assert [s.cached for s in steps] == [True, False, False]


def test_a_step_still_open_ends_with_the_build() -> None:
    clock = StepClock()
    clock.line("#7 [3/3] RUN sleep 100", 5.0)
    [step] = clock.steps(end=9.0)
    assert (step.start, step.end) == (5.0, 9.0)


def test_classic_builder_steps_end_where_the_next_begins() -> None:
    clock = StepClock()
    for t, line in enumerate(["Step 1/2 : FROM debian", " ---> 1234", "Step 2/2 : RUN true"]):
        clock.line(line, float(t))
    assert [(s.label, s.start, s.end) for s in clock.steps(end=10.0)] == [
        ("[1/2] FROM debian", 0.0, 2.0), ("[2/2] RUN true", 2.0, 10.0)]


def test_labels_are_one_bounded_printable_line() -> None:
    clock = StepClock()
    clock.line("#5 [2/3] RUN echo \x1b[31m " + "x" * 500, 1.0)
    [step] = clock.steps(end=2.0)
    assert "\x1b" not in step.label and len(step.label) == LABEL_LIMIT


def test_a_step_that_only_fetched_its_blobs_from_the_cache_is_cached() -> None:
    """BuildKit 0.13 (Docker 26) reports the last step of a build taken from a registry cache
    with the blobs it fetched and DONE, not CACHED (seen in CI); a FROM that pulls its base
    and a step that printed output ran, and are not."""
    clock = StepClock()
    blob = "sha256:" + "ab" * 32
    for t, line in enumerate([
            "#5 [1/3] FROM harness.invalid/base/tiny:bookworm-linux-amd64@" + blob,
            f"#5 {blob} 27.39MB / 27.39MB 0.3s done",
            "#5 DONE 0.4s",
            "#6 [2/3] RUN make",
            "#6 0.21 compiling",
            f"#6 {blob} 124B / 124B 0.0s done",
            "#6 DONE 3.0s",
            "#8 [3/3] RUN sleep 3 && cat /stamp > /again",
            f"#8 {blob} 124B / 124B 0.0s done",
            f"#8 {blob} 27.39MB / 27.39MB 0.3s done",
            "#8 DONE 0.4s",
            "#9 [4/4] RUN true",
            "#9 DONE 0.1s"]):
        clock.line(line, float(t))
    assert [s.cached for s in clock.steps(end=20.0)] == [False, False, True, False]
