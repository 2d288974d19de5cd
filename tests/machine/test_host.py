"""binfmt_misc entries and how a platform runs on a host."""

from __future__ import annotations

import os
import platform as host_platform
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.core.answers.elf import parse_header
from harness.core.platforms import native
from harness.core.platforms.table import EM_ARM, PLATFORMS, Platform, parse_platform
from harness.machine.host import (
    CpuSeconds,
    Handler,
    cpu_seconds,
    executes,
    parse_handler,
    parse_proc_stat,
    read_handlers,
    run_mode,
    runs_here,
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


ARM32 = ("linux/arm/v7", "linux/arm/v6", "linux/arm/v5")


def ran(answer: bool, asked: list[str] | None = None) -> native.Proof:
    """A simulated host: whether a tiny program of a platform ran there with no handler."""
    def proof(platform: Platform) -> bool:
        if asked is not None:
            asked.append(platform.name)
        return answer
    return proof


def test_an_aarch64_host_without_aarch32_runs_32_bit_arm_only_through_a_handler() -> None:
    """GitHub's ubuntu-24.04-arm runners: "exec format error" for every arm/v7 binary. The
    harness called arm/v7, v6 and v5 native there, so that a probe's exec format error was
    judged a broken image (fail) when the machine could not check."""
    for name in ARM32:
        mode = run_mode(parse_platform(name), "aarch64", [], proof=ran(False))
        assert mode.kind == "unavailable", name
        # Once QEMU's arm handler is registered (preflight does it), it runs emulated.
        mode = run_mode(parse_platform(name), "aarch64", handlers(("qemu-arm", ARM)),
                        proof=ran(False))
        assert (mode.kind, mode.handler) == ("qemu", "qemu-arm"), name
    # Its own binaries need no proof: the harness itself runs there.
    asked: list[str] = []
    assert run_mode(parse_platform("linux/arm64"), "aarch64", [],
                    proof=ran(False, asked)).kind == "native"
    assert asked == []


def test_an_aarch64_host_with_aarch32_runs_32_bit_arm_natively_once_seen_to() -> None:
    for name in ARM32:
        asked: list[str] = []
        assert run_mode(parse_platform(name), "aarch64", [], proof=ran(True, asked)).kind \
            == "native", name
        assert asked == [name]
        assert run_mode(parse_platform(name), "arm64", [], proof=ran(True)).kind == "native"
    # A registered handler wins (the kernel asks handlers first): nothing to prove.
    asked = []
    assert run_mode(parse_platform("linux/arm/v7"), "aarch64", handlers(("qemu-arm", ARM)),
                    proof=ran(True, asked)).kind == "qemu"
    assert asked == []


def test_an_x86_64_host_runs_386_natively_only_once_seen_to() -> None:
    """A kernel booted with ia32_emulation=0 (or built without IA32 emulation) runs no i386
    binary."""
    i386 = parse_platform("linux/386")
    assert run_mode(i386, "x86_64", [], proof=ran(True)).kind == "native"
    assert run_mode(i386, "x86_64", [], proof=ran(False)).kind == "unavailable"
    for name in ("linux/amd64", "linux/amd64/v3"):
        asked: list[str] = []
        assert run_mode(parse_platform(name), "x86_64", [], proof=ran(False, asked)).kind \
            == "native"
        assert asked == []
    # Nor does an x86_64 host run 32-bit arm without a handler, whatever a program did.
    assert run_mode(parse_platform("linux/arm/v7"), "x86_64", [], proof=ran(True)).kind \
        == "unavailable"


@given(st.sampled_from(PLATFORMS), st.sampled_from([*native.FAMILY, "amd64", "arm64", "mips"]),
       st.booleans())
def test_native_is_said_only_of_the_family_and_of_an_optional_mode_only_once_it_ran(
        platform: Platform, host: str, answer: bool) -> None:
    mode = run_mode(platform, host, [], proof=ran(answer))
    if mode.kind == "native":
        assert native.in_family(platform, host)
        assert answer or not native.needs_proof(platform, host)
    else:
        assert mode.kind == "unavailable"
        assert not native.in_family(platform, host) or (
            native.needs_proof(platform, host) and not answer)


def test_the_fix_for_a_missing_32_bit_mode_registers_qemus_handler_with_f() -> None:
    message, fix = native.why_not(parse_platform("linux/arm/v7"), "aarch64")
    assert "AArch32" in message and "linux/arm/v7" in message
    assert "F flag" in fix and "nox -s preflight" in fix and "--install arm`" in fix
    line = native.register_line(parse_platform("linux/arm/v6"), "/usr/bin/qemu-arm-static")
    name, kind, offset, magic, mask, interpreter, flags = line.split(":")[1:]
    assert (name, kind, offset, interpreter, flags) == (
        "qemu-arm", "M", "", "/usr/bin/qemu-arm-static", "F")
    # The entry binfmt_misc would show for it is the one Debian registers on x86_64.
    shown = parse_handler(name, ARM.replace("flags: PF", "flags: F"))
    assert shown is not None
    assert bytes.fromhex(magic.replace("\\x", "")) == shown.magic
    assert bytes.fromhex(mask.replace("\\x", "")) == shown.mask


def test_each_32_bit_mode_has_a_tiny_program_its_handler_claims() -> None:
    """The program that proves a mode is of that mode: QEMU's handler for it matches it, and
    it parses as an executable of the platform."""
    for platform in PLATFORMS:
        for host in native.FAMILY:
            if not native.needs_proof(platform, host):
                continue
            program = native.tiny_program(platform)
            assert program is not None and len(program) < 128, platform.name
            elf = parse_header(program)
            assert (elf.machine, elf.bits, elf.big_endian) == (platform.elf_machine, 32, False)
            _target, magic, mask = native.HANDLERS[platform.elf_machine]
            handler = Handler("h", True, "", "F", 0, magic, mask)
            assert handler.matches(program), platform.name


def test_a_platform_an_aarch64_host_cannot_run_is_the_machines_error_naming_the_fix() -> None:
    """Not a broken image: the platform is refused before any build, as `error` (exit 69),
    and the fix registers QEMU's arm handler, which Debian's package does not on arm64."""
    from harness.containers.engine import cannot_run
    from harness.core.failures.diagnosis import Event, Stage, diagnose
    from harness.core.failures.errors import CannotCheck
    from harness.core.outcomes import Kind, RunKind

    local = "unix:///var/run/docker.sock"
    err = cannot_run(parse_platform("linux/arm/v7"), "aarch64", local)
    assert isinstance(err, CannotCheck)
    assert "does not execute AArch32" in err.message
    assert "qemu-user-static registers none for arm on an aarch64 host" in err.fix
    elsewhere = cannot_run(parse_platform("linux/arm/v6"), "aarch64", "ssh://ci@arm-box")
    assert "neither as native" in elsewhere.message and elsewhere.fix.startswith("on that host")
    # Where an exec format error still reaches the diagnosis (an engine elsewhere whose
    # BuildKit could not be asked: the mode is QEMU's, unknown), it is the machine's, and its
    # fix says what Debian's package does not do on arm64.
    got = diagnose(Event(Stage.BUILD, "exec /bin/sh: exec format error", mode=RunKind.QEMU,
                         platform="linux/arm/v7"))
    assert got.kind is Kind.ERROR and "arm64 host" in got.fix and "F" in got.fix


@pytest.mark.skipif(shutil.which("qemu-arm-static") is None, reason="needs qemu-arm-static")
def test_preflight_registers_qemus_arm_handler_where_aarch32_did_not_run(tmp_path: Path) -> None:
    """Debian's qemu-user-static registers no arm handler on arm64. A directory stands for
    binfmt_misc: this machine's own is shared, and its kernel is x86_64."""
    from harness.machine.provision import register_missing_modes

    (tmp_path / "status").write_text("enabled\n")
    said: list[str] = []
    assert register_missing_modes(said.append, "aarch64", tmp_path, ran(False)) == ["qemu-arm"]
    line = (tmp_path / "register").read_text()
    assert line.startswith(":qemu-arm:M::\\x7f\\x45\\x4c\\x46\\x01") and line.endswith(":F")
    assert line.split(":")[6] == os.path.realpath(shutil.which("qemu-arm-static") or "")
    assert "does not run linux/arm/v7 natively" in said[0]
    # With AArch32, or on x86_64 (whose 386 ran), or once the handler is there: nothing.
    (tmp_path / "register").unlink()
    assert register_missing_modes(said.append, "aarch64", tmp_path, ran(True)) == []
    assert register_missing_modes(said.append, "x86_64", tmp_path, ran(True)) == []
    (tmp_path / "qemu-arm").write_text(ARM)
    assert register_missing_modes(said.append, "aarch64", tmp_path, ran(False)) == []
    assert not (tmp_path / "register").exists()


@pytest.mark.skipif(host_platform.machine() != "x86_64", reason="an x86_64 host's proof")
def test_this_x86_64_machine_runs_386_natively_because_its_program_ran() -> None:
    i386 = parse_platform("linux/386")
    assert not any(h.enabled and h.matches(native.tiny_program(i386) or b"")
                   for h in read_handlers())  # no handler could have run it
    assert runs_here(i386)
    assert run_mode(i386, host_platform.machine(), read_handlers()).kind == "native"


def test_a_program_no_cpu_here_runs_is_not_proof() -> None:
    """An ELF of a machine no handler claims (EM_VAX): exec format error, so not native."""
    program = bytearray(native.tiny_program(parse_platform("linux/arm/v7")) or b"")
    program[18:20] = (75).to_bytes(2, "little")
    assert not any(h.enabled and h.matches(bytes(program)) for h in read_handlers())
    assert executes(bytes(program)) is False


def _arm_handler() -> Handler | None:
    program = native.tiny_program(parse_platform("linux/arm/v7")) or b""
    return next((h for h in read_handlers() if h.enabled and h.matches(program)), None)


@pytest.mark.skipif(host_platform.machine() != "x86_64" or _arm_handler() is None,
                    reason="needs an x86_64 host with QEMU's arm handler registered")
def test_on_x86_64_the_arm_program_runs_through_the_registered_handler(tmp_path: Path) -> None:
    program = native.tiny_program(parse_platform("linux/arm/v7"))
    assert program is not None and parse_header(program).machine == EM_ARM
    assert executes(program)  # through the kernel, which hands it to the handler
    handler = _arm_handler()
    assert handler is not None
    # QEMU itself runs it to exit 0: the program is sound ARM, not only a matching header.
    qemu = os.path.realpath(handler.interpreter)
    if not os.access(qemu, os.X_OK):
        qemu = shutil.which("qemu-arm-static") or shutil.which("qemu-arm") or ""
    assert qemu, "a handler with no QEMU behind it"
    (tmp_path / "exit0").write_bytes(program)
    (tmp_path / "exit0").chmod(0o700)  # QEMU's loader, as the kernel's, runs executables only
    done = subprocess.run([qemu, str(tmp_path / "exit0")], capture_output=True, timeout=30,
                          check=False)
    assert done.returncode == 0, done.stderr
    mode = run_mode(parse_platform("linux/arm/v7"), "x86_64", read_handlers())
    assert (mode.kind, mode.handler) == ("qemu", handler.name)


@pytest.mark.machine  # root, and it turns this machine's arm handler off for milliseconds
@pytest.mark.skipif(host_platform.machine() != "x86_64" or _arm_handler() is None
                    or os.geteuid() != 0, reason="needs root on x86_64 with QEMU's arm handler")
def test_on_x86_64_the_arm_program_runs_only_through_the_handler() -> None:
    """With the handler off, the kernel itself refuses the program (exec format error): what
    ran before was QEMU, and the proof tells a refusal from a run."""
    handler = _arm_handler()
    assert handler is not None
    program = native.tiny_program(parse_platform("linux/arm/v7")) or b""
    entry = Path("/proc/sys/fs/binfmt_misc") / handler.name
    entry.write_text("0")
    try:
        refused = executes(program)
    finally:
        entry.write_text("1")
    assert refused is False
    assert executes(program) is True


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
