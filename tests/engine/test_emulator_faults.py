"""Emulator crashes told from image crashes (issue: verdicts past the architecture's name).

A known QEMU bug (docker/buildx#1169, tonistiigi/binfmt#215) makes a program die with
``qemu: uncaught target signal 11`` under one QEMU and run under the next. Such a bug cannot be
summoned on demand, so the test registers a crashing "QEMU" of its own in binfmt_misc, for
arm64 ELF files marked in a padding byte of their identification (e_ident[15] = 'Z'): it prints
QEMU's words and dies by SIGSEGV, as QEMU does. A marked program crashes under it and runs
under Debian trixie's real QEMU 10, which the harness asks: ``error``, kind ``emulator``. A
program that dies by SIGSEGV under every QEMU is ``fail``.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.core.outcomes import Exit
from harness.machine import emulators
from tests.helpers import FIXTURES, TINY, run_harness

BINFMT = Path("/proc/sys/fs/binfmt_misc")
NAME = "harness-test-crash"
# ELF, 64-bit, little-endian, version 1, e_ident[15] = 'Z', ET_EXEC or ET_DYN, EM_AARCH64.
MAGIC = "\\x7fELF\\x02\\x01\\x01" + "\\x00" * 8 + "\\x5a\\x02\\x00\\xb7\\x00"
MASK = "\\xff" * 7 + "\\x00" * 8 + "\\xff\\xfe\\xff\\xff\\xff"
FAKE_QEMU = r"""
#include <signal.h>
#include <stdio.h>
int main(void) {
    fputs("qemu: uncaught target signal 11 (Segmentation fault) - core dumped\n", stderr);
    fflush(stderr);
    signal(SIGSEGV, SIG_DFL);
    raise(SIGSEGV);
    return 139;
}
"""


@pytest.fixture(scope="module")
def crashing_qemu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The crashing handler, registered for marked files only, removed afterwards (flag F:
    the kernel holds the binary open, so containers find it too)."""
    where = tmp_path_factory.mktemp("fake-qemu")
    (where / "fake.c").write_text(FAKE_QEMU)
    subprocess.run(["gcc", "-static", "-O2", "-o", str(where / "fake"), str(where / "fake.c")],
                   check=True)
    entry = BINFMT / NAME
    if entry.exists():
        entry.write_text("-1")
    (BINFMT / "register").write_text(f":{NAME}:M::{MAGIC}:{MASK}:{where / 'fake'}:F")
    try:
        yield
    finally:
        entry.write_text("-1")
    assert not entry.exists()


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, tiny_base: Any) -> Path:
    tiny_base("linux/arm64")
    where = tmp_path_factory.mktemp("project")
    (where / "pyproject.toml").write_text(
        '[tool.harness.checks.marked]\ncommand = ["/opt/marked/busybox", "true"]\n'
        'expect = ""\n\n'
        '[tool.harness.checks.segv]\ncommand = ["sh", "-c", "kill -SEGV $$"]\nexpect = ""\n')
    return where


def harness(project: Path, report_dir: Path, *extra: str) -> dict[str, Any]:
    run = run_harness("--platform=linux/arm64",
                      f"--dockerfile={FIXTURES / 'emulator-crash' / 'Dockerfile'}",
                      f"--build-arg=BASE_IMAGE={TINY}", f"--report-dir={report_dir}",
                      "--image=harness-test/emulator-crash", "--require=", *extra, cwd=project)
    report: dict[str, Any] = json.loads((report_dir / "report.json").read_text())
    report["returncode"], report["output"] = run.returncode, run.stdout + run.stderr
    return report


def test_a_crash_under_one_qemu_only_is_an_emulator_error_and_one_under_all_fails(
        tmp_path: Path, crashing_qemu: None, project: Path) -> None:
    report = harness(project, tmp_path / "r")
    # The image is wrong (segv): that blocks, whatever the emulator did elsewhere.
    assert report["returncode"] == Exit.IMAGE_WRONG, report["output"][-3000:]
    [p] = report["platforms"]
    found = {f["source"]: f for f in p["findings"]}
    marked = found["check:marked"]
    assert marked["kind"] == "emulator", marked
    assert "QEMU 7.2" in marked["message"] and "ran under QEMU 10" in marked["message"]
    assert "native runner" in marked["fix"]
    segv = found["check:segv"]
    assert segv["kind"] == "broken", segv
    assert "SIGSEGV under QEMU 7.2" in segv["message"] and "QEMU 10" in segv["message"]
    assert (emulators.cache_dir() / "qemu-aarch64").exists()


def test_only_an_emulator_crash_is_error_not_fail(tmp_path: Path, crashing_qemu: None,
                                                  project: Path) -> None:
    text = (project / "pyproject.toml").read_text()
    alone = tmp_path / "alone"
    alone.mkdir()
    (alone / "pyproject.toml").write_text(text.split("\n\n")[0] + "\n")
    report = harness(alone, tmp_path / "r")
    assert report["returncode"] == Exit.CANNOT_CHECK, report["output"][-3000:]
    [p] = report["platforms"]
    assert p["verdict"] == "error"
    assert [f["source"] for f in p["findings"]
            if f["kind"] not in ("absent", "not-applicable")] == ["check:marked"]


def test_a_build_step_qemu_crashes_is_tried_twice_and_never_called_the_images_fault(
        tmp_path: Path, crashing_qemu: None, project: Path) -> None:
    report = harness(project, tmp_path / "r", "--build-arg=CRASH_IN_BUILD=1")
    assert report["returncode"] == Exit.CANNOT_CHECK, report["output"][-3000:]
    [p] = report["platforms"]
    [finding] = p["findings"]
    assert (finding["kind"], finding["source"]) == ("emulator", "build"), finding
    assert "crashed in a build step, twice" in finding["message"]
    log = (tmp_path / "r" / "logs" / "linux-arm64-build.log").read_text()
    assert log.count("qemu: uncaught target signal 11") >= 2
    assert "QEMU crashed in a build step: building again" in log
