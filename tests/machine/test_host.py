"""binfmt_misc entries and how a platform runs on a host."""

from __future__ import annotations

import time
from pathlib import Path

from harness.core.platforms import parse_platform
from harness.machine.host import (
    CpuSeconds,
    Handler,
    cpu_seconds,
    parse_handler,
    parse_proc_stat,
    read_handlers,
    run_mode,
)

# Copied from /proc/sys/fs/binfmt_misc/qemu-aarch64 on a Debian bookworm host.
AARCH64 = """enabled
interpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P
flags: PF
offset 0
magic 7f454c460201010000000000000000000200b700
mask ffffffffffffff00fffffffffffffffffeffffff
"""
ARM = """enabled
interpreter /usr/libexec/qemu-binfmt/arm-binfmt-P
flags: PF
offset 0
magic 7f454c4601010100000000000000000002002800
mask ffffffffffffff00fffffffffffffffffeffffff
"""


def handlers(*texts: tuple[str, str]) -> list[Handler]:
    found = [parse_handler(name, text) for name, text in texts]
    return [h for h in found if h is not None]


def test_parses_a_debian_handler() -> None:
    h = parse_handler("qemu-aarch64", AARCH64)
    assert h is not None
    assert (h.enabled, h.flags, h.offset) == (True, "PF", 0)
    assert h.interpreter.endswith("aarch64-binfmt-P")


def test_extension_entries_are_ignored() -> None:
    assert parse_handler("jar", "enabled\ninterpreter /usr/bin/jexec\nflags: \nextension .jar\n") \
        is None


def test_a_registered_handler_runs_the_platform_under_qemu() -> None:
    mode = run_mode(parse_platform("linux/arm64"), "x86_64", handlers(("qemu-aarch64", AARCH64)))
    assert mode.kind == "qemu" and mode.handler == "qemu-aarch64" and mode.flags == "PF"


def test_the_arm_handler_serves_every_32_bit_arm_variant() -> None:
    found = handlers(("qemu-arm", ARM))
    for name in ("linux/arm/v7", "linux/arm/v6", "linux/arm/v5"):
        assert run_mode(parse_platform(name), "x86_64", found).handler == "qemu-arm"


def test_386_runs_natively_on_x86_64_without_any_handler() -> None:
    assert run_mode(parse_platform("linux/386"), "x86_64", []).kind == "native"


def test_no_handler_means_the_platform_cannot_run() -> None:
    mode = run_mode(parse_platform("linux/s390x"), "x86_64", handlers(("qemu-arm", ARM)))
    assert mode.kind == "unavailable" and not mode.can_run


def test_a_disabled_handler_does_not_count() -> None:
    found = handlers(("qemu-aarch64", AARCH64.replace("enabled", "disabled", 1)))
    assert run_mode(parse_platform("linux/arm64"), "x86_64", found).kind == "unavailable"


def test_read_handlers_needs_binfmt_enabled(tmp_path: Path) -> None:
    (tmp_path / "status").write_text("disabled\n")
    (tmp_path / "qemu-aarch64").write_text(AARCH64)
    assert read_handlers(tmp_path) == []
    (tmp_path / "status").write_text("enabled\n")
    (tmp_path / "register").write_text("")
    assert [h.name for h in read_handlers(tmp_path)] == ["qemu-aarch64"]


def test_read_handlers_without_binfmt_mounted(tmp_path: Path) -> None:
    assert read_handlers(tmp_path / "missing") == []


# The first lines of /proc/stat on a 2-core machine (clock ticks of 1/100 s).
PROC_STAT = """cpu  1000 20 300 5000 100 10 5 65 0 0
cpu0 500 10 150 2500 50 5 2 30 0 0
cpu1 500 10 150 2500 50 5 3 35 0 0
intr 123
"""


def test_proc_stat_gives_busy_and_idle_core_seconds() -> None:
    seen = parse_proc_stat(PROC_STAT, 100)
    # busy: user, nice, system, irq, softirq and steal; idle: idle and I/O wait
    assert seen == CpuSeconds(busy=14.0, idle=51.0)
    assert seen - CpuSeconds(busy=4.0, idle=50.0) == CpuSeconds(busy=10.0, idle=1.0)
    assert parse_proc_stat("intr 123\n", 100) is None


def test_this_machines_cpu_counts_a_busy_second() -> None:
    before = cpu_seconds()
    assert before is not None
    end = time.monotonic() + 0.5
    while time.monotonic() < end:
        pass
    after = cpu_seconds()
    assert after is not None
    assert (after - before).busy >= 0.4
