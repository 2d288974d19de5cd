"""Runs of the harness against what a hostile or careless user or image throws at it; each
case failed before its fix (issue: the gate never lies and never harms its runner)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from harness.containers import engine
from harness.core.failures.diagnosis import INTERRUPTIONS
from harness.core.outcomes import Exit
from tests.helpers import FIXTURES, ROOT, TINY, harness_cmd, run_harness


def report(report_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((report_dir / "report.json").read_text())
    return data


def junit_cases(report_dir: Path) -> dict[str, str]:
    """Each JUnit case by name: passed, failure, error or skipped."""
    found = {}
    for case in ET.parse(report_dir / "junit.xml").getroot().iter("testcase"):
        outcome = next((child.tag for child in case if child.tag in ("failure", "error",
                                                                     "skipped")), "passed")
        found[case.get("name", "")] = outcome
    return found


def junit_skip(report_dir: Path, name: str) -> str:
    """The reason JUnit case ``name`` was skipped with ("" when it was not)."""
    for case in ET.parse(report_dir / "junit.xml").getroot().iter("testcase"):
        if case.get("name") == name:
            skipped = case.find("skipped")
            return "" if skipped is None else skipped.get("message", "")
    return ""


def tiny(tmp_path: Path, fixture: str, *extra: str, platforms: tuple[str, ...] =
         ("linux/amd64",), cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return run_harness(*(f"--platform={p}" for p in platforms),
                       f"--dockerfile={FIXTURES / fixture / 'Dockerfile'}",
                       f"--build-arg=BASE_IMAGE={TINY}", f"--report-dir={tmp_path}",
                       f"--image=harness-test/{fixture}", "--require=", *extra, cwd=cwd)


@pytest.fixture(scope="module")
def seeded(tiny_base: Any) -> None:
    for name in ("linux/amd64", "linux/arm64"):
        tiny_base(name)


def test_an_apk_userland_of_another_architecture_fails_in_junit_too(
        tmp_path: Path, seeded: None) -> None:
    """report.json said fail while every JUnit case passed: apk had no case of its own."""
    run = tiny(tmp_path, "apk-userland")
    assert run.returncode == Exit.IMAGE_WRONG, run.stdout[-3000:]
    [p] = report(tmp_path)["platforms"]
    assert p["verdict"] == "fail"
    assert [f["source"] for f in p["findings"] if f["kind"] == "mismatch"] == ["apk"]
    cases = junit_cases(tmp_path)
    assert cases["test_source[apk-linux/amd64]"] == "failure"
    assert cases["test_source[dpkg-linux/amd64]"] == "skipped"  # absent: nothing to check
    assert cases["test_source[rpm-linux/amd64]"] == "skipped"  # not asked: apk answered
    assert "test_source[uname-linux/amd64]" in cases


def test_a_scratch_image_without_command_is_probed_not_a_harness_bug(
        tmp_path: Path, seeded: None) -> None:
    """It was exit 70, the engine's "No command specified"."""
    run = tiny(tmp_path, "no-command", platforms=("linux/amd64", "linux/arm64"))
    assert run.returncode == Exit.OK, run.stdout[-3000:]
    assert {p["verdict"] for p in report(tmp_path)["platforms"]} == {"pass"}


def declared(tmp_path: Path, command: str, expect: str) -> Path:
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        f"[tool.harness.checks.big]\ncommand = {json.dumps(command)}\n"
        f"expect = {json.dumps(expect)}\n")
    return project


def test_a_declared_check_sees_the_end_of_a_long_output(tmp_path: Path, seeded: None) -> None:
    """Only the first ~4 KiB were matched: `ls --help`'s last line was "not printed"."""
    project = declared(tmp_path, "i=0; while [ $i -lt 3000 ]; do echo \"line $i\"; "
                       "i=$((i+1)); done; echo 'GNU coreutils online help'",
                       "^GNU coreutils online help$")
    run = tiny(tmp_path / "r", "tiny", cwd=project,
               platforms=("linux/amd64", "linux/arm64"))
    assert run.returncode == Exit.OK, run.stdout[-3000:]
    for p in report(tmp_path / "r")["platforms"]:
        assert p["verdict"] == "pass", p["findings"]
        assert len(p["observed"]["check:big"]["raw"]) <= 4096  # what is kept stays bounded


def test_output_past_the_cap_is_bad_input_not_a_silent_mismatch(tmp_path: Path,
                                                                 seeded: None) -> None:
    project = declared(tmp_path, "head -c 70000000 /dev/zero; echo; echo marker", "^marker$")
    run = tiny(tmp_path / "r", "tiny", cwd=project)
    assert run.returncode == Exit.USAGE, run.stdout[-3000:]
    [p] = report(tmp_path / "r")["platforms"]
    [finding] = [f for f in p["findings"] if f["source"] == "check:big"]
    assert finding["kind"] == "usage" and "longer than the 64 MiB" in finding["message"]


def test_a_pytest_check_that_does_not_compile_stops_the_run_before_any_build(
        tmp_path: Path) -> None:
    checks = tmp_path / "checks"
    checks.mkdir()
    (checks / "test_app.py").write_text("def test_app(image):\n    assert image.run('x'\n")
    run = tiny(tmp_path / "r", "tiny", f"--checks={checks}")
    assert run.returncode == Exit.USAGE, run.stdout[-3000:]
    assert "test_app.py:2" in run.stdout + run.stderr
    assert not (tmp_path / "r" / "logs").exists()


def test_a_hostile_image_forges_no_line_command_or_markup_in_any_sink(
        tmp_path: Path, seeded: None) -> None:
    """Its dpkg prints a `::error` line, `<script>`, a table row, U+202E, BEL and a
    password: inert in the console, report.md, report.html, junit.xml, and in `report`'s
    GitHub annotations."""
    run = tiny(tmp_path / "r", "hostile")
    assert run.returncode == Exit.IMAGE_WRONG, run.stdout[-3000:]
    out = tmp_path / "merged"
    merged = subprocess.run([sys.executable, "-m", "harness", "report", "--report-dir",
                             str(out), str(tmp_path / "r")], cwd=ROOT, capture_output=True,
                            text=True, check=False, env={**os.environ, "GITHUB_ACTIONS": "true",
                                                         "GITHUB_STEP_SUMMARY": ""})
    assert merged.returncode == Exit.IMAGE_WRONG, merged.stderr
    for text in (run.stdout, run.stderr, merged.stdout, merged.stderr):
        assert not [line for line in text.splitlines() if line.startswith("::error title=f")]
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f\u202e]", text)
        assert "hunter2" not in text
    for where in (tmp_path / "r", out):
        md = (where / "report.md").read_text()
        assert "<script>" not in re.sub(r"(`+).*?\1", "", md) and "hunter2" not in md
        page = (where / "report.html").read_text()
        assert "<script>" not in page and "\u202e" not in page and "\x07" not in page
        assert "hunter2" not in (where / "report.json").read_text()
    junit = (tmp_path / "r" / "junit.xml").read_text()
    assert "\x1b" not in junit and "\u202e" not in junit


def test_ctrl_c_keeps_the_finished_platforms_and_names_the_interrupted_ones(
        tmp_path: Path, seeded: None, docker_client: Any) -> None:
    """Ctrl-C (to the process group, as a terminal sends it) while linux/arm64 still builds
    and linux/amd64 is checked: junit.xml showed 0 tests and report.json lost amd64."""
    tag = "harness-test/slow-on-arm64:linux-arm64"
    if engine.image_exists(docker_client, tag):
        docker_client.images.remove(tag, force=True)
    cmd = [*harness_cmd("--platform=linux/amd64,linux/arm64", "--require=",
                        f"--dockerfile={FIXTURES / 'slow-on-arm64' / 'Dockerfile'}",
                        f"--build-arg=BASE_IMAGE={TINY}", f"--report-dir={tmp_path}",
                        f"--build-arg=NONCE={time.time()}",
                        "--image=harness-test/slow-on-arm64", workers="2")]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    status = tmp_path / "status"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        amd, arm = status / "linux-amd64.json", status / "linux-arm64.json"
        if amd.exists() and '"phase": "pass"' in amd.read_text() and arm.exists() \
                and '"phase": "building"' in arm.read_text():
            break
        time.sleep(0.3)
    else:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail("linux/amd64 was never checked while linux/arm64 built")
    time.sleep(3)  # well into the 300 s step
    assert '"phase": "building"' in (status / "linux-arm64.json").read_text()
    os.killpg(proc.pid, signal.SIGINT)
    out, _ = proc.communicate(timeout=180)
    assert proc.returncode == Exit.INTERRUPTED, out[-3000:]
    data = report(tmp_path)
    assert data["exit_status"] == Exit.INTERRUPTED
    by = {p["platform"]: p for p in data["platforms"]}
    assert by["linux/amd64"]["verdict"] == "pass"  # finished work is kept
    assert by["linux/amd64"]["observed"]["dpkg"]["value"] == "amd64"
    assert by["linux/arm64"]["verdict"] == "error"
    assert "interrupted" in by["linux/arm64"]["findings"][0]["message"]
    assert by["linux/arm64"]["findings"][0]["cause"] in INTERRUPTIONS
    cases = junit_cases(tmp_path)
    assert cases["test_source[dpkg-linux/amd64]"] == "passed"
    assert cases["interrupted[linux/arm64]"] == "error"
    suite = ET.parse(tmp_path / "junit.xml").getroot().find("testsuite")
    assert suite is not None and int(suite.get("errors", "0")) >= 1
    assert not engine.image_exists(docker_client, tag)  # the interrupted build tagged nothing


def test_a_password_in_an_engine_url_reaches_no_sink(tmp_path: Path) -> None:
    """The docker SDK's own message carried `tcp://user:PW@host` into every report."""
    secret = "hunter2-not-shown"
    run = tiny(tmp_path, "tiny", f"--engine=linux/amd64=tcp://ci:{secret}@127.0.0.1:9")
    assert run.returncode == 69, run.stdout[-3000:]
    [p] = report(tmp_path)["platforms"]
    assert p["verdict"] == "error" and p["engine"]["url"] == "tcp://ci:***@127.0.0.1:9"
    assert secret not in run.stdout + run.stderr
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert secret not in path.read_text(errors="replace"), path


@pytest.mark.parametrize(("fixture", "says"), [
    ("missing-library", "/usr/bin/dpkg: needs libmd.so.0"),
    ("no-interpreter", "/dpkg: its program interpreter /lib"),
])
def test_a_program_that_cannot_start_fails_its_platform(tmp_path: Path, seeded: None,
                                                        fixture: str, says: str) -> None:
    """Every file of the right architecture, yet a program that cannot start: it passed
    (a missing library), or was a harness bug, exit 70 (no interpreter in a scratch image).
    The tiny base itself is the known-good twin (every other run here passes it)."""
    run = tiny(tmp_path, fixture, platforms=("linux/amd64", "linux/arm64"))
    assert run.returncode == Exit.IMAGE_WRONG, run.stdout[-3000:]
    data = report(tmp_path)
    for p in data["platforms"]:
        assert p["verdict"] == "fail"
        [finding] = [f for f in p["findings"] if f["source"] == "linkage"]
        assert finding["kind"] == "broken" and says in finding["message"], finding
        assert p["observed"]["elf-audit"]["detail"]["count"] == 0  # the architecture is right
    assert junit_cases(tmp_path)["test_source[linkage-linux/arm64]"] == "failure"


@pytest.mark.parametrize(("stale_on", "status"), [("none", Exit.OK), ("arm64", Exit.IMAGE_WRONG)])
def test_a_platform_shipping_last_releases_binary_fails_a_same_check(
        tmp_path: Path, seeded: None, stale_on: str, status: int) -> None:
    """Each platform matched `^myapp 1\\.\\d` and passed; `same = true` compares them."""
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[tool.harness.checks.version]\ncommand = ["cat", "/version"]\n'
        'expect = "^myapp 1\\\\.\\\\d"\nsame = true\n')
    run = tiny(tmp_path / "r", "stale-on-one", f"--build-arg=STALE_ON={stale_on}",
               cwd=project, platforms=("linux/amd64", "linux/arm64"))
    assert run.returncode == status, run.stdout[-3000:]
    platforms = report(tmp_path / "r")["platforms"]
    cases = junit_cases(tmp_path / "r")
    # Parity: myapp (installed by hand) is compared; each platform's own binutils, pulled in
    # as a dependency, is detail, never a difference.
    parity = report(tmp_path / "r")["parity"]
    assert {d["package"] for d in parity["dependencies"]} == {
        "binutils-amd64-linux-gnu", "binutils-arm64-linux-gnu"}
    assert parity["missing_count"] == 0 and parity["unmarked"] == []
    assert all(p["observed"]["packages"]["detail"]["marks"] == "/var/lib/apt/extended_states"
               for p in platforms)
    # The CPU-level audit does not apply to arm64: said so, in JUnit too.
    assert platforms[1]["observed"]["isa"]["kind"] == "not-applicable"
    assert "not applicable to linux/arm64: " in junit_skip(tmp_path / "r",
                                                          "test_source[isa-linux/arm64]")
    if stale_on == "none":
        assert [p["verdict"] for p in platforms] == ["pass", "pass"]
        assert "same[version]" not in cases
        assert parity["versions_count"] == 0
        assert "parity (warning)" not in run.stdout
        return
    assert parity["versions"] == [{"package": "myapp", "versions": {
        "linux/amd64": "1.4", "linux/arm64": "1.3"}}]
    assert "parity (warning): 1 packages differ in version" in run.stdout
    # Two platforms: both are named, each with both answers.
    for p in platforms:
        [finding] = [f for f in p["findings"] if f["source"] == "check:version"]
        assert finding["kind"] == "mismatch"
        assert "'myapp 1.3 ({arch})'" in finding["message"]
        assert "'myapp 1.4 ({arch})'" in finding["message"]
    assert cases["same[version]"] == "failure"
    assert all(cases[f"test_declared_check[version-{p}]"] == "passed"
               for p in ("linux/amd64", "linux/arm64"))
    md = (tmp_path / "r" / "report.md").read_text()
    assert "myapp 1.3" in md


def test_two_runs_sharing_a_report_dir_never_swap_verdicts(tmp_path: Path,
                                                           seeded: None) -> None:
    """A clean image and one carrying an x86_64 program, built at once for linux/arm64 with
    one --report-dir: the clean one was reported as carrying that program (exit 1) in 2 of
    3 tries, its worker having adopted the other run's build from status/. Each run reports
    its own verdict, or the second refuses in one line."""
    program = tmp_path / "tool"
    source = program.with_suffix(".c")
    source.write_text('#include <stdio.h>\nint main(void) { puts("tool 1.0"); return 0; }\n')
    subprocess.run(["gcc", "-static", "-Os", "-o", str(program), str(source)], check=True)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "Dockerfile").write_bytes((FIXTURES / "foreign-binary" / "Dockerfile").read_bytes())
    (broken / "tool").write_bytes(program.read_bytes())
    shared = tmp_path / "reports"
    runs = {name: subprocess.Popen(
        harness_cmd("--platform=linux/arm64", f"--dockerfile={dockerfile}",
                    f"--build-arg=BASE_IMAGE={TINY}", f"--report-dir={shared}",
                    f"--image=harness-test/shared-{name}", "--require=", workers="1"),
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for name, dockerfile in (("clean", FIXTURES / "tiny" / "Dockerfile"),
                                 ("broken", broken / "Dockerfile"))}
    said = {name: proc.communicate(timeout=900)[0] for name, proc in runs.items()}
    status = {name: proc.returncode for name, proc in runs.items()}
    own = {"clean": Exit.OK, "broken": Exit.IMAGE_WRONG}
    refused = [name for name, code in status.items() if code == Exit.USAGE]
    assert len(refused) <= 1, said
    for name, code in status.items():
        if name in refused:
            [line] = [x for x in said[name].splitlines() if "in use" in x]
            assert re.fullmatch(rf"ERROR: report directory {re.escape(str(shared))} is in use "
                                r"by run \d+ \(started [^)]+\)", line), said[name]
            assert "pass another --report-dir" in said[name]
            assert "multi-arch verdicts" not in said[name]  # no work, no table
        else:
            assert code == own[name], said[name][-3000:]
            table = said[name][said[name].index("multi-arch verdicts"):]
            assert ("fail" if name == "broken" else "pass") in table, table
    if refused:  # the report is the one run's that held the directory
        [ran] = set(own) - set(refused)
        [arm] = report(shared)["platforms"]
        assert arm["verdict"] == ("fail" if ran == "broken" else "pass"), arm["findings"]
        assert arm["image"]["tag"] == f"harness-test/shared-{ran}:linux-arm64"
