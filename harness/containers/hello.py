"""The hello world: a crate made with ``cargo new``, compiled and run inside the image (the
longest probe: under QEMU, most of a platform's checks)."""

from __future__ import annotations

import time

from harness.containers.probe_container import ImageProbe
from harness.containers.probe_result import Span, Timed
from harness.containers.questions import elf_answer
from harness.core.answers import observation as obs
from harness.core.answers.observation import Observation
from harness.core.failures.errors import ProbeTimeout
from harness.core.outcomes import Kind

HELLO_DIR = "/tmp/harness-hello"
# Built as a CI builds it: no incremental cache and no debug info for the crate (std is linked
# as it is): under QEMU this is a quarter less time (9.3 s to 7.3 s on arm64), and compiling
# and linking are proved the same. Both settings are cargo's since 1.41 (2020).
HELLO_SCRIPT = (
    f"set -e; rm -rf {HELLO_DIR}; cargo new --vcs none --quiet --name harness-hello {HELLO_DIR}; "
    f"cd {HELLO_DIR}; CARGO_INCREMENTAL=0 CARGO_PROFILE_DEV_DEBUG=0 cargo build --offline "
    "--quiet; ./target/debug/harness-hello"
)
HELLO_GREETING = "Hello, world!"


def compile_and_run(probe: ImageProbe, cargo: Observation, timeout: float) -> Timed:
    """Compile and run a hello-world crate; a failure to build is the image's fault. Timed
    where the compile ran to its end."""
    if cargo.raw is None:
        if cargo.absent:
            return Timed([obs.absent("hello"), obs.absent("hello-elf")])
        # cargo's own finding says what is wrong; the crate is not tried, and not blamed twice.
        return Timed([obs.failed("hello", "not tried: cargo does not work", Kind.ABSENT),
                      obs.absent("hello-elf")])
    start, started = time.monotonic(), time.time()
    try:
        code, out = probe.exec(["sh", "-c", HELLO_SCRIPT], timeout)
    except ProbeTimeout as exc:
        return Timed([obs.failed("hello", exc.message, cause=exc.cause or None),
                      obs.absent("hello-elf")])
    span = Span(started, round(time.monotonic() - start, 2))
    hello = span.stamp(obs.hello(out, code == 0 and HELLO_GREETING in out))
    return Timed([hello, elf_answer(probe, "hello-elf",
                                    f"{HELLO_DIR}/target/debug/harness-hello")], span)
