"""Probes against real images: answers, quirks, hung probes and missing emulation."""

from __future__ import annotations

import contextlib
import io
import tarfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import pytest

from harness.containers import (
    audit_pass,
    filesystem,
    hello,
    image_files,
    probe_container,
    probes,
    questions,
)
from harness.core.answers import observation as obs
from harness.core.failures.errors import CannotCheck, NoEmulation
from harness.core.judging.verdicts import judge
from harness.core.outcomes import Verdict
from harness.core.platforms.table import parse_platform
from harness.machine import runs
from harness.machine.host import BINFMT_DIR, read_handlers, run_mode
from tests.helpers import probe_containers


def verdict_of(client: docker.DockerClient, tag: str, name: str, **kw: float) -> tuple[str, list]:
    platform = parse_platform(name)
    found = probes.observe(client, tag, platform, probes.ProbeRequest(**kw)).observations
    arch = client.info()["Architecture"]
    got = judge(platform, found, arch, run_mode(platform, arch, read_handlers()))
    return got.verdict, got.findings


def test_arm64_image_under_qemu_passes(docker_client: docker.DockerClient,
                                       tiny_base: Callable[[str], str], tmp_path: Path) -> None:
    log = tmp_path / "probe.log"
    found = probes.observe(docker_client, tiny_base("linux/arm64"), parse_platform("linux/arm64"),
                           probes.ProbeRequest(log_path=log)).observations
    answers = {o.source: o for o in found}
    assert answers["dpkg"].value == "arm64"
    assert answers["uname"].value == "aarch64"
    assert answers["sh-elf"].value == "ELF 64-bit LSB AArch64"
    assert answers["rustc"].absent and answers["cargo"].absent  # absent is an answer
    assert "$ uname -m\naarch64" in log.read_text()
    verdict, _ = verdict_of(docker_client, tiny_base("linux/arm64"), "linux/arm64")
    assert verdict == Verdict.PASS


def test_arm_v7_image_under_qemu_passes(docker_client: docker.DockerClient,
                                        tiny_base: Callable[[str], str]) -> None:
    verdict, findings = verdict_of(docker_client, tiny_base("linux/arm/v7"), "linux/arm/v7")
    assert verdict == Verdict.PASS, findings


# The 32-bit platform each 64-bit host runs natively, whose `uname -m` is the host's.
NATIVE_32 = {"x86_64": "linux/386", "aarch64": "linux/arm/v7"}


def test_the_native_32_bit_platform_is_the_uname_quirk(docker_client: docker.DockerClient,
                                                       tiny_base: Callable[[str], str]) -> None:
    """linux/386 on x86_64 (the seed's surprise), linux/arm/v7 on aarch64."""
    arch = docker_client.info()["Architecture"]
    if arch not in NATIVE_32:
        pytest.skip(f"no 32-bit platform runs natively on {arch}")
    name = NATIVE_32[arch]
    if run_mode(parse_platform(name), arch, read_handlers()).kind != "native":
        pytest.skip(f"this {arch} host does not run {name} natively (no AArch32, or a handler)")
    verdict, findings = verdict_of(docker_client, tiny_base(name), name)
    assert verdict == Verdict.QUIRK
    [quirk] = [f for f in findings if f.kind == "quirk"]
    assert quirk.source == "uname" and arch in quirk.message


def _image_with_file(client: docker.DockerClient, base: str, path: str, text: str,
                     tag: str) -> str:
    """A new image from ``base`` with one executable file added (no build needed)."""
    container = client.containers.create(base, command=["true"])
    try:
        data = io.BytesIO()
        parts = path.strip("/").split("/")
        with tarfile.open(fileobj=data, mode="w") as tar:
            for depth in range(1, len(parts)):
                folder = tarfile.TarInfo("/".join(parts[:depth]))
                folder.type, folder.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(folder)
            info = tarfile.TarInfo("/".join(parts))
            info.size, info.mode = len(text), 0o755
            tar.addfile(info, io.BytesIO(text.encode()))
        container.put_archive("/", data.getvalue())
        container.commit(*tag.split(":"))
    finally:
        container.remove(force=True)
    return tag


def test_a_hung_probe_is_an_error_and_the_rest_still_answer(
        docker_client: docker.DockerClient, tiny_base: Callable[[str], str]) -> None:
    tag = _image_with_file(docker_client, tiny_base("linux/amd64"), "/usr/local/bin/uname",
                           "#!/bin/sh\nsleep 600\n", "harness-test/hung-uname:latest")
    try:
        start = time.monotonic()
        verdict, findings = verdict_of(docker_client, tag, "linux/amd64", timeout=3)
        elapsed = time.monotonic() - start
    finally:
        docker_client.images.remove(tag, force=True)
    assert verdict == Verdict.ERROR
    [hung] = [f for f in findings if f.kind == "error"]
    assert hung.source == "uname" and "did not answer within 3 s" in hung.message
    assert elapsed < 60


@contextlib.contextmanager
def handler_disabled(name: str) -> Iterator[None]:
    entry = BINFMT_DIR / name
    if not entry.exists():
        pytest.skip(f"no {name} handler registered on this host")
    entry.write_text("0")
    try:
        yield
    finally:
        entry.write_text("1")


def test_no_qemu_handler_is_reported_with_the_fix(docker_client: docker.DockerClient,
                                                  tiny_base: Callable[[str], str]) -> None:
    tag = tiny_base("linux/s390x")
    platform = parse_platform("linux/s390x")
    arch = docker_client.info()["Architecture"]
    with handler_disabled("qemu-s390x"):
        assert run_mode(platform, arch, read_handlers()).kind == "unavailable"
        with pytest.raises(NoEmulation) as info:
            probes.observe(docker_client, tag, platform)
    assert "exec format error" in info.value.message
    assert "qemu-user-static" in info.value.fix and "update-binfmts" in info.value.fix
    assert run_mode(platform, arch, read_handlers()).kind == "qemu"  # restored


def test_probe_containers_are_unprivileged_offline_and_removed(
        docker_client: docker.DockerClient, tiny_base: Callable[[str], str]) -> None:
    platform = parse_platform("linux/arm64")
    with probes.ImageProbe(docker_client, tiny_base("linux/arm64"), platform) as probe:
        container_id = probe.container.id
        host_config = docker_client.containers.get(container_id).attrs["HostConfig"]
        assert host_config["NetworkMode"] == "none" and host_config["Privileged"] is False
        # A weight below the default of the builds that may run beside it, as the kernel
        # holds it: cgroup v1's shares (default 1024), or v2's weight (default 100).
        code, out = probe.exec(["sh", "-c", "cat /sys/fs/cgroup/cpu/cpu.shares 2>/dev/null "
                                            "|| echo v2 $(cat /sys/fs/cgroup/cpu.weight)"])
        shares = out.split()
        assert code == 0 and (int(shares[-1]) < 100 if shares[0] == "v2" else
                              int(shares[0]) == probe_container.PROBE_CPU_SHARES < 1024), out
        code, out = probe.exec(["ls", "/sys/class/net"])
        assert (code, out.split()) == (0, ["lo"])
        # A command the image does not have is absent (the runtime says 126 "not found").
        assert questions.answer(probe, "dpkg", ["no-such-tool"], obs.dpkg).absent
        broken = questions.answer(probe, "dpkg", ["cat", "/nonexistent"], obs.dpkg,
                                   required=frozenset({"dpkg"}))
        assert (broken.kind, broken.raw) == ("broken", None) and "exited 1" in broken.error
    with pytest.raises(docker.errors.NotFound):
        docker_client.containers.get(container_id)


def test_another_runs_probe_is_not_this_tests_leftover(
        docker_client: docker.DockerClient, tiny_base: Callable[[str], str]) -> None:
    """The leftover check counted every probe container on the engine, so another harness
    run on this machine failed the tests (2 errors in 895). Each probe carries its run's id;
    only this test's count."""
    platform = parse_platform("linux/amd64")
    other = docker_client.containers.create(
        tiny_base("linux/amd64"), ["true"], platform=platform.name,
        labels={probe_container.LABEL: "1", runs.LABEL: "another-run"})
    try:
        with probes.ImageProbe(docker_client, tiny_base("linux/amd64"), platform) as probe:
            labels = docker_client.containers.get(probe.container.id).labels
            assert labels[runs.LABEL] == runs.run_id()
            assert probe_containers(docker_client) == [probe.container.name]
        assert probe_containers(docker_client) == []
    finally:
        other.remove(force=True)


def test_an_image_that_is_not_there_is_never_pulled(docker_client: docker.DockerClient) -> None:
    with pytest.raises(CannotCheck, match="no local image"):
        probes.observe(docker_client, "harness.invalid/never-built:latest",
                       parse_platform("linux/amd64"))


def test_a_local_container_read_in_place_gives_what_its_export_gives(
        docker_client: docker.DockerClient, tiny_base: Callable[[str], str]) -> None:
    """The audits read a local container's root on this host; the export is what every
    other engine gives. Both must see the same files, links and sizes (the engine's mounts
    aside: /dev's devices, /etc/hosts and its kind)."""
    platform = parse_platform("linux/arm64")
    with probes.ImageProbe(docker_client, tiny_base("linux/arm64"), platform) as probe:
        root = filesystem.host_root(probe.container, None)
        assert root is not None  # this machine: the engine is local and we are root
        walked = {e.path: (e.kind, e.link, e.size)
                  for e in filesystem.from_root(root, hello.HELLO_DIR)}
        with image_files.tar_stream(probe.container.export()) as tar:
            exported = {e.path: (e.kind, e.link, e.size) for e in filesystem.from_export(tar)}
        [audit, *_] = audit_pass.audit_files(probe, platform, ()).found
    mounted = ("/dev/", "/etc/hosts", "/etc/hostname", "/etc/resolv.conf")

    def seen(found: dict[str, tuple[str, str, int]]) -> dict[str, tuple[str, str, int]]:
        # Of a set of hard links, which one is "the file" is the reading order's choice.
        linked = {p for p, (k, link, _) in found.items() if k == "hardlink"} | \
            {link for k, link, _ in found.values() if k == "hardlink"}
        return {p: ("file", "", 0) if p in linked else v for p, v in found.items()
                if not p.startswith(mounted)}

    assert seen(walked) == seen(exported)
    assert audit.detail["read"] == "in place" and audit.detail["files"] > 0
