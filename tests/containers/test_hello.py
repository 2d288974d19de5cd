"""The hello world (harness.containers.hello) against the fake engine: compiled and run in
the probe's container, and timed as a typed span where it ran; not tried where cargo is not
there or does not work (no span)."""

from __future__ import annotations

import time

from harness.containers import hello
from harness.containers.probe_container import ImageProbe
from harness.core.answers import observation as obs
from harness.core.platforms.table import parse_platform
from tests.fake_engine import FakeEngine, error

ARM64 = parse_platform("linux/arm64")
CARGO = obs.cargo("cargo 1.83.0 (5ffbef321 2024-10-29)\n")


def test_a_compile_that_ran_is_timed_and_its_span_is_in_its_detail(fake: FakeEngine) -> None:
    fake.image("app:1", arch="arm64")
    fake.exec_output = [(1, b"Hello, world!\n")]
    fake.on("GET", "/containers/[^/]+/archive", error(404, "no such file"))
    before = time.time()
    with ImageProbe(fake.client(), "app:1", ARM64) as probe:
        timed = hello.compile_and_run(probe, CARGO, 30.0)
    after = time.time()
    ran, elf = timed.found
    assert (ran.source, ran.value, elf.source) == ("hello", "ran", "hello-elf")
    # seconds are rounded to 0.01 as report.json shows them: the end may pass `after` by 0.005
    assert timed.span is not None
    assert before <= timed.span.started <= timed.span.end <= after + 0.005
    assert (ran.detail["started"], ran.detail["seconds"]) == (timed.span.started,
                                                              timed.span.seconds)
    (made,) = fake.execs.values()
    assert made["Cmd"] == ["sh", "-c", hello.HELLO_SCRIPT]


def test_no_cargo_is_no_compile_and_no_span(fake: FakeEngine) -> None:
    fake.image("app:1", arch="arm64")
    with ImageProbe(fake.client(), "app:1", ARM64) as probe:
        absent = hello.compile_and_run(probe, obs.absent("cargo"), 30.0)
        broken = hello.compile_and_run(probe, obs.failed("cargo", "exited 1"), 30.0)
    assert absent.span is None and [o.absent for o in absent.found] == [True, True]
    assert broken.span is None and broken.found[0].error == "not tried: cargo does not work"
    assert fake.execs == {}  # nothing was run
