"""Service checks: the image's own service started on amd64 and arm64 (emulated), on an
internal network of its own, asked over HTTP; a service that answers, one that crashes on one
platform only, and one that never listens."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import socket
import subprocess
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import pytest

from harness.containers import service_run as service
from harness.core.outcomes import Exit
from harness.core.platforms.table import parse_platform
from tests.helpers import FIXTURES, TINY, harness_cmd, run_harness

PLATFORMS = ("linux/amd64", "linux/arm64")
HEALTHCHECK = ("HEALTHCHECK --interval=1s --timeout=10s --retries=30 "
               "CMD busybox wget -q -O /dev/null http://127.0.0.1:8080/ || exit 1\n")


@pytest.fixture(scope="module")
def seeded(tiny_base: Callable[[str], str]) -> None:
    for name in PLATFORMS:
        tiny_base(name)


def project(where: Path, services: str, healthcheck: bool = False) -> Path:
    where.mkdir()
    text = (FIXTURES / "service" / "Dockerfile").read_text()
    (where / "Dockerfile").write_text(text + (HEALTHCHECK if healthcheck else ""))
    (where / "pyproject.toml").write_text(
        f'[tool.harness]\nplatforms = {list(PLATFORMS)!r}\nimage = "harness-test/service"\n'
        f'build-args = ["BASE_IMAGE={TINY}"]\nrequire = []\n\n{services}')
    return where


def verdicts(where: Path) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    report: dict[str, Any] = json.loads((where / "reports" / "report.json").read_text())
    return ({p["platform"]: p["verdict"] for p in report["platforms"]},
            {p["platform"]: {f["source"]: f["message"] for f in p["findings"]
                             if f["source"].startswith("service:")}
             for p in report["platforms"]})


def leftovers(client: docker.DockerClient) -> list[str]:
    # Listed without inspecting each one: another run's containers come and go meanwhile.
    return [n.name for n in client.networks.list() if n.name.startswith("harness-service-")] + \
        [name.lstrip("/") for c in client.api.containers(all=True)
         for name in c.get("Names") or [] if name.lstrip("/").startswith("harness-service-")]


def test_a_service_that_answers_passes_once_its_healthcheck_says_healthy(
        tmp_path: Path, seeded: None, docker_client: docker.DockerClient) -> None:
    where = project(tmp_path / "p", "[tool.harness.service]\nport = 8080\n"
                    "expect = '^service {dpkg}$'\n", healthcheck=True)
    run = run_harness(cwd=where)
    assert run.returncode == Exit.OK, run.stdout[-4000:]
    assert verdicts(where) == (dict.fromkeys(PLATFORMS, "pass"), {p: {} for p in PLATFORMS})
    log = (where / "reports" / "logs" / "linux-arm64-probe.log").read_text()
    assert "# service:8080/: ready=True" in log and "HTTP 200" in log
    cases = {c.attrib["name"]: c for c in
             ET.parse(where / "reports" / "junit.xml").getroot().iter("testcase")}
    for name in PLATFORMS:
        case = cases[f"test_service[8080/-{name}]"]
        assert case.find("failure") is None and case.find("skipped") is None
    assert leftovers(docker_client) == []


def test_a_service_that_crashes_on_one_platform_fails_there_with_its_status_and_log(
        tmp_path: Path, seeded: None, docker_client: docker.DockerClient) -> None:
    where = project(tmp_path / "p", "[[tool.harness.service]]\nport = 8080\n"
                    "expect = '^service {dpkg}$'\n\n[[tool.harness.service]]\nport = 9090\n"
                    "timeout = 1\n")
    run = run_harness(f"--build-arg=BASE_IMAGE={TINY}", "--build-arg=CRASH_ON=arm64", cwd=where)
    assert run.returncode == Exit.IMAGE_WRONG, run.stdout[-4000:]
    seen, findings = verdicts(where)
    assert seen == dict.fromkeys(PLATFORMS, "fail")
    # amd64 answers on 8080; nothing listens on 9090 (1 s natively)
    assert set(findings["linux/amd64"]) == {"service:9090/"}
    assert findings["linux/amd64"]["service:9090/"].startswith(
        "the service was not ready within 1 s: never accepting connections on port 9090")
    # arm64's service exits at start: both checks say so, with its status and its words
    assert set(findings["linux/arm64"]) == {"service:8080/", "service:9090/"}
    for message in findings["linux/arm64"].values():
        assert message.startswith("the service exited with status 3 after ")
        assert message.endswith("its last log lines: cannot start on arm64: boom")
    html = (where / "reports" / "report.html").read_text()
    md = (where / "reports" / "report.md").read_text()
    for sink in (html, md):
        assert "service:9090/" in sink and "cannot start on arm64: boom" in sink
    assert leftovers(docker_client) == []


def test_ctrl_c_while_a_service_starts_leaves_no_container_or_network(
        tmp_path: Path, seeded: None, docker_client: docker.DockerClient) -> None:
    where = project(tmp_path / "p", "[tool.harness.service]\nport = 9090\ntimeout = 300\n")
    proc = subprocess.Popen(harness_cmd("--platform=linux/amd64"), cwd=where,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    deadline = time.monotonic() + 300
    while not leftovers(docker_client):  # the service is up, waited for on a silent port
        if time.monotonic() > deadline or proc.poll() is not None:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail("the service never started")
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGINT)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == Exit.INTERRUPTED, out[-3000:]
    assert leftovers(docker_client) == []


def host_rules() -> str:
    return subprocess.run(["iptables", "-w", "-S", "INPUT"], capture_output=True, text=True,
                          check=True, timeout=60).stdout


def test_the_service_cannot_reach_this_host_while_this_host_asks_it(
        tiny_base: Callable[[str], str], docker_client: docker.DockerClient) -> None:
    # A server of this host on 0.0.0.0: before the bridge's way in was shut, the service
    # reached it at its network's gateway (this host's address on the bridge).
    base = tiny_base("linux/amd64")
    dockerfile = f'FROM {base}\nCMD ["busybox", "httpd", "-f", "-p", "8080", "-h", "/etc"]\n'
    image, _ = docker_client.images.build(fileobj=io.BytesIO(dockerfile.encode()),
                                          tag="harness-test/service-isolated", rm=True)
    reached: list[object] = []
    with socket.create_server(("0.0.0.0", 0)) as listener:
        listener.settimeout(0.2)
        port = listener.getsockname()[1]
        stop = threading.Event()

        def accept() -> None:
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    conn, peer = listener.accept()
                    reached.append(peer)
                    conn.close()

        thread = threading.Thread(target=accept, daemon=True)
        thread.start()
        try:
            with service._Service(docker_client, image.id, parse_platform("linux/amd64"),
                                  None) as started:
                assert started.bridge in host_rules()
                assert started.ready(8080, 30).ready  # this host still asks the service
                net = docker_client.api.inspect_network(started.network.id)
                gateway = net["IPAM"]["Config"][0]["Gateway"]
                tried = {}
                for address in (gateway, "172.17.0.1"):  # its own gateway, docker0's
                    code, out = started.container.exec_run(
                        ["busybox", "nc", "-w", "3", address, str(port)])
                    tried[address] = (code, out.decode(errors="replace"))
                bridge = started.bridge
        finally:
            stop.set()
            thread.join(5)
    assert reached == [], tried
    assert all(code != 0 for code, _ in tried.values()), tried
    assert bridge not in host_rules()  # the rule went with the network
