"""The engines users have: Docker 26 with the containerd image store, reached as a remote
engine is, by tcp:// with TLS (DOCKER_TLS_VERIFY, DOCKER_CERT_PATH) and by ssh:// through an
sshd on loopback. Build, probe, publish and check all happen there."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
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
from tests.helpers import FIXTURES, ROOT, TINY, free_port, make_tiny_base, run_harness
from tests.second_engine import make_tls, second_engine
from tests.ssh_server import Sshd, loopback_sshd

PLATFORMS = "linux/amd64,linux/386,linux/arm64"
CONTAINERD_STORE = {"features": {"containerd-snapshotter": True}}


@dataclass(frozen=True)
class Remote:
    unix: str  # for the test's own look behind the harness's back
    tcp: str  # with TLS
    certs: Path
    sshd: Sshd

    def env(self) -> dict[str, str]:
        """A user's environment for these engines: TLS as the docker CLI takes it, the key."""
        return {"DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": str(self.certs),
                **self.sshd.env()}

    def routing(self) -> list[str]:
        return [f"--engine=linux/386={self.tcp}", f"--engine=linux/arm64={self.sshd.url}"]


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Remote]:
    where = tmp_path_factory.mktemp("engine3")
    certs = make_tls(where / "tls")
    port = free_port()
    with second_engine(where / "engine", tcp_port=port, bridge="harness-br28",
                       address="172.30.28.1/24", config=CONTAINERD_STORE,
                       tls=where / "tls") as unix:
        client = docker.DockerClient(base_url=unix)
        for name in ("linux/386", "linux/arm64"):
            make_tiny_base(client, parse_platform(name))
        client.close()
        with loopback_sshd(where / "sshd", free_port(), unix) as sshd:
            yield Remote(unix, f"tcp://127.0.0.1:{port}", certs, sshd)


def report(where: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((where / "report.json").read_text())
    return data


def tunnels() -> set[Path]:
    return set(Path("/tmp").glob("harness-ssh-*"))


def test_tls_and_ssh_engines_with_the_containerd_store_build_probe_publish_and_check(
        remote: Remote, tiny_base: Any, docker_client: docker.DockerClient,
        tmp_path: Path) -> None:
    tiny_base("linux/amd64")
    before = tunnels()
    run = run_harness(f"--dockerfile={FIXTURES / 'tiny/Dockerfile'}",
                      f"--build-arg=BASE_IMAGE={TINY}", f"--report-dir={tmp_path / 'build'}",
                      "--image=harness-test/current", "--require=", f"--platform={PLATFORMS}",
                      *remote.routing(), "-n", "3", env=remote.env())
    assert run.returncode == Exit.OK, run.stdout[-4000:]
    by = {p["platform"]: p for p in report(tmp_path / "build")["platforms"]}
    assert {k: v["verdict"] for k, v in by.items()} == {
        "linux/amd64": "pass", "linux/386": "quirk", "linux/arm64": "pass"}
    assert by["linux/386"]["engine"]["url"] == remote.tcp
    assert by["linux/arm64"]["engine"]["url"] == remote.sshd.url
    assert by["linux/arm64"]["engine"]["version"].startswith("26.")
    # Behind ssh the engine is another machine's to the harness: its BuildKit says QEMU.
    assert by["linux/arm64"]["run"] == {**by["linux/arm64"]["run"], "kind": "qemu",
                                        "handler": REMOTE_HANDLER}
    assert by["linux/386"]["run"]["kind"] == "native"

    far = docker.DockerClient(base_url=remote.unix)
    try:
        assert ["driver-type", "io.containerd.snapshotter.v1"] in far.info()["DriverStatus"]
        for slug in ("linux-386", "linux-arm64"):
            assert far.images.get(f"harness-test/current:{slug}")
            with pytest.raises(docker.errors.ImageNotFound):
                docker_client.images.get(f"harness-test/current:{slug}")
        assert not far.containers.list(all=True)
    finally:
        far.close()

    with LocalRegistry(docker_client) as local:
        pushed = subprocess.run(
            [sys.executable, "-m", "harness", "publish", f"--platform={PLATFORMS}",
             "--image=harness-test/current", *remote.routing(),
             f"--registry={local.host}/current", "--tag=all",
             f"--report-dir={tmp_path / 'build'}"],
            cwd=ROOT, capture_output=True, text=True, check=False, timeout=600,
            env={**os.environ, **remote.env()})
        assert pushed.returncode == Exit.OK, pushed.stdout + pushed.stderr
        # The build's report gains each platform's publish phase.
        for p in report(tmp_path / "build")["platforms"]:
            [phase] = [ph for ph in p["phases"] if ph["name"] == "publish"]
            assert phase["label"] == f"{local.host}/current" and phase["start"] < phase["end"]
        with Registry(local.host) as reg:
            _media, body, _digest = reg.get_manifest("current", "all")
        assert sorted(m["platform"]["architecture"] for m in json.loads(body)["manifests"]
                      if not attest.is_attestation(m)) == ["386", "amd64", "arm64"]
        check = run_harness(f"--ref={local.host}/current:all", f"--platform={PLATFORMS}",
                            *remote.routing(), f"--report-dir={tmp_path / 'check'}",
                            "--require=", "-n", "3", env=remote.env())
        assert check.returncode == Exit.OK, check.stdout[-4000:]
        checked = {p["platform"]: p for p in report(tmp_path / "check")["platforms"]}
        assert {k: v["verdict"] for k, v in checked.items()} == {
            "linux/amd64": "pass", "linux/386": "quirk", "linux/arm64": "pass"}
        assert checked["linux/arm64"]["engine"]["url"] == remote.sshd.url
    assert tunnels() <= before  # every process closed its ssh tunnels


def test_preflight_reaches_both_or_says_why_not(remote: Remote, tmp_path: Path) -> None:
    def preflight(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "harness", "preflight", "--no-setup",
             "--platform=linux/386,linux/arm64", *remote.routing()],
            cwd=ROOT, capture_output=True, text=True, check=False, timeout=300,
            env={**os.environ, **env})

    good = preflight(remote.env())
    assert good.returncode == Exit.OK, good.stdout + good.stderr
    for url in (remote.tcp, remote.sshd.url):
        assert re.search(rf"^engine    {re.escape(url)}: Docker 26\.\S+ on x86_64$",
                         good.stdout, re.MULTILINE), good.stdout

    # No client certificate, and a key the far host does not know: both named, with why.
    stranger = tmp_path / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)],
                   check=True)
    bad = preflight(remote.sshd.env(key=stranger))
    assert bad.returncode == Exit.CANNOT_CHECK, bad.stdout + bad.stderr
    assert f"engine    {remote.tcp}: DOES NOT ANSWER" in bad.stdout
    assert f"engine    {remote.sshd.url}: DOES NOT ANSWER" in bad.stdout
    assert "Permission denied (publickey)" in bad.stdout, bad.stdout
