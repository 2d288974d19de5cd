"""A platform on an engine of its own (--engine PLATFORM=URL): built, probed and reported
there, by unix:// and by tcp://, with the other platforms on the machine's engine; an engine
that does not answer costs its platform only."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from harness.containers.engine import REMOTE_HANDLER
from harness.containers.local_registry import LocalRegistry
from harness.core.outcomes import Exit
from harness.core.platforms.table import parse_platform
from harness.core.reporting import attest
from harness.distribution.registry import Registry
from tests.helpers import (
    FIXTURES,
    ROOT,
    TINY,
    free_port,
    harness_cmd,
    make_tiny_base,
    run_harness,
)
from tests.second_engine import second_engine


@pytest.fixture(scope="module")
def engine2(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """Docker 26 beside the machine's engine, by unix:// and tcp://127.0.0.1, with the
    tiny base of linux/386 and linux/arm64 made there (no image is carried across)."""
    port = free_port()
    with second_engine(tmp_path_factory.mktemp("engine2"), tcp_port=port) as url:
        client = docker.DockerClient(base_url=url)
        for name in ("linux/386", "linux/arm64"):
            make_tiny_base(client, parse_platform(name))
        client.close()
        yield url, f"tcp://127.0.0.1:{port}"


def report(where: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((where / "report.json").read_text())
    return data


def tiny(tmp_path: Path, *args: str) -> Any:
    return run_harness(f"--dockerfile={FIXTURES / 'tiny/Dockerfile'}",
                       f"--build-arg=BASE_IMAGE={TINY}", f"--report-dir={tmp_path}",
                       "--image=harness-test/engines", "--require=", *args)


ROUTED = "linux/amd64,linux/386,linux/arm64"


def routing(engine2: tuple[str, str]) -> list[str]:
    unix, tcp = engine2
    return [f"--engine=linux/386={unix}", f"--engine=linux/arm64={tcp}"]


@pytest.fixture(scope="module")
def routed(engine2: tuple[str, str], tiny_base: Any,
           tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One run: linux/386 on engine 2 by unix://, linux/arm64 by tcp://, amd64 here."""
    tiny_base("linux/amd64")
    where = tmp_path_factory.mktemp("routed")
    run = tiny(where, f"--platform={ROUTED}", *routing(engine2), "-n", "3")
    assert run.returncode == Exit.OK, run.stdout[-4000:]
    return where


def test_each_platform_is_built_and_checked_on_its_own_engine(
        routed: Path, engine2: tuple[str, str], docker_client: docker.DockerClient) -> None:
    unix, tcp = engine2
    tmp_path = routed
    data = report(tmp_path)
    by = {p["platform"]: p for p in data["platforms"]}
    assert {k: v["verdict"] for k, v in by.items()} == {
        "linux/amd64": "pass", "linux/386": "quirk", "linux/arm64": "pass"}
    assert by["linux/386"]["engine"]["url"] == unix
    assert by["linux/arm64"]["engine"]["url"] == tcp
    assert by["linux/386"]["engine"]["version"].startswith("26.")
    assert by["linux/amd64"]["engine"]["version"] == docker_client.version()["Version"]
    # linux/386 runs natively on engine 2's host (this one): the same quirk, judged the same
    assert by["linux/386"]["run"]["kind"] == "native"
    assert by["linux/arm64"]["run"]["kind"] == "qemu"
    other = docker.DockerClient(base_url=unix)
    try:
        for name in ("linux-386", "linux-arm64"):
            assert other.images.get(f"harness-test/engines:{name}")
            with pytest.raises(docker.errors.ImageNotFound):
                docker_client.images.get(f"harness-test/engines:{name}")
        with pytest.raises(docker.errors.ImageNotFound):
            other.images.get("harness-test/engines:linux-amd64")
        assert not other.containers.list(all=True)  # its probe containers are gone too
    finally:
        other.close()


def test_an_engine_that_does_not_answer_costs_its_platform_only(tmp_path: Path,
                                                                tiny_base: Any) -> None:
    tiny_base("linux/amd64")
    gone = f"unix://{tmp_path}/nothing.sock"
    run = tiny(tmp_path / "r", "--platform=linux/amd64,linux/386", f"--engine=linux/386={gone}",
               "-n", "2")
    assert run.returncode == Exit.CANNOT_CHECK, run.stdout[-4000:]
    by = {p["platform"]: p for p in report(tmp_path / "r")["platforms"]}
    assert by["linux/amd64"]["verdict"] == "pass"
    assert by["linux/386"]["verdict"] == "error"
    assert by["linux/386"]["engine"]["url"] == gone
    [finding] = by["linux/386"]["findings"]
    assert f"no container engine answers at {gone} (--engine)" in finding["message"]


def test_a_bad_engine_is_refused_before_any_work_without_echoing_credentials(
        tmp_path: Path) -> None:
    run = tiny(tmp_path / "r", "--platform=linux/386",
               "--engine=linux/386=https://user:s3cret@example.invalid")
    assert run.returncode == Exit.USAGE, run.stdout[-3000:] + run.stderr[-2000:]
    out = run.stdout + run.stderr
    assert "not an engine URL" in out and "s3cret" not in out
    assert not (tmp_path / "r" / "logs").exists()


def test_preflight_lists_every_engine_and_how_each_platform_runs_there(
        engine2: tuple[str, str], tmp_path: Path) -> None:
    unix, _tcp = engine2
    gone = f"unix://{tmp_path}/nothing.sock"
    run = subprocess.run([sys.executable, "-m", "harness", "preflight", "--no-setup",
                          "--platform=linux/amd64,linux/386,linux/arm64",
                          f"--engine=linux/386={unix}", f"--engine=linux/arm64={gone}"],
                         cwd=ROOT, capture_output=True, text=True, check=False, timeout=300)
    assert run.returncode == Exit.CANNOT_CHECK, run.stdout + run.stderr  # arm64 cannot run
    assert re.search(rf"^engine    {re.escape(unix)}: Docker 26\.\S+ on x86_64$", run.stdout,
                     re.MULTILINE), run.stdout
    assert f"engine    {gone}: DOES NOT ANSWER" in run.stdout
    assert re.search(rf"^  linux/386 +native  on {re.escape(unix)}", run.stdout, re.MULTILINE)
    assert re.search(r"^  linux/arm64 +CANNOT RUN", run.stdout, re.MULTILINE)
    assert f"no container engine answers at {gone}" in run.stdout


def test_platforms_on_two_engines_are_published_as_one_index_and_checked_back(
        routed: Path, engine2: tuple[str, str], docker_client: docker.DockerClient,
        tmp_path: Path) -> None:
    with LocalRegistry(docker_client) as local:
        run = subprocess.run(
            [sys.executable, "-m", "harness", "publish", f"--platform={ROUTED}",
             "--image=harness-test/engines", *routing(engine2),
             f"--registry={local.host}/engines", "--tag=both", f"--report-dir={routed}"],
            cwd=ROOT, capture_output=True, text=True, check=False, timeout=600)
        assert run.returncode == Exit.OK, run.stdout + run.stderr
        with Registry(local.host) as reg:
            _media, body, _digest = reg.get_manifest("engines", "both")
        index = json.loads(body)
        assert sorted("/".join(filter(None, (m["platform"]["os"], m["platform"]["architecture"],
                                             m["platform"].get("variant"))))
                      for m in index["manifests"] if not attest.is_attestation(m)) == [
            "linux/386", "linux/amd64", "linux/arm64"]
        # Each platform's attestations, made from the routed build's report.
        assert len([m for m in index["manifests"] if attest.is_attestation(m)]) == 3
        # What was published is checked back, each platform on its own engine again.
        check = run_harness(f"--ref={local.host}/engines:both", f"--platform={ROUTED}",
                            *routing(engine2), f"--report-dir={tmp_path / 'check'}",
                            "--require=", "-n", "3")
        assert check.returncode == Exit.OK, check.stdout[-4000:]
        by = {p["platform"]: p for p in report(tmp_path / "check")["platforms"]}
        assert by["linux/386"]["engine"]["url"] == engine2[0]
        assert {k: v["verdict"] for k, v in by.items()} == {
            "linux/amd64": "pass", "linux/386": "quirk", "linux/arm64": "pass"}


SLOW_ON_386 = """\
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
RUN if [ "$(/usr/bin/dpkg --print-architecture)" = i386 ]; then sleep 120; fi
"""


def test_an_engine_stopped_mid_build_costs_its_platform_only(
        tmp_path: Path, tiny_base: Any) -> None:
    """linux/386 builds on an engine that is stopped while its build runs: that platform is
    `error` (the machine's trouble: retry), amd64 on the machine's engine passes."""
    tiny_base("linux/amd64")
    (tmp_path / "Dockerfile").write_text(SLOW_ON_386)
    with second_engine(tmp_path / "doomed", bridge="harness-br27",
                       address="172.30.27.1/24") as url:
        client = docker.DockerClient(base_url=url)
        make_tiny_base(client, parse_platform("linux/386"))
        client.close()
        cmd = [*harness_cmd(), "--platform=linux/386,linux/amd64", "-n", "2",
               f"--engine=linux/386={url}", f"--dockerfile={tmp_path / 'Dockerfile'}",
               f"--build-arg=BASE_IMAGE={TINY}", f"--report-dir={tmp_path / 'r'}",
               "--image=harness-test/doomed", "--require="]
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        log = tmp_path / "r" / "logs" / "linux-386-build.log"
        deadline = time.monotonic() + 120
        while not (log.exists() and "sleep 120" in log.read_text()):
            assert time.monotonic() < deadline and proc.poll() is None, "no build started"
            time.sleep(0.2)
        time.sleep(2)
        # The engine is stopped under the build, as a lost machine or a restarted daemon.
        os.kill(int((tmp_path / "doomed" / "docker.pid").read_text()), signal.SIGTERM)
        out, _ = proc.communicate(timeout=600)
    assert proc.returncode == Exit.CANNOT_CHECK, out[-4000:]
    by = {p["platform"]: p for p in report(tmp_path / "r")["platforms"]}
    assert by["linux/amd64"]["verdict"] == "pass"
    assert by["linux/386"]["verdict"] == "error", by["linux/386"]["findings"]
    [finding] = by["linux/386"]["findings"]
    assert "engine" in finding["message"], finding


def _address_of_this_machine() -> str:
    """An address of this machine that is not loopback: an engine reached by it is, to the
    harness, on another machine."""
    words = subprocess.run(["ip", "-4", "-o", "addr", "show", "scope", "global"],
                           capture_output=True, text=True, check=True).stdout.split()
    return words[words.index("inet") + 1].split("/")[0]


def test_on_another_machine_emulation_is_read_from_that_engines_buildkit(
        tmp_path: Path, tiny_base: Any) -> None:
    tiny_base("linux/amd64")
    host, port = _address_of_this_machine(), free_port()
    with second_engine(tmp_path / "far", tcp_port=port, tcp_host=host, bridge="harness-br29",
                       address="172.30.29.1/24") as url:
        client = docker.DockerClient(base_url=url)
        make_tiny_base(client, parse_platform("linux/arm64"))
        client.close()
        far = f"tcp://{host}:{port}"
        run = tiny(tmp_path / "r", "--platform=linux/amd64,linux/arm64",
                   f"--engine=linux/arm64={far}", "-n", "2")
    assert run.returncode == Exit.OK, run.stdout[-4000:]
    by = {p["platform"]: p for p in report(tmp_path / "r")["platforms"]}
    assert by["linux/arm64"]["verdict"] == "pass"
    assert by["linux/arm64"]["engine"]["url"] == far
    assert by["linux/arm64"]["run"]["kind"] == "qemu"
    assert by["linux/arm64"]["run"]["handler"] == REMOTE_HANDLER
    assert by["linux/amd64"]["run"]["kind"] == "native"
