"""The CPU level a program needs, against its platform's variant: an ARMv7 program in a
linux/arm/v6 image runs under QEMU's default CPU (so it was a quirk, exit 0) and dies on a
Raspberry Pi Zero/1; its ARMv6 twin passes."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from harness.core.outcomes import Exit
from tests.helpers import FIXTURES, TINY, debian_package, run_harness


@pytest.fixture(scope="module")
def assembler() -> tuple[str, str]:
    """Debian's ARM cross binutils (as and ld), installed once."""
    as_ = debian_package("arm-linux-gnueabi-as", "binutils-arm-linux-gnueabi")
    return as_, as_.replace("-as", "-ld")


def build_program(tools: tuple[str, str], level: str, where: Path) -> Path:
    as_, ld = tools
    shutil.copytree(FIXTURES / "arm-level", where)
    source = where / "exit.S"
    pre = subprocess.run(["cpp", "-P", *(["-DV7"] if level == "v7" else []), str(source)],
                         capture_output=True, text=True, check=True).stdout
    (where / "exit.s").write_text(pre)
    subprocess.run([as_, f"-march=armv{7 if level == 'v7' else 6}" + ("-a" if level == "v7"
                                                                        else ""),
                    "-o", str(where / "exit.o"), str(where / "exit.s")], check=True)
    subprocess.run([ld, "-static", "-o", str(where / "prog"), str(where / "exit.o")],
                   check=True)
    attributes = subprocess.run(["readelf", "-A", str(where / "prog")], capture_output=True,
                                text=True, check=True).stdout
    assert f"Tag_CPU_arch: v{7 if level == 'v7' else 6}" in attributes, attributes
    return where


@pytest.mark.parametrize(("level", "status"), [("v7", Exit.IMAGE_WRONG), ("v6", Exit.OK)])
def test_an_armv7_program_fails_linux_arm_v6_and_its_armv6_twin_passes(
        tmp_path: Path, assembler: tuple[str, str], level: str, status: int) -> None:
    context = build_program(assembler, level, tmp_path / "context")
    run = run_harness("--platform=linux/arm/v6", f"--dockerfile={context / 'Dockerfile'}",
                      f"--report-dir={tmp_path / 'r'}", f"--image=harness-test/arm-{level}",
                      "--require=")
    assert run.returncode == status, run.stdout[-3000:]
    [p] = json.loads((tmp_path / "r" / "report.json").read_text())["platforms"]
    seen = p["observed"]["isa"]["detail"]
    assert seen["files"] == 1
    if level == "v7":
        [finding] = [f for f in p["findings"] if f["source"] == "isa"]
        assert finding["kind"] == "broken"
        assert "/prog: built for ARMv7, more than linux/arm/v6 offers" in finding["message"]
    else:
        assert p["verdict"] == "pass" and seen["count"] == 0 and seen["seen"] == {"ARMv6": 1}


@pytest.mark.parametrize(("march", "status"), [("x86-64-v3", Exit.IMAGE_WRONG),
                                               ("x86-64", Exit.OK)])
def test_an_x86_64_v3_program_fails_plain_linux_amd64_and_its_baseline_twin_passes(
        tmp_path: Path, march: str, status: int) -> None:
    """AVX2 code dies with SIGILL on an x86-64-v1 CPU (QEMU's qemu64 model, older Atoms)."""
    context = tmp_path / "context"
    shutil.copytree(FIXTURES / "x86-level", context)
    source = context / "main.c"
    source.write_text("int main(void) { return 0; }\n")
    subprocess.run(["gcc", "-O2", f"-march={march}", "-mneeded", "-static", "-o",
                    str(context / "prog"), str(source)], check=True)
    run = run_harness("--platform=linux/amd64", f"--dockerfile={context / 'Dockerfile'}",
                      f"--report-dir={tmp_path / 'r'}", f"--image=harness-test/{march}",
                      "--require=")
    assert run.returncode == status, run.stdout[-3000:]
    [p] = json.loads((tmp_path / "r" / "report.json").read_text())["platforms"]
    if march == "x86-64-v3":
        [finding] = [f for f in p["findings"] if f["source"] == "isa"]
        assert "/prog: built for x86-64-v2, x86-64-v3, more than linux/amd64 offers" in \
            finding["message"]
    else:
        assert p["observed"]["isa"]["detail"]["seen"] == {"x86-64-baseline": 1}


@pytest.fixture(scope="module")
def arm64_assembler() -> tuple[str, str]:
    as_ = debian_package("aarch64-linux-gnu-as", "binutils-aarch64-linux-gnu")
    return as_, as_.replace("-as", "-ld")


@pytest.mark.parametrize(("lse", "status"), [(True, Exit.IMAGE_WRONG), (False, Exit.OK)])
def test_lse_atomics_die_on_the_arm64_baseline_cpu_and_the_v8_0_twin_runs(
        tmp_path: Path, arm64_assembler: tuple[str, str], tiny_base: Any, lse: bool,
        status: int) -> None:
    """Drakkar-Software/OctoBot#3137, openobserve#966: an arm64 program with ARMv8.1 atomics
    runs under QEMU's default CPU and on newer boards, and dies on a Cortex-A53. No build
    attribute says so: only running it on that CPU shows it (a declared check runs it)."""
    tiny_base("linux/arm64")
    as_, ld = arm64_assembler
    context = tmp_path / "context"
    shutil.copytree(FIXTURES / "arm64-atomics", context)
    pre = subprocess.run(["cpp", "-P", *(["-DLSE"] if lse else []), str(context / "exit.S")],
                         capture_output=True, text=True, check=True).stdout
    (context / "exit.s").write_text(pre)
    subprocess.run([as_, "-march=armv8.1-a" if lse else "-march=armv8-a", "-o",
                    str(context / "exit.o"), str(context / "exit.s")], check=True)
    subprocess.run([ld, "-static", "-o", str(context / "prog"), str(context / "exit.o")],
                   check=True)
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[tool.harness.checks.atomic-add]\ncommand = ["atomic-add"]\nexpect = ""\n')
    run = run_harness("--platform=linux/arm64", f"--dockerfile={context / 'Dockerfile'}",
                      f"--build-arg=BASE_IMAGE={TINY}", f"--report-dir={tmp_path / 'r'}",
                      f"--image=harness-test/atomics-{'lse' if lse else 'v8'}", "--require=",
                      cwd=project)
    assert run.returncode == status, run.stdout[-3000:]
    [p] = json.loads((tmp_path / "r" / "report.json").read_text())["platforms"]
    seen = p["observed"]["baseline-cpu"]["detail"]
    assert seen["cpu"] == "cortex-a53" and seen["uname"] == "aarch64"
    assert p["observed"]["check:atomic-add"]["error"] is None  # the default CPU runs it
    if lse:
        assert seen["illegal"] == ["atomic-add"]
        [finding] = [f for f in p["findings"] if f["source"] == "baseline-cpu"]
        assert finding["kind"] == "broken" and "on cortex-a53" in finding["message"]
    else:
        assert seen["illegal"] == [] and p["verdict"] == "pass"


def test_an_x86_64_v3_program_passes_linux_amd64_v3_and_its_v4_twin_fails(
        tmp_path: Path) -> None:
    """linux/amd64/v3 (OCI's name for the level) offers AVX2: its programs may need it,
    not AVX-512."""
    for march, status in (("x86-64-v3", Exit.OK), ("x86-64-v4", Exit.IMAGE_WRONG)):
        context = tmp_path / march
        shutil.copytree(FIXTURES / "x86-level", context)
        (context / "main.c").write_text("int main(void) { return 0; }\n")
        subprocess.run(["gcc", "-O2", f"-march={march}", "-mneeded", "-static", "-o",
                        str(context / "prog"), str(context / "main.c")], check=True)
        run = run_harness("--platform=linux/amd64/v3", f"--dockerfile={context / 'Dockerfile'}",
                          f"--report-dir={tmp_path / march / 'r'}",
                          f"--image=harness-test/{march}-on-v3", "--require=")
        assert run.returncode == status, run.stdout[-3000:]
        [p] = json.loads((tmp_path / march / "r" / "report.json").read_text())["platforms"]
        assert p["observed"]["config"]["value"] == "linux/amd64/v3"
        isa = [f["message"] for f in p["findings"] if f["source"] == "isa"]
        expected = 0 if march == "x86-64-v3" else 1
        assert len(isa) == expected, isa
        assert all("built for x86-64-v4, more than linux/amd64/v3 offers (x86-64-v3)" in m
                   for m in isa)


AVX2_PROGRAM = r"""
int main(void) {
#ifdef AVX2
    __asm__ volatile("vpaddd %ymm0, %ymm0, %ymm0");
#endif
    return 0;
}
"""


@pytest.mark.parametrize(("avx2", "status"), [(True, Exit.IMAGE_WRONG), (False, Exit.OK)])
def test_an_avx2_instruction_no_note_declares_dies_on_the_amd64_baseline_cpu(
        tmp_path: Path, avx2: bool, status: int) -> None:
    """linux/amd64 runs natively here, on a CPU with AVX2: the program runs, and its ELF says
    nothing of AVX2 (no -mneeded). Only QEMU launched with -cpu qemu64 (x86-64-v1) shows
    that it dies on the platform's baseline. A scratch image: no shell to exec in, each
    command in a container of its own."""
    context = tmp_path / "context"
    shutil.copytree(FIXTURES / "x86-level", context)
    (context / "main.c").write_text(AVX2_PROGRAM)
    subprocess.run(["gcc", "-O2", "-static", *(["-DAVX2"] if avx2 else []), "-o",
                    str(context / "prog"), str(context / "main.c")], check=True)
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[tool.harness.checks.prog]\ncommand = ["/prog"]\nexpect = ""\n')
    run = run_harness("--platform=linux/amd64", f"--dockerfile={context / 'Dockerfile'}",
                      f"--report-dir={tmp_path / 'r'}",
                      f"--image=harness-test/avx2-{'yes' if avx2 else 'no'}", "--require=",
                      cwd=project)
    assert run.returncode == status, run.stdout[-3000:]
    [p] = json.loads((tmp_path / "r" / "report.json").read_text())["platforms"]
    base = p["observed"]["baseline-cpu"]["detail"]
    assert base["cpu"] == "qemu64" and [r["command"] for r in base["ran"]] == ["/prog"]
    assert p["observed"]["isa"]["detail"]["count"] == 0  # the ELF file says nothing
    if avx2:
        [finding] = [f for f in p["findings"] if f["source"] == "baseline-cpu"]
        assert "on qemu64" in finding["message"] and "`/prog`" in finding["message"]
    else:
        assert p["verdict"] == "pass", p["findings"]
