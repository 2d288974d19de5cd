"""The ELF audit on real binaries of this machine, and the paths where foreign code belongs."""

from __future__ import annotations

import shutil
import struct
import sys
from pathlib import Path

import pytest

from harness.core.answers import audit, elf
from harness.core.answers import observation as obs
from harness.core.judging.verdicts import judge_source
from harness.core.outcomes import Kind, RunKind
from harness.core.platforms.table import PLATFORMS, parse_platform
from harness.machine.host import RunMode
from tests.hostile_elf import x86_64

AMD64, I386, ARM64 = (parse_platform(n) for n in ("linux/amd64", "linux/386", "linux/arm64"))


def head_of(path: str) -> bytes:
    return Path(path).read_bytes()[:audit.HEAD]


@pytest.fixture(scope="module")
def native() -> bytes:
    """A dynamically linked executable of this machine (the Python running the tests)."""
    data = head_of(str(Path(sys.executable).resolve()))
    if elf.parse_header(data).machine != 62:
        pytest.skip("these rows are written for an x86_64 machine")
    return data


def with_interpreter(data: bytes, path: str) -> bytes:
    """``data`` with its PT_INTERP string replaced (as long as it fits)."""
    old = elf.interpreter(data)
    assert old is not None
    at = data.index(old.encode())
    assert len(path) <= len(old)
    return data[:at] + path.encode().ljust(len(old), b"\0") + data[at + len(old):]


def test_the_tables_cover_every_platform() -> None:
    assert set(audit.LOADERS) == set(audit.MULTIARCH) == {p.name for p in PLATFORMS}


def test_a_native_executable_is_of_its_platform_only(native: bytes) -> None:
    assert elf.interpreter(native) == "/lib64/ld-linux-x86-64.so.2"
    assert audit.judge_file(AMD64, native) is None
    assert audit.judge_file(I386, native) == "ELF 64-bit LSB x86-64"
    assert audit.judge_file(ARM64, native) == "ELF 64-bit LSB x86-64"


def test_the_program_interpreter_must_be_the_platform_s(native: bytes) -> None:
    assert audit.judge_file(AMD64, with_interpreter(native, "/lib/ld-musl-x86_64.so.1")) is None
    wrong = with_interpreter(native, "/lib/ld-linux-aarch64.so.1")
    assert audit.judge_file(AMD64, wrong) == "interpreter /lib/ld-linux-aarch64.so.1"


def test_objects_that_nothing_runs_are_not_judged(native: bytes) -> None:
    order = "<"
    relocatable = native[:16] + struct.pack(order + "H", 1) + native[18:]
    assert audit.judge_file(ARM64, relocatable) is None
    assert audit.judge_file(ARM64, b"#!/bin/sh\necho hi\n") is None


def test_foreign_files_are_counted_listed_and_allowed_where_expected(native: bytes) -> None:
    files = [(path, data, len(data)) for path, data in [
        ("/usr/local/bin/tool", native), ("/usr/bin/ok", native),
        ("/usr/lib/x86_64-linux-gnu/libfoo.so", native),  # multiarch of another arch
        ("/usr/lib/aarch64-linux-gnu/libown.so", native),  # its own: not excused
        ("/usr/libexec/qemu-binfmt/x", native), ("/opt/vendor/lib.so", native),
        ("/etc/passwd", b"root:x:0:0")]]
    got = audit.audit(ARM64, files, allow=["/opt/vendor/*"])
    assert got.files == 6 and got.allowed == 3 and got.count == 3
    assert [f.path for f in got.foreign] == ["/usr/local/bin/tool", "/usr/bin/ok",
                                             "/usr/lib/aarch64-linux-gnu/libown.so"]
    assert "3 of another platform" in got.summary()
    assert audit.audit(AMD64, files).count == 0


def test_the_list_is_bounded_and_the_count_is_not(native: bytes) -> None:
    got = audit.audit(ARM64, ((f"/bin/x{i}", native, len(native))
                                   for i in range(audit.LISTED + 50)))
    assert got.count == audit.LISTED + 50 and len(got.foreign) == audit.LISTED


@pytest.mark.skipif(shutil.which("qemu-aarch64-static") is None, reason="needs QEMU's binaries")
def test_qemu_s_own_binaries_are_foreign_on_purpose() -> None:
    data = head_of(shutil.which("qemu-aarch64-static") or "")
    assert audit.audit(ARM64, [("/usr/bin/qemu-aarch64-static", data, len(data))]).count == 0


def test_a_file_no_loader_can_read_is_its_own_finding_and_hides_no_other(
        native: bytes) -> None:
    """e_phoff = 2**63 beside a foreign program: the foreign one still fails the image, and
    the malformed one is named (it runs on no machine), unless it is where foreign code is
    expected."""
    broken = x86_64(phoff=2**63, phnum=3)
    files = [("/usr/bin/odd", broken, len(broken)), ("/usr/bin/tool", native, 10**6),
             ("/usr/lib/firmware/blob", broken, len(broken))]
    got = audit.audit(ARM64, files)
    assert (got.count, got.malformed_count, got.allowed) == (1, 1, 1)
    assert str(got.malformed[0]).startswith("/usr/bin/odd (its program header table")
    findings = judge_source(ARM64, obs.elf_audit("linux/arm64", got, 0.1), "amd64",
                            RunMode(RunKind.NATIVE), frozenset())
    assert [f.kind for f in findings] == [Kind.MISMATCH, Kind.BROKEN]
    assert "/usr/bin/tool" in findings[0].message and "/usr/bin/odd" in findings[1].message
    # Of the platform itself, the malformed file alone fails it.
    alone = audit.audit(AMD64, files[:1])
    [finding] = judge_source(AMD64, obs.elf_audit("linux/amd64", alone, 0.1), "amd64",
                             RunMode(RunKind.NATIVE), frozenset())
    assert finding.kind is Kind.BROKEN and "no loader of any machine" in finding.message
    assert audit.audit(AMD64, [("/usr/bin/ok", native, 10**6)]).malformed_count == 0


@pytest.mark.parametrize(("name", "path"), [
    ("usr/bin/x", "/usr/bin/x"), ("./usr/bin/x", "/usr/bin/x"),
    (".hidden/tool", "/.hidden/tool"), ("./.dockerenv", "/.dockerenv"), ("/abs", "/abs"),
])
def test_exported_names_become_the_paths_in_the_image(name: str, path: str) -> None:
    """A leading dot belongs to the name: only a "./" prefix is dropped."""
    assert audit.archive_path(name) == path


def test_a_file_whose_judgement_raises_is_an_internal_finding_naming_it_the_rest_judged(
        native: bytes) -> None:
    """An unexpected exception on one file ended the run (exit 70) and hid the other files'
    fail; now it is that file's `internal` finding, and the foreign file is still a fail."""

    def judge(platform: object, head: bytes) -> str | None:
        if head == odd:
            raise IndexError("x" * 10_000)  # a reader's bug, on this file only
        return audit.judge_file(ARM64, head)

    odd = native[:-1] + b"\x01"
    files = [("/usr/bin/odd", odd, 10_000), ("/usr/bin/tool", native, 10_000)]
    got = audit.audit(ARM64, files, judge=judge)
    assert [f.path for f in got.foreign] == ["/usr/bin/tool"] and got.count == 1
    assert [f.path for f in got.internal] == ["/usr/bin/odd"] and got.internal_count == 1
    findings = judge_source(ARM64, obs.elf_audit("linux/arm64", got, 0.1), "amd64",
                            RunMode(RunKind.NATIVE), frozenset())
    kinds = {f.kind: f for f in findings}
    assert set(kinds) == {Kind.MISMATCH, Kind.INTERNAL}
    assert "/usr/bin/tool" in kinds[Kind.MISMATCH].message
    internal = kinds[Kind.INTERNAL].message
    assert "/usr/bin/odd" in internal and "IndexError" in internal and len(internal) < 600
