"""--engine podman: the tiny image built (classic path) and checked on this machine's Podman,
with the verdicts Docker gives, for linux/amd64 natively and linux/arm64 under QEMU; and
nothing of the run is left (the service preflight started, its socket, a probe container)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from harness.containers import bases
from harness.containers.local_registry import LocalRegistry
from harness.containers.probe_container import LABEL
from harness.core.outcomes import Exit
from harness.core.platforms.table import parse_platform
from harness.machine import podman, provision
from tests.helpers import FIXTURES, ROOT, TINY


@pytest.fixture(scope="module")
def podman_cache(tmp_path_factory: pytest.TempPathFactory,
                 docker_client: docker.DockerClient) -> Iterator[Path]:
    """A cache of the tests' own for the service's files, Debian's podman installed where
    the machine allows, and the tiny bases of the docker engine loaded into Podman's store
    under their harness tags (no registry answers here; `docker save` keeps the tag)."""
    if not podman.installed():
        if not provision.can_provision():
            pytest.skip("no podman, and not root on Debian to install it")
        provision.install_podman(say=lambda _line: None)
    cache = tmp_path_factory.mktemp("podman-cache")
    before = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(cache)
    try:
        assert podman.start(lambda _line: None)
        c = docker.DockerClient(base_url=podman.url())
        for name in ("linux/amd64", "linux/arm64"):
            tag = bases.local_tag(TINY, parse_platform(name))
            image = docker_client.images.get(tag)
            c.images.load(b"".join(image.save(named=True)))
            repository, _, label = tag.rpartition(":")
            c.images.get(image.id).tag(repository, label)
        c.close()
        assert podman.stop()  # the run's preflight starts its own
    finally:
        if before is None:
            os.environ.pop("XDG_CACHE_HOME", None)
        else:
            os.environ["XDG_CACHE_HOME"] = before
    yield cache


def _left(cache: Path) -> list[str]:
    """Processes still running with the tests' cache in their command line (the service)."""
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True,
                         check=True).stdout
    return [line for line in out.splitlines() if str(cache) in line]


def _probe_containers() -> list[str]:
    out = subprocess.run(["podman", "ps", "-a", "--filter", f"label={LABEL}", "--format",
                          "{{.Names}}"], capture_output=True, text=True, check=True).stdout
    return out.split()


def _on_podman(tmp_path: Path, cache: Path, dockerfile: str | Path, platform: str,
               status: Exit = Exit.OK, verdict: str = "pass",
               extra: tuple[str, ...] = ()) -> dict[str, Any]:
    """One run on Podman, with preflight (it starts the service; the run's end stops it);
    the platform's report entry, once nothing of the run is left."""
    before = _probe_containers()
    given = dockerfile if isinstance(dockerfile, Path) else FIXTURES / dockerfile / "Dockerfile"
    run = subprocess.run(
        [sys.executable, "-m", "harness", "build", "-p", "no:cacheprovider", "-n", "0",
         "--engine", "podman", f"--platform={platform}",
         f"--dockerfile={given}", f"--build-arg=BASE_IMAGE={TINY}",
         f"--report-dir={tmp_path / 'r'}", "--image=harness-test/podman", "--require=",
         *extra],
        capture_output=True, text=True, timeout=900, cwd=ROOT, check=False,
        env={**os.environ, "XDG_CACHE_HOME": str(cache)})
    assert run.returncode == status, run.stdout[-4000:] + run.stderr[-2000:]
    assert "starting Podman's API service" in run.stdout
    assert f"{platform} on Podman: classic build by Podman's Buildah, no BuildKit" in run.stdout
    report: dict[str, Any] = json.loads((tmp_path / "r" / "report.json").read_text())
    assert report["exit_status"] == status
    (row,) = report["platforms"]
    assert (row["platform"], row["verdict"]) == (platform, verdict), row["findings"]
    assert row["engine"]["url"].endswith("/podman.sock")  # checked there, not on Docker
    assert row["engine"]["kind"] == "podman"  # and the report says which engine that was
    # Nothing left: the service, its socket and pid file, a probe container.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(cache))
        deadline = time.monotonic() + 10
        while _left(cache) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _left(cache), "Podman's service is still running"
        assert not podman.socket_path().exists() and podman.ours() is None
    assert _probe_containers() == before
    return row


@pytest.mark.parametrize("platform", ["linux/amd64", "linux/arm64"])
def test_the_tiny_image_builds_and_passes_on_podman_leaving_nothing(
        platform: str, podman_cache: Path, tiny_base: Any, tmp_path: Path) -> None:
    tiny_base(platform)
    row = _on_podman(tmp_path, podman_cache, "tiny", platform)
    want = parse_platform(platform)
    assert row["observed"]["dpkg"]["value"] == want.dpkg_arch
    assert row["observed"]["config"]["value"] == want.name
    assert row["run"]["kind"] == ("native" if platform == "linux/amd64" else "qemu")


def test_an_image_without_a_shell_is_probed_on_podman(podman_cache: Path, tiny_base: Any,
                                                      tmp_path: Path) -> None:
    """Each question in a container of its own, with an init: Podman refuses those without
    catatonit ("container-init binary not found on the host"), which preflight installs."""
    tiny_base("linux/amd64")
    row = _on_podman(tmp_path, podman_cache, "no-shell", "linux/amd64")
    assert row["observed"]["config"]["fits"][0] == "linux/amd64"
    assert row["observed"]["dpkg"]["raw"] is None and row["observed"]["sh-elf"]["raw"] is None


def test_a_binary_of_another_architecture_fails_arm64_on_podman(
        podman_cache: Path, tiny_base: Any, tmp_path: Path) -> None:
    tiny_base("linux/arm64")
    context = tmp_path / "context"
    shutil.copytree(FIXTURES / "foreign-binary", context)
    source = tmp_path / "tool.c"
    source.write_text("int main(void) { return 0; }\n")
    subprocess.run(["gcc", "-static", "-Os", "-o", str(context / "tool"), str(source)],
                   check=True)
    row = _on_podman(tmp_path, podman_cache, context / "Dockerfile", "linux/arm64",
                     Exit.IMAGE_WRONG, "fail")
    [finding] = [f for f in row["findings"] if f["kind"] not in ("absent", "not-applicable")]
    assert finding["source"] == "elf-audit"
    assert "/usr/local/bin/tool (ELF 64-bit LSB x86-64)" in finding["message"]
    assert "from Dockerfile:6 COPY tool /usr/local/bin/tool" in finding["message"]


def test_a_podman_build_is_published_and_its_index_checked_on_podman(
        podman_cache: Path, tiny_base: Any, tmp_path: Path,
        docker_client: docker.DockerClient) -> None:
    """publish takes the platform's image from Podman (starting Podman's service, which the
    build's end stopped, and stopping it again), pushes it by digest; `check REF` pulls that
    digest back into Podman, from a registry on loopback that speaks plain HTTP (as Docker
    allows there by default), and gives the build's verdict."""
    tiny_base("linux/amd64")
    _on_podman(tmp_path, podman_cache, "tiny", "linux/amd64")
    env = {**os.environ, "XDG_CACHE_HOME": str(podman_cache)}
    with LocalRegistry(docker_client) as registry:
        pushed = subprocess.run(
            [sys.executable, "-m", "harness", "publish", "--no-attest", "--engine", "podman",
             f"--registry={registry.host}/podman", "--tag=1.0", "--platform=linux/amd64",
             "--image=harness-test/podman", f"--report-dir={tmp_path / 'r'}"],
            capture_output=True, text=True, timeout=300, cwd=ROOT, check=False, env=env)
        assert pushed.returncode == Exit.OK, pushed.stdout[-3000:] + pushed.stderr[-3000:]
        assert f"pushed linux/amd64 as {registry.host}/podman@sha256:" in pushed.stdout
        checked = subprocess.run(
            [sys.executable, "-m", "harness", "check", f"{registry.host}/podman:1.0",
             "-p", "no:cacheprovider", "-n", "0", "--engine", "podman",
             "--platform=linux/amd64", f"--report-dir={tmp_path / 'c'}", "--require="],
            capture_output=True, text=True, timeout=600, cwd=ROOT, check=False, env=env)
    assert checked.returncode == Exit.OK, checked.stdout[-4000:] + checked.stderr[-2000:]
    (row,) = json.loads((tmp_path / "c" / "report.json").read_text())["platforms"]
    assert (row["verdict"], row["engine"]["kind"]) == ("pass", "podman"), row["findings"]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_CACHE_HOME", str(podman_cache))
        deadline = time.monotonic() + 10
        while _left(podman_cache) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _left(podman_cache), "Podman's service is still running"



def test_a_service_check_on_podman_is_one_line_error_leaving_nothing(
        podman_cache: Path, tiny_base: Any, tmp_path: Path) -> None:
    """Podman 4.3's internal network gives its bridge no address on this host, so the
    service's address is routed elsewhere (this machine's gateway answered 404, as if the
    service had): the check is `error` (69), one line, not a verdict of a stranger's answer;
    the network and the rule that shut its bridge are gone."""
    tiny_base("linux/amd64")
    row = _on_podman(tmp_path, podman_cache, "service", "linux/amd64",
                     status=Exit.CANNOT_CHECK, verdict="error",
                     extra=("--service-check", "8080/=^service amd64$"))
    said = [f["message"] for f in row["findings"] if f["kind"] == "error"]
    assert any(m.startswith("linux/amd64: the service's network bridge hs-") and m.endswith(
        "has no address on this host, so this host cannot reach the service on it")
        for m in said), row["findings"]
    assert not [f for f in row["findings"] if "HTTP 404" in f["message"]], row["findings"]
    listed = subprocess.run(["podman", "network", "ls", "--format", "{{.Name}}"],
                            capture_output=True, text=True, check=True).stdout.split()
    assert not [n for n in listed if n.startswith("harness-service-")]
    # Its own rule gone (another worker's service check may hold one of its own meanwhile).
    bridges = {m.split()[5] for m in said if "network bridge hs-" in m}
    assert bridges and not [b for b in bridges if b in subprocess.run(
        ["iptables", "-w", "-S", "INPUT"], capture_output=True, text=True, check=True,
        timeout=60).stdout]
