"""Whole runs of the image checks, as `nox -s build` makes them: pytest, the plugin, xdist.

Small fixture Dockerfiles on tiny bases keep each run to seconds; the real Rust image is
built end to end in test_end_to_end.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from harness.containers import engine
from harness.core.failures.diagnosis import INTERRUPTIONS
from harness.core.outcomes import Exit
from harness.core.platforms.table import DEFAULT_PLATFORMS, parse_platform
from tests.helpers import (
    CHECKS_PER_PLATFORM,
    FIXTURES,
    ROOT,
    RUSTUP_PROXY,
    TINY,
    TINY_RPM,
    harness_cmd,
    make_tiny_base,
    probe_containers,
    run_harness,
    run_nox,
    wait_for_state,
)


def report(report_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((report_dir / "report.json").read_text())
    return data


def verdicts(data: dict[str, Any]) -> dict[str, str]:
    return {p["platform"]: p["verdict"] for p in data["platforms"]}


def tiny_run(tmp_path: Path, fixture: str, *platforms: str, extra: tuple[str, ...] = (),
             env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    args = [f"--platform={p}" for p in platforms]
    return run_harness(
        *args, f"--dockerfile={FIXTURES / fixture / 'Dockerfile'}",
        f"--build-arg=BASE_IMAGE={TINY}", f"--report-dir={tmp_path}",
        f"--image=harness-test/{fixture}", "--require=", "-n", str(len(platforms)), *extra,
        env=env)


@pytest.fixture(scope="module")
def seeded(docker_client: docker.DockerClient, tiny_base: Callable[[str], str]) -> None:
    for name in ("linux/amd64", "linux/386", "linux/arm64", "linux/arm/v7"):
        tiny_base(name)


def test_platforms_side_by_side_with_all_reports(tmp_path: Path, seeded: None,
                                                 docker_client: docker.DockerClient) -> None:
    run = tiny_run(tmp_path, "tiny", "linux/386", "linux/arm64", "linux/arm/v7")
    assert run.returncode == Exit.OK, run.stdout + run.stderr
    data = report(tmp_path)
    assert verdicts(data) == {"linux/386": "quirk", "linux/arm64": "pass",
                              "linux/arm/v7": "pass"}
    assert data["host"]["arch"] == docker_client.info()["Architecture"]
    assert data["host"]["builder"] in ("buildx", "classic")
    arm = next(p for p in data["platforms"] if p["platform"] == "linux/arm/v7")
    assert arm["run"]["kind"] == "qemu" and arm["run"]["qemu_version"]
    assert arm["observed"]["dpkg"]["value"] == "armhf"
    assert arm["observed"]["dpkg"]["fits"] == ["linux/arm/v7", "linux/arm/v6"]
    assert arm["image"]["tag"] == "harness-test/tiny:linux-arm-v7"
    assert docker_client.images.get(arm["image"]["tag"]).id == arm["image"]["id"]
    for slug in ("linux-386", "linux-arm64", "linux-arm-v7"):
        assert (tmp_path / "logs" / f"{slug}-build.log").stat().st_size > 0
        assert "$ uname -m" in (tmp_path / "logs" / f"{slug}-probe.log").read_text()
    cases = ET.parse(tmp_path / "junit.xml").getroot().iter("testcase")
    assert len(list(cases)) == 3 * CHECKS_PER_PLATFORM
    assert "| `linux/386` | ⚠️ quirk | native |" in (tmp_path / "report.md").read_text()
    assert "multi-arch verdicts" in run.stdout
    assert "[harness] linux/arm/v7" in run.stdout  # progress lines per platform


def test_a_rerun_reads_back_what_the_same_image_answered_and_no_cache_asks_anew(
        tmp_path: Path, seeded: None) -> None:
    """A rerun of the same image IDs on the same machine reads back every answer the first
    run found (harness.machine.kept): the same answers, no container run. A new emulator on
    this machine asks the images again, and so does --no-cache."""
    cache = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    runs, logs = {}, {}
    for name, extra in (("first", ()), ("again", ()), ("new-handler", ()),
                        ("no-cache", ("--no-cache",))):
        with (_another_handler() if name == "new-handler" else contextlib.nullcontext()):
            run = tiny_run(tmp_path / name, "tiny", "linux/amd64", "linux/arm64", extra=extra,
                           env=cache)
        assert run.returncode == Exit.OK, run.stdout[-3000:]
        runs[name] = {p["platform"]: p["observed"] for p in report(tmp_path / name)["platforms"]}
        logs[name] = {slug: (tmp_path / name / "logs" / f"{slug}-probe.log").read_text()
                      for slug in ("linux-amd64", "linux-arm64")}
    for platform in ("linux/amd64", "linux/arm64"):
        first, again = runs["first"][platform], runs["again"][platform]
        assert first["elf-audit"]["detail"]["read"] in ("in place", "export")
        assert "read" not in first["uname"]["detail"]
        assert set(again) == set(first)
        for source, seen in again.items():
            assert seen["detail"]["read"] == "kept", source
            assert {k: v for k, v in seen.items() if k != "detail"} == \
                {k: v for k, v in first[source].items() if k != "detail"}
            assert {k: v for k, v in seen["detail"].items()
                    if k not in ("read", "seconds", "started")} == \
                {k: v for k, v in first[source]["detail"].items()
                 if k not in ("read", "seconds", "started")}
        for name in ("new-handler", "no-cache"):  # asked again: the image ran
            assert "read" not in runs[name][platform]["uname"]["detail"], name
            assert runs[name][platform]["hello"]["value"] == first["hello"]["value"]
        assert runs["new-handler"][platform]["elf-audit"]["detail"]["read"] == "kept"
        assert runs["no-cache"][platform]["elf-audit"]["detail"]["read"] != "kept"
    for slug in ("linux-amd64", "linux-arm64"):
        assert "$ uname -m" in logs["first"][slug]
        assert "$ uname -m" not in logs["again"][slug]
        assert "answers read back" in logs["again"][slug]
        assert "$ uname -m" in logs["new-handler"][slug]
    # One answer per image ID, and for the answers per machine: the first run's two, the
    # new handler's two, and --no-cache's two new images'.
    assert len(list((tmp_path / "cache" / "harness" / "audits").glob("*.json"))) == 4
    assert len(list((tmp_path / "cache" / "harness" / "answers").glob("*.json"))) == 6


@contextlib.contextmanager
def _another_handler() -> Iterator[None]:
    """A binfmt_misc handler registered on this machine for the time of the block (one that
    matches no file: its magic is no executable's)."""
    name = "harness-test-another"
    Path("/proc/sys/fs/binfmt_misc/register").write_text(
        f":{name}:M::HARNESS-TEST-MAGIC::/bin/false:")
    try:
        yield
    finally:
        Path(f"/proc/sys/fs/binfmt_misc/{name}").write_text("-1")


def test_a_failing_run_on_one_platform_fails_that_platform_only(tmp_path: Path,
                                                                seeded: None) -> None:
    run = tiny_run(tmp_path, "run-fails-on-arm64", "linux/386", "linux/arm64", "linux/amd64")
    assert run.returncode == Exit.IMAGE_WRONG, run.stdout + run.stderr
    data = report(tmp_path)
    assert verdicts(data) == {"linux/386": "quirk", "linux/arm64": "fail",
                              "linux/amd64": "pass"}
    arm = next(p for p in data["platforms"] if p["platform"] == "linux/arm64")
    [finding] = arm["findings"]
    assert (finding["source"], finding["kind"]) == ("build", "build")
    assert arm["build"]["ok"] is False
    assert "arm64 is not supported" in (tmp_path / "logs" / "linux-arm64-build.log").read_text()


def test_wrong_toolchain_fails_the_run(tmp_path: Path, seeded: None,
                                       fake_rustc: Callable[[str], Path]) -> None:
    context = fake_rustc("x86_64-unknown-linux-gnu")
    run = run_harness("--platform=linux/386", f"--dockerfile={context / 'Dockerfile'}",
                      f"--build-arg=BASE_IMAGE={TINY}", f"--report-dir={tmp_path}",
                      "--image=harness-test/fake-rustc")
    assert run.returncode == Exit.IMAGE_WRONG, run.stdout + run.stderr
    [p] = report(tmp_path)["platforms"]
    assert p["verdict"] == "fail"
    assert {f["source"] for f in p["findings"] if f["kind"] == "mismatch"} == {
        "rustc", "rustc-elf", "elf-audit"}
    assert "FAILED" in run.stdout and "test_source[rustc-linux/386]" in run.stdout


def test_quirk_policy_fail_turns_the_386_quirk_into_a_failure(tmp_path: Path,
                                                              seeded: None) -> None:
    run = tiny_run(tmp_path, "tiny", "linux/386", extra=("--quirk-policy=fail",))
    assert run.returncode == Exit.IMAGE_WRONG
    assert report(tmp_path)["exit_status"] == Exit.IMAGE_WRONG
    assert "quirk (quirk-policy=fail)" in run.stdout


def test_unknown_platform_is_a_usage_error(tmp_path: Path) -> None:
    run = run_harness("--platform=linux/mips64", f"--report-dir={tmp_path}")
    assert run.returncode == Exit.USAGE
    assert "unknown platform 'linux/mips64'" in run.stderr and "linux/arm/v7" in run.stderr
    assert not (tmp_path / "report.json").exists()


def test_missing_dockerfile_is_a_usage_error(tmp_path: Path) -> None:
    run = run_harness(f"--dockerfile={tmp_path / 'Dockerfile.none'}",
                      f"--report-dir={tmp_path}")
    assert run.returncode == Exit.USAGE
    assert "no Dockerfile at" in run.stderr and "--dockerfile" in run.stderr


def test_no_engine_means_cannot_check(tmp_path: Path) -> None:
    run = run_harness("--platform=linux/amd64", f"--dockerfile={FIXTURES / 'tiny/Dockerfile'}",
                      f"--report-dir={tmp_path}",
                      env={"DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock"})
    assert run.returncode == Exit.CANNOT_CHECK, run.stdout + run.stderr
    [p] = report(tmp_path)["platforms"]
    assert p["verdict"] == "error"
    message, fix = p["findings"][0]["message"], p["findings"][0]["fix"]
    assert f"no container engine answers at unix://{tmp_path}/no-engine.sock (DOCKER_HOST)" \
        in message
    assert "unset DOCKER_HOST" in fix


def test_preflight_never_starts_an_engine_in_place_of_the_one_chosen(tmp_path: Path) -> None:
    def dockerds() -> int:
        names = []
        for comm in Path("/proc").glob("[0-9]*/comm"):
            with contextlib.suppress(OSError):  # a process may end while we look
                names.append(comm.read_text().strip())
        return names.count("dockerd")

    before = dockerds()
    run = subprocess.run([sys.executable, "-m", "harness", "preflight"], cwd=ROOT, text=True,
                         capture_output=True, check=False, timeout=120,
                         env={**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/other.sock"})
    assert run.returncode == Exit.CANNOT_CHECK, run.stderr
    assert f"unix://{tmp_path}/other.sock (DOCKER_HOST)" in run.stderr
    assert dockerds() == before


@pytest.mark.parametrize(("builder", "workers"),
                         [("buildx", "0"), ("classic", "0"), ("buildx", "1")])
def test_ctrl_c_during_a_build_leaves_nothing_behind(tmp_path: Path, seeded: None, builder: str,
                                                     workers: str,
                                                     docker_client: docker.DockerClient) -> None:
    """SIGINT to the run alone, as a shell without job control gives it: with a worker, the
    build runs in the controller (harness.plugin.head_start), which stops it."""
    containers_before = {c.id for c in docker_client.containers.list(all=True)}
    if engine.image_exists(docker_client, "harness-test/slow:linux-amd64"):
        docker_client.images.remove("harness-test/slow:linux-amd64", force=True)
    cmd = [*harness_cmd(workers=workers), "--platform=linux/amd64",
           f"--dockerfile={FIXTURES / 'slow-build/Dockerfile'}",
           f"--build-arg=BASE_IMAGE={TINY}", f"--report-dir={tmp_path}",
           f"--build-arg=NONCE={time.time()}",  # a step never cached, whatever ran before
           "--image=harness-test/slow", f"--builder={builder}"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env={**os.environ})
    status = tmp_path / "status" / "linux-amd64.json"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if status.exists() and '"building"' in status.read_text() and \
                "sleep" in (tmp_path / "logs" / "linux-amd64-build.log").read_text():
            break
        time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("the build never started")
    time.sleep(1)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == Exit.INTERRUPTED, out
    assert not engine.image_exists(docker_client, "harness-test/slow:linux-amd64")
    deadline = time.monotonic() + 30  # the engine cleans up a cancelled build shortly after
    while time.monotonic() < deadline:
        left = {c.id for c in docker_client.containers.list(all=True)} - containers_before
        if not left:
            break
        time.sleep(0.5)
    assert not left, f"containers left behind: {left}"
    assert not probe_containers(docker_client)
    [p] = report(tmp_path)["platforms"]
    assert p["verdict"] == "error" and "interrupted" in p["findings"][0]["message"]
    assert p["findings"][0]["cause"] in INTERRUPTIONS  # told by its cause (issue 37)


def test_a_failing_mirror_is_retried_then_reported(tmp_path: Path) -> None:
    """No registry has this base, and the mirror refuses every connection."""
    run = run_harness("--platform=linux/amd64", f"--dockerfile={FIXTURES / 'tiny/Dockerfile'}",
                      "--build-arg=BASE_IMAGE=harness.invalid/debian:bookworm",
                      "--mirror=http://127.0.0.1:9/debian", f"--report-dir={tmp_path}",
                      "--image=harness-test/no-mirror", "--require=")
    assert run.returncode == Exit.CANNOT_CHECK, run.stdout + run.stderr
    [p] = report(tmp_path)["platforms"]
    assert p["verdict"] == "error"
    [finding] = p["findings"]
    assert "mirror cannot be reached" in finding["message"]
    assert "127.0.0.1:9" in finding["message"] and "Connection refused" in finding["message"]
    assert "--mirror" in finding["fix"]
    log = (tmp_path / "logs" / "linux-amd64-base.log").read_text()
    assert log.count("$ mmdebstrap") == 3  # transient errors are retried


def test_the_classic_builder_runs_the_same_checks(tmp_path: Path, seeded: None) -> None:
    run = tiny_run(tmp_path, "tiny", "linux/amd64", "linux/arm/v7", extra=("--builder=classic",))
    assert run.returncode == Exit.OK, run.stdout + run.stderr
    data = report(tmp_path)
    assert data["host"]["builder"] == "classic"
    assert {p["build"]["builder"] for p in data["platforms"]} == {"classic"}
    assert verdicts(data) == {"linux/amd64": "pass", "linux/arm/v7": "pass"}


SLOW_ON_AMD64 = """ARG BASE_IMAGE
FROM ${BASE_IMAGE}
ARG NONCE=0
RUN echo "$NONCE" > /nonce; \\
    if [ "$(/usr/bin/dpkg --print-architecture)" = amd64 ]; then sleep 10; fi
"""


def test_the_schedule_learns_per_job_and_another_dockerfile_never_steers_it(
        tmp_path: Path, seeded: None) -> None:
    """Issue: a one-second build of another Dockerfile taught the schedule that a platform
    was short, and the bench's arm64 went last. A real build of another Dockerfile (where
    amd64 is the long one) first; then this one, never built: emulated first."""
    cache = tmp_path / "cache"
    other = tmp_path / "other"
    other.mkdir()
    (other / "Dockerfile").write_text(SLOW_ON_AMD64)
    base = [sys.executable, "-m", "harness", "build", "--no-preflight", "-o",
            f"cache_dir={cache}", "--platform=linux/amd64,linux/arm64", "--require=",
            f"--build-arg=BASE_IMAGE={TINY}"]

    def order(dockerfile: Path, *extra: str) -> list[str]:
        out = subprocess.run([*base, "-n", "0", "--collect-only", f"--dockerfile={dockerfile}",
                              f"--report-dir={tmp_path / 'collect'}", *extra], cwd=ROOT,
                             capture_output=True, text=True, check=False).stdout
        return [line.split("[")[1].rstrip("]") for line in out.splitlines()
                if "::test_builds[" in line]

    nonce = f"--build-arg=NONCE={time.time()}"  # never from the build cache
    built = subprocess.run([*base, "-n", "2", f"--dockerfile={other / 'Dockerfile'}", nonce,
                            f"--report-dir={tmp_path / 'r'}",
                            "--image=harness-test/slow-on-amd64"], cwd=ROOT,
                           capture_output=True, text=True, check=False)
    assert built.returncode == Exit.OK, built.stdout[-3000:]
    took = {p["platform"]: p["build"]["seconds"] for p in report(tmp_path / "r")["platforms"]}
    assert took["linux/amd64"] > took["linux/arm64"], took
    # The job it learnt from: its longest first.
    assert order(other / "Dockerfile", nonce) == ["linux/amd64", "linux/arm64"]
    # Another Dockerfile, and the same one with other build arguments: nothing known, so
    # the emulated platform first.
    assert order(FIXTURES / "tiny" / "Dockerfile") == ["linux/arm64", "linux/amd64"]
    assert order(other / "Dockerfile", "--build-arg=NONCE=other") == ["linux/arm64",
                                                                      "linux/amd64"]


def test_rustup_proxies_without_a_toolchain_fail_every_platform(
        tmp_path: Path, docker_client: docker.DockerClient) -> None:
    """rustc and cargo are ELF binaries of the right architecture that exit 1: the image is
    unusable, so every platform fails (not `error`), naming rustc, its status and output."""
    for name in DEFAULT_PLATFORMS:
        make_tiny_base(docker_client, parse_platform(name), RUSTUP_PROXY)
    run = run_harness(*(f"--platform={p}" for p in DEFAULT_PLATFORMS),
                      f"--dockerfile={FIXTURES / 'rustup-proxy' / 'Dockerfile'}",
                      f"--build-arg=BASE_IMAGE={RUSTUP_PROXY}", f"--report-dir={tmp_path}",
                      "--image=harness-test/rustup-proxy", "-n", "4")
    assert run.returncode == Exit.IMAGE_WRONG, run.stdout[-4000:] + run.stderr[-2000:]
    data = report(tmp_path)
    assert data["exit_status"] == Exit.IMAGE_WRONG
    assert set(verdicts(data).values()) == {"fail"}, verdicts(data)
    for p in data["platforms"]:
        rustc = next(f for f in p["findings"] if f["source"] == "rustc")
        assert rustc["kind"] == "broken", rustc
        assert "`rustc -vV` exited 1" in rustc["message"]
        assert "no default is configured" in rustc["message"]
        assert {f["kind"] for f in p["findings"]} <= {"broken", "quirk", "absent",
                                                       "not-applicable"}, p


def test_a_missing_bridge_is_the_machine_not_the_image(tmp_path: Path, seeded: None) -> None:
    """A second dockerd started with --bridge=none deletes docker0: every RUN step fails.
    That is `error` (69, retry on a fixed runner), seen by preflight, never `fail`."""
    bridge = engine.local_bridge(docker.from_env()) or "docker0"
    addr = subprocess.run(["ip", "-4", "-o", "addr", "show", bridge], capture_output=True,
                          text=True, check=True).stdout.split()[3]
    subprocess.run(["ip", "link", "delete", bridge], check=True)
    try:
        pre = subprocess.run([sys.executable, "-m", "harness", "preflight", "--no-setup",
                              "--platform=linux/amd64"], cwd=ROOT, capture_output=True,
                             text=True, check=False)
        run = tiny_run(tmp_path, "tiny", "linux/amd64", extra=("--no-cache",))
    finally:  # the engine finds its bridge again by name; no restart needed
        for cmd in (["ip", "link", "add", bridge, "type", "bridge"],
                    ["ip", "addr", "add", addr, "dev", bridge],
                    ["ip", "link", "set", bridge, "up"]):
            subprocess.run(cmd, check=True)
    assert pre.returncode == Exit.CANNOT_CHECK and "bridge" in pre.stdout, pre.stdout
    assert run.returncode == Exit.CANNOT_CHECK, run.stdout[-3000:]
    [p] = report(tmp_path)["platforms"]
    [finding] = p["findings"]
    assert (p["verdict"], finding["kind"]) == ("error", "error")
    assert f"could not find bridge {bridge}" in finding["message"]
    assert "restart the engine" in finding["fix"]


@pytest.mark.parametrize("builder", ["buildx", "classic"])
def test_an_unparsable_dockerfile_is_bad_input(tmp_path: Path, seeded: None,
                                               builder: str) -> None:
    run = tiny_run(tmp_path, "unparsable", "linux/amd64", extra=(f"--builder={builder}",))
    assert run.returncode == Exit.USAGE, run.stdout[-3000:]
    data = report(tmp_path)
    assert data["exit_status"] == Exit.USAGE
    [finding] = data["platforms"][0]["findings"]
    assert finding["kind"] == "usage" and "RUNN" in finding["message"]


def test_a_bug_of_the_harness_exits_70_with_its_traceback(tmp_path: Path, seeded: None) -> None:
    """An exception nothing expected is the harness's, not the image's or the machine's."""
    run = tiny_run(tmp_path, "tiny", "linux/amd64", extra=("-p", "tests.plugin.inject_bug"),
                   env={"PYTHONPATH": str(ROOT)})  # where the plugin that plants it is
    assert run.returncode == Exit.SOFTWARE, run.stdout[-3000:] + run.stderr[-2000:]
    data = report(tmp_path)
    assert data["exit_status"] == Exit.SOFTWARE
    [finding] = data["platforms"][0]["findings"]
    assert finding["kind"] == "internal" and "RuntimeError: injected bug" in finding["message"]
    log = (tmp_path / "logs" / "linux-amd64-probe.log").read_text()
    assert "Traceback" in log and "RuntimeError: injected bug" in log


@pytest.mark.parametrize("how", ["ctrl-c", "cancel"])
def test_an_interrupted_nox_build_exits_2_with_its_reports(tmp_path: Path, seeded: None,
                                                            how: str,
                                                            docker_client: docker.DockerClient
                                                            ) -> None:
    """Ctrl-C reaches the whole foreground group; a CI cancel may send SIGTERM to nox alone.
    Either way: exit 2, every report written and saying 2, nothing left running."""
    before = {c.id for c in docker_client.containers.list(all=True)}
    cmd = [sys.executable, "-m", "nox", "-f", str(ROOT / "noxfile.py"), "-s", "build", "--",
           "--platform=linux/amd64,linux/arm64",
           f"--dockerfile={FIXTURES / 'slow-build/Dockerfile'}",
           f"--build-arg=BASE_IMAGE={TINY}", f"--report-dir={tmp_path}",
           f"--build-arg=NONCE={time.time()}", "--image=harness-test/slow", "--require="]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    status = tmp_path / "status" / "linux-amd64.json"
    wait_for_state(status, "building", 300)
    time.sleep(2)
    if how == "ctrl-c":
        os.killpg(proc.pid, signal.SIGINT)
    else:
        os.kill(proc.pid, signal.SIGTERM)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == Exit.INTERRUPTED, out[-3000:]
    data = report(tmp_path)
    assert data["exit_status"] == Exit.INTERRUPTED
    assert all(p["verdict"] == "error" and "interrupted" in p["findings"][0]["message"]
               and p["findings"][0]["cause"] in INTERRUPTIONS
               for p in data["platforms"]), data["platforms"]
    assert (tmp_path / "junit.xml").exists() and (tmp_path / "report.md").exists()
    _nothing_left(docker_client, before)


def _nothing_left(client: docker.DockerClient, before: set[str]) -> None:
    """No container the run started is left within 30 s of its end (the engine removes the
    last ones a moment after the run has gone), and no probe container of its own."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        left = {c.id for c in client.containers.list(all=True)} - before
        if not left:
            break
        time.sleep(0.5)
    assert not left and not probe_containers(client)


def test_a_cancel_while_the_workers_come_up_still_writes_every_report(
        tmp_path: Path, seeded: None, docker_client: docker.DockerClient) -> None:
    """The controller starts the builds in pytest's session start, seconds before xdist's
    workers are up (harness.plugin.head_start); a cancel then ended pytest without its session
    finish: no report, no junit.xml, the builds left to buildx's own signal handling."""
    before = {c.id for c in docker_client.containers.list(all=True)}
    cmd = [*harness_cmd(workers="2"), "--platform=linux/amd64,linux/arm64",
           f"--dockerfile={FIXTURES / 'slow-build/Dockerfile'}", f"--build-arg=BASE_IMAGE={TINY}",
           f"--report-dir={tmp_path}", f"--build-arg=NONCE={time.time()}",
           "--image=harness-test/slow", "--require="]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    status = tmp_path / "status" / "linux-amd64.json"
    wait_for_state(status, "building", 120)
    proc.send_signal(signal.SIGTERM)  # at once: the workers are still starting
    sent = time.monotonic()
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == Exit.INTERRUPTED, out[-3000:]
    # The builds were stopped, not left to their `sleep 120` (a signal this early reaches the
    # docker CLI before its buildx plugin listens for it).
    assert time.monotonic() - sent < 60, out[-3000:]
    data = report(tmp_path)
    assert data["exit_status"] == Exit.INTERRUPTED
    assert all(p["verdict"] == "error" and "interrupted" in p["findings"][0]["message"]
               and p["findings"][0]["cause"] in INTERRUPTIONS
               for p in data["platforms"]), data["platforms"]
    junit = ET.parse(tmp_path / "junit.xml").getroot()
    assert "interrupted[linux/amd64]" in ET.tostring(junit, encoding="unicode")
    assert " passed" not in out.splitlines()[-1], out[-2000:]  # pytest's summary line
    _nothing_left(docker_client, before)


def test_a_cancel_during_the_probes_is_in_pytest_s_summary(tmp_path: Path,
                                                           seeded: None) -> None:
    """The build passed and the probes were cut short by a cancel: pytest's last line said
    "1 passed" (test_builds), as if nothing was left unchecked."""
    (tmp_path / "Dockerfile").write_text(  # a probe that hangs until it is stopped
        "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nRUN rm -f /bin/uname && printf '#!/bin/sh\\nsleep "
        "600\\n' > /bin/uname && chmod +x /bin/uname\n")
    reports = tmp_path / "reports"
    cmd = [*harness_cmd(), "--platform=linux/amd64", f"--dockerfile={tmp_path / 'Dockerfile'}",
           f"--build-arg=BASE_IMAGE={TINY}", f"--report-dir={reports}",
           "--image=harness-test/hung-probe", "--require=", "--probe-timeout=300"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    status = reports / "status" / "linux-amd64.json"
    wait_for_state(status, "probing", 120)
    time.sleep(2)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == Exit.INTERRUPTED, out[-3000:]
    last = out.strip().splitlines()[-1]
    assert "1 passed" in last and "1 interrupted" in last, out[-2000:]
    [p] = report(reports)["platforms"]
    assert p["verdict"] == "error" and "interrupted" in p["findings"][0]["message"]
    assert p["findings"][0]["cause"] in INTERRUPTIONS  # told by its cause (issue 37)


def test_a_hostile_image_cannot_flood_or_drive_the_reports(tmp_path: Path, seeded: None,
                                                           docker_client: docker.DockerClient
                                                           ) -> None:
    """Megabytes and terminal escapes from the image stay out of the terminal and reports;
    the image's own verdict still comes out (its dpkg names no platform: fail)."""
    run = tiny_run(tmp_path, "hostile", "linux/amd64")
    assert run.returncode == Exit.IMAGE_WRONG, run.stdout[-3000:]
    for name in ("report.md", "report.json", "junit.xml"):
        text = (tmp_path / name).read_text()
        assert len(text) < 1 << 20 and "\x1b" not in text, name
    assert "\x1b" not in run.stdout + run.stderr and len(run.stdout) < 1 << 20
    [p] = report(tmp_path)["platforms"]
    assert p["observed"]["dpkg"]["raw"].endswith("more characters in the probe log]")
    assert "\\x1b" in p["observed"]["dpkg"]["value"]  # shown escaped
    assert p["observed"]["rustc-elf"]["value"] == "ELF 64-bit LSB x86-64"
    assert (tmp_path / "logs" / "linux-amd64-probe.log").stat().st_size > 10_000_000


@pytest.mark.parametrize("builder", ["buildx", "classic"])
def test_a_failing_step_s_escapes_stay_out_of_the_terminal(tmp_path: Path, seeded: None,
                                                           builder: str) -> None:
    run = tiny_run(tmp_path, "hostile-build", "linux/amd64", extra=(f"--builder={builder}",))
    assert run.returncode == Exit.IMAGE_WRONG, run.stdout[-3000:]
    assert "\x1b" not in run.stdout + run.stderr
    assert "\\x1b[2J" in run.stdout  # shown, escaped
    for name in ("report.md", "report.json", "junit.xml"):
        assert "\x1b" not in (tmp_path / name).read_text(), name


def test_the_elf_header_of_a_huge_binary_is_read_in_kilobytes(
        docker_client: docker.DockerClient, tiny_base: Callable[[str], str],
        tmp_path: Path) -> None:
    import resource

    from harness.containers import probes
    from harness.core.platforms.table import parse_platform as platform_of

    context = FIXTURES / "hostile"
    tag = "harness-test/hostile-elf:linux-amd64"
    from harness.containers import build as builder

    req = builder.BuildRequest(platform=platform_of("linux/amd64"),
                               dockerfile=context / "Dockerfile", context=context, tag=tag,
                               log_path=tmp_path / "b.log",
                               build_args={"BASE_IMAGE": tiny_base("linux/amd64")})
    builder.ClassicBuilder(docker_client).build(req)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with probes.ImageProbe(docker_client, tag, platform_of("linux/amd64")) as probe:
        found = probe.head("/usr/local/bin/rustc")
        time.sleep(3)  # a keep-alive that spun would use about a core all this time
        probe.container.reload()
        state = probe.container.attrs["State"]
        cpu = docker_client.api.stats(probe.container.id, stream=False)["cpu_stats"]
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert found is not None and found[1][:4] == b"\x7fELF"
    assert grown_kib < 50_000, f"reading a 200 MB binary's header took {grown_kib} KiB"
    assert state["Running"]  # held open without `sleep`
    assert cpu["cpu_usage"]["total_usage"] < 500_000_000  # under 0.5 s of CPU in 3 s
    docker_client.images.remove(tag, force=True)


def test_a_local_base_of_the_platform_is_used_and_of_another_refused(
        tmp_path: Path, seeded: None, docker_client: docker.DockerClient) -> None:
    mine = "harness-test/my-base:1"
    docker_client.images.get(make_tiny_base(docker_client, parse_platform("linux/amd64"))).tag(
        "harness-test/my-base", "1")
    for slug in ("linux-amd64", "linux-arm64"):  # as if never used before
        with contextlib.suppress(docker.errors.ImageNotFound):
            docker_client.images.remove(f"harness.invalid/base/harness-test/my-base:1-{slug}")
    try:
        ok = run_harness("--platform=linux/amd64", f"--dockerfile={FIXTURES / 'tiny/Dockerfile'}",
                         f"--build-arg=BASE_IMAGE={mine}", f"--report-dir={tmp_path / 'ok'}",
                         "--image=harness-test/local-base", "--require=")
        wrong = run_harness("--platform=linux/arm64",
                            f"--dockerfile={FIXTURES / 'tiny/Dockerfile'}",
                            f"--build-arg=BASE_IMAGE={mine}", f"--report-dir={tmp_path / 'no'}",
                            "--image=harness-test/local-base", "--require=")
    finally:
        docker_client.images.remove(mine)
    assert ok.returncode == Exit.OK, ok.stdout[-3000:]
    assert "is a local linux/amd64 image; used as it is" in \
        (tmp_path / "ok" / "logs" / "linux-amd64-base.log").read_text()
    assert wrong.returncode == Exit.USAGE, wrong.stdout[-3000:]
    [finding] = report(tmp_path / "no")["platforms"][0]["findings"]
    assert "is a local linux/amd64 image, not linux/arm64" in finding["message"]


def test_two_runs_at_once_each_check_their_own_image(tmp_path: Path, seeded: None) -> None:
    """Same image name, same platform, different Dockerfiles, side by side: each run probes
    what it built (by ID), so neither verdict is the other's."""
    def start(fixture: str, name: str) -> subprocess.Popen[str]:
        cmd = [*harness_cmd(), "--platform=linux/amd64",
               f"--dockerfile={FIXTURES / fixture / 'Dockerfile'}",
               f"--build-arg=BASE_IMAGE={TINY}", f"--report-dir={tmp_path / name}",
               "--image=harness-test/shared", "--require=", "--no-cache"]
        return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)

    good, bad = start("tiny", "good"), start("hostile", "bad")
    good_out, _ = good.communicate(timeout=600)
    bad_out, _ = bad.communicate(timeout=600)
    assert good.returncode == Exit.OK, good_out[-3000:]
    assert bad.returncode == Exit.IMAGE_WRONG, bad_out[-3000:]
    [g] = report(tmp_path / "good")["platforms"]
    [b] = report(tmp_path / "bad")["platforms"]
    assert g["image"]["id"] != b["image"]["id"]
    assert g["observed"]["dpkg"]["value"] == "amd64"


@pytest.mark.parametrize("builder", ["buildx", "classic"])
def test_a_dockerfile_outside_its_context_builds_with_either_builder(
        tmp_path: Path, seeded: None, builder: str) -> None:
    context = tmp_path / "context"
    context.mkdir()
    run = tiny_run(tmp_path, "tiny", "linux/amd64",
                   extra=(f"--builder={builder}", f"--context={context}"))
    assert run.returncode == Exit.OK, run.stdout[-3000:]
    assert report(tmp_path)["platforms"][0]["build"]["builder"] == builder


def test_an_image_without_a_shell_is_probed(tmp_path: Path, seeded: None,
                                            docker_client: docker.DockerClient) -> None:
    """FROM scratch with one static binary: no shell to exec in. Each question is asked in
    a container of its own; what the image lacks is absent, not an error of the machine."""
    run = tiny_run(tmp_path, "no-shell", "linux/amd64", "linux/arm64")
    assert run.returncode == Exit.OK, run.stdout[-3000:]
    data = report(tmp_path)
    assert verdicts(data) == {"linux/amd64": "pass", "linux/arm64": "pass"}
    for p in data["platforms"]:
        assert p["observed"]["config"]["fits"][0] == p["platform"]
        assert p["observed"]["dpkg"]["raw"] is None and p["observed"]["sh-elf"]["raw"] is None
        assert "the image has no /bin/sh" in (tmp_path / "logs" /
                                               f"{p['platform'].replace('/', '-')}-probe.log"
                                               ).read_text()
    required = tiny_run(tmp_path / "req", "no-shell", "linux/amd64",
                        extra=("--require=dpkg",))
    assert required.returncode == Exit.IMAGE_WRONG
    [p] = report(tmp_path / "req")["platforms"]
    assert [f["kind"] for f in p["findings"] if f["source"] == "dpkg"] == ["missing"]


def test_nox_sessions_keep_bad_input_at_4_and_preflight_options_out_of_pytest(
        tmp_path: Path, seeded: None) -> None:
    check = run_nox("-s", "check")
    assert check.returncode == Exit.USAGE and "name what to check" in check.stdout + check.stderr
    build = run_nox("-s", "build", "--", "--no-setup", "--platform=linux/amd64",
                 f"--dockerfile={FIXTURES / 'tiny/Dockerfile'}", f"--build-arg=BASE_IMAGE={TINY}",
                 f"--report-dir={tmp_path}", "--image=harness-test/tiny", "--require=")
    assert build.returncode == Exit.OK, (build.stdout + build.stderr)[-3000:]
    assert report(tmp_path)["exit_status"] == Exit.OK


@pytest.fixture(scope="module")
def x86_64_tool(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A static x86_64 program, as a stage built on $BUILDPLATFORM without a cross target
    leaves it."""
    out = tmp_path_factory.mktemp("tool") / "tool"
    source = out.with_suffix(".c")
    source.write_text('#include <stdio.h>\nint main(void) { puts("tool 1.0"); return 0; }\n')
    subprocess.run(["gcc", "-static", "-Os", "-o", str(out), str(source)], check=True)
    return out


def _foreign_run(tmp_path: Path, fixture: str, tool: Path, *platforms: str,
                 extra: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    context = tmp_path / "context"
    shutil.copytree(FIXTURES / fixture, context, dirs_exist_ok=True)
    shutil.copy(tool, context / "tool")
    return run_harness(*(f"--platform={p}" for p in platforms),
                       f"--dockerfile={context / 'Dockerfile'}", f"--build-arg=BASE_IMAGE={TINY}",
                       f"--report-dir={tmp_path / 'r'}", f"--image=harness-test/{fixture}",
                       "--require=", "-n", str(len(platforms)), *extra)


def test_a_binary_of_another_architecture_fails_its_platform(tmp_path: Path, seeded: None,
                                                             x86_64_tool: Path) -> None:
    run = _foreign_run(tmp_path, "foreign-binary", x86_64_tool, "linux/amd64", "linux/arm64")
    assert run.returncode == Exit.IMAGE_WRONG, run.stdout[-3000:]
    data = report(tmp_path / "r")
    assert verdicts(data) == {"linux/amd64": "pass", "linux/arm64": "fail"}
    arm = next(p for p in data["platforms"] if p["platform"] == "linux/arm64")
    [finding] = [f for f in arm["findings"] if f["kind"] not in ("absent", "not-applicable")]
    assert finding["source"] == "elf-audit"
    assert "/usr/local/bin/tool (ELF 64-bit LSB x86-64)" in finding["message"]
    audit = arm["observed"]["elf-audit"]["detail"]
    assert audit["count"] == 1 and audit["foreign"] == ["/usr/local/bin/tool (ELF 64-bit LSB "
                                                        "x86-64)"]
    assert "test_source[elf-audit-linux/arm64]" in run.stdout
    # The finding names the step that brought the file, in every sink: the fixture's
    # Dockerfile copies it at its line 6.
    step = "from Dockerfile:6 COPY tool /usr/local/bin/tool"
    assert step in finding["message"]
    [named] = finding["steps"]
    assert named["path"] == "/usr/local/bin/tool" and named["line"] == 6
    assert named["file"] == "Dockerfile" and named["layer"].startswith("sha256:")
    assert named["instruction"] == "COPY tool /usr/local/bin/tool"
    for sink in ("report.md", "report.html", "junit.xml"):
        assert step in (tmp_path / "r" / sink).read_text(), sink
    assert step in run.stdout
    allowed = _foreign_run(tmp_path / "allowed", "foreign-binary", x86_64_tool, "linux/arm64",
                           extra=("--allow-foreign=/usr/local/bin/*",))
    assert allowed.returncode == Exit.OK, allowed.stdout[-3000:]


def test_from_scratch_a_static_binary_passes_only_on_its_own_platform(
        tmp_path: Path, seeded: None, x86_64_tool: Path) -> None:
    run = _foreign_run(tmp_path, "foreign-binary-scratch", x86_64_tool, "linux/amd64",
                       "linux/arm64")
    assert run.returncode == Exit.IMAGE_WRONG, run.stdout[-3000:]
    data = report(tmp_path / "r")
    assert verdicts(data) == {"linux/amd64": "pass", "linux/arm64": "fail"}
    arm = next(p for p in data["platforms"] if p["platform"] == "linux/arm64")
    assert [f["source"] for f in arm["findings"] if f["kind"] == "mismatch"] == ["elf-audit"]


def test_an_rpm_userland_is_checked_by_rpm(tmp_path: Path,
                                            docker_client: docker.DockerClient) -> None:
    """No dpkg: the userland's own package manager answers (Debian's rpm here; its armhf
    answer is plain `arm`)."""
    names = ("linux/amd64", "linux/arm64", "linux/arm/v7")
    for name in names:
        make_tiny_base(docker_client, parse_platform(name), TINY_RPM)
    run = run_harness(*(f"--platform={n}" for n in names),
                      f"--dockerfile={FIXTURES / 'any-userland' / 'Dockerfile'}",
                      f"--build-arg=BASE_IMAGE={TINY_RPM}", f"--report-dir={tmp_path}",
                      "--image=harness-test/rpm", "--require=rpm", "-n", "3")
    assert run.returncode == Exit.OK, run.stdout[-3000:]
    data = report(tmp_path)
    assert set(verdicts(data).values()) == {"pass"}
    seen = {p["platform"]: p["observed"] for p in data["platforms"]}
    assert {n: seen[n]["rpm"]["value"] for n in names} == {
        "linux/amd64": "x86_64", "linux/arm64": "aarch64", "linux/arm/v7": "arm"}
    assert all(seen[n]["dpkg"]["raw"] is None for n in names)  # absent: asked first


def _most_at_once(spans: list[tuple[str, str]]) -> int:
    """The most of ``spans`` (ISO start, end) that were under way at one moment."""
    return max(sum(1 for s, e in spans if s <= at < e) for at, _ in spans)


@pytest.mark.parametrize(("count", "workers", "builds"),
                         [(1, "auto", None), (4, "auto", None), (4, "2", None), (4, "2", 1)])
def test_workers_build_side_by_side_and_probe_one_platform_per_core(
        count: int, workers: str, builds: int | None, tmp_path: Path, tiny_base: Any) -> None:
    """`-n auto` (what `nox -s build` passes) starts a worker per platform; the platforms
    build side by side, all at once (or --builds of them), and probe at most one per core at
    once. (xdist asks for the count before the plugin's roles are
    registered; the plugin once went unasked, and one platform got a worker per core.)
    The builds start with the run, in the controller (harness.plugin.head_start): fewer
    workers than platforms never hold a build back."""
    platforms = ["linux/amd64", "linux/386", "linux/arm64", "linux/arm/v7"][:count]
    for p in platforms:
        tiny_base(p)
    run = subprocess.run(harness_cmd(f"--dockerfile={FIXTURES / 'tiny/Dockerfile'}",
                                     f"--build-arg=BASE_IMAGE={TINY}", "--require=",
                                     f"--report-dir={tmp_path}", "--image=harness-test/auto",
                                     f"--platform={','.join(platforms)}", "-vv",
                                     *([f"--builds={builds}"] if builds else []),
                                     workers=workers),
                         cwd=ROOT, capture_output=True, text=True, check=False, timeout=600)
    assert run.returncode == Exit.OK, run.stdout[-3000:]
    cores = os.cpu_count() or 1
    started = count if workers == "auto" else int(workers)
    assert f"created: {started}/{started} worker" in run.stdout, run.stdout[:2000]
    phases = [ph for p in report(tmp_path)["platforms"] for ph in p["phases"]]
    built = [(ph["start"], ph["end"]) for ph in phases if ph["name"] == "build"]
    probes = [(ph["start"], ph["end"]) for ph in phases if ph["name"] == "probe"]
    assert len(built) == count
    assert _most_at_once(built) <= (builds or count), phases
    assert _most_at_once(probes) <= cores, phases
    if builds is None:  # every build under way at once, none waiting for a worker's probe
        assert _most_at_once(built) == count, phases
        assert max(s for s, _ in built) < min(s for s, _ in probes), phases
    # Side by side: the first builds start before any probe has ended.
    assert sorted(s for s, _ in built)[min(count, builds or count, started) - 1] < \
        min(end for _, end in probes), phases
