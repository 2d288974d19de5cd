"""Known-bad images: each must come out `fail`, blamed on the source that shows the fault."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import docker
import pytest

from harness.containers import bases, build, engine, image_layers, probes
from harness.core.answers.origins import Step
from harness.core.judging.verdicts import Judgement, judge
from harness.core.outcomes import Verdict
from harness.core.platforms.table import parse_platform
from harness.machine.host import read_handlers, run_mode
from tests.helpers import TINY, TINY_RPM, make_tiny_base

FIXTURES = Path(__file__).parents[1] / "fixtures"


@pytest.fixture
def built(docker_client: docker.DockerClient) -> Iterator[Callable[..., str]]:
    """Build a fixture with the classic builder; every image made is removed afterwards."""
    made: list[str] = []

    def make(context: Path, name: str, tag: str, base: str | None = None) -> str:
        made.append(tag)
        req = build.BuildRequest(platform=parse_platform(name), dockerfile=context / "Dockerfile",
                                 context=context, tag=tag, log_path=context / "build.log",
                                 build_args={"BASE_IMAGE": base} if base else {})
        return build.ClassicBuilder(docker_client).build(req).tag

    yield make
    for tag in made:
        if engine.image_exists(docker_client, tag):
            docker_client.images.remove(tag, force=True)


def check(client: docker.DockerClient, tag: str, name: str) -> Judgement:
    platform = parse_platform(name)
    found = probes.observe(client, tag, platform).observations
    return judge(platform, found, client.info()["Architecture"],
                 run_mode(platform, client.info()["Architecture"], read_handlers()))


def failed_sources(got: Judgement) -> set[str]:
    return {f.source for f in got.findings if f.verdict == Verdict.FAIL}


@pytest.mark.parametrize(("base", "userland"), [(TINY, "dpkg"), (TINY_RPM, "rpm")])
def test_arm64_label_on_an_amd64_userland(docker_client: docker.DockerClient,
                                          built: Callable[..., str], tmp_path: Path,
                                          base: str, userland: str) -> None:
    """Config says linux/arm64; the userland (dpkg, or rpm where there is no dpkg), /bin/sh
    and uname say amd64."""
    context = tmp_path / "ctx"
    shutil.copytree(FIXTURES / "wrong-userland", context)
    amd64 = make_tiny_base(docker_client, parse_platform("linux/amd64"), base)
    container = docker_client.containers.create(amd64, command=["true"])
    try:
        with (context / "rootfs.tar").open("wb") as fh:
            for chunk in container.export():
                fh.write(chunk)
    finally:
        container.remove(force=True)
    tag = built(context, "linux/arm64", "harness-test/wrong-userland:linux-arm64")
    assert bases.matches(docker_client, tag, parse_platform("linux/arm64"))  # the label lies
    got = check(docker_client, tag, "linux/arm64")
    assert got.verdict == Verdict.FAIL
    assert failed_sources(got) >= {userland, "sh-elf"}
    assert "config" not in failed_sources(got)
    [seen] = got.for_source(userland)
    assert "linux/amd64" in seen.message and "linux/arm64" in seen.message and seen.fix


def test_x86_64_toolchain_in_a_386_image(docker_client: docker.DockerClient,
                                         tiny_base: Callable[[str], str],
                                         built: Callable[..., str],
                                         fake_rustc: Callable[[str], Path]) -> None:
    """The state rustup#1282 left 32-bit images in: an x86_64 rustc over an i386 userland."""
    context = fake_rustc("x86_64-unknown-linux-gnu")
    tag = built(context, "linux/386", "harness-test/wrong-rustc:linux-386", tiny_base("linux/386"))
    got = check(docker_client, tag, "linux/386")
    assert got.verdict == Verdict.FAIL
    assert failed_sources(got) == {"rustc", "rustc-elf", "elf-audit"}
    assert "/usr/bin/rustc (ELF 64-bit LSB x86-64)" in got.for_source("elf-audit")[0].message
    [rustc] = got.for_source("rustc")
    assert "x86_64-unknown-linux-gnu" in rustc.message and "linux/amd64" in rustc.message
    assert [f.verdict for f in got.for_source("uname")] == [Verdict.QUIRK]  # still only a quirk


def test_a_rustc_that_names_the_right_triple_but_is_another_binary(
        docker_client: docker.DockerClient, tiny_base: Callable[[str], str],
        built: Callable[..., str], fake_rustc: Callable[[str], Path]) -> None:
    """Its answer agrees, its ELF header does not: only reading the binary shows it."""
    context = fake_rustc("aarch64-unknown-linux-gnu")
    tag = built(context, "linux/arm64", "harness-test/lying-rustc:linux-arm64",
                tiny_base("linux/arm64"))
    got = check(docker_client, tag, "linux/arm64")
    assert got.verdict == Verdict.FAIL
    assert failed_sources(got) == {"rustc-elf", "elf-audit"}
    assert "x86-64" in got.for_source("rustc-elf")[0].message


def test_a_copied_file_of_another_architecture_names_its_copy_line(
        docker_client: docker.DockerClient, tiny_base: Callable[[str], str],
        built: Callable[..., str], tmp_path: Path) -> None:
    """A static x86_64 program copied into an arm64 image (the classic builder's history:
    ``/bin/sh -c #(nop) COPY file:... in ...``): the finding names the file and the COPY
    line of the Dockerfile that brought it; the base's files are the FROM line's."""
    context = tmp_path / "ctx"
    shutil.copytree(FIXTURES / "foreign-binary", context)
    source = tmp_path / "tool.c"
    source.write_text("int main(void) { return 0; }\n")
    subprocess.run(["gcc", "-static", "-Os", "-o", str(context / "tool"), str(source)],
                   check=True)
    tag = built(context, "linux/arm64", "harness-test/foreign-step:linux-arm64",
                tiny_base("linux/arm64"))
    platform = parse_platform("linux/arm64")
    found = probes.observe(docker_client, tag, platform).observations
    audit = next(o for o in found if o.source == "elf-audit")
    audit.detail["foreign"].append("/bin/busybox (as if foreign)")  # a base file, to name
    dockerfile = image_layers.dockerfile((context / "Dockerfile").read_text(),
                                         context / "Dockerfile", context, None)
    # The engine's save, read by headers; and, as root on this machine's overlay2 engine,
    # the layer directories in place: the same steps either way.
    image_layers.name_steps(docker_client, tag, found, dockerfile)
    assert audit.detail["steps_read"] == "save"
    saved = audit.detail["steps"]
    image_layers.name_steps(docker_client, tag, found, dockerfile, in_place=True)
    if os.geteuid() == 0 and docker_client.info()["Driver"] == "overlay2":
        assert audit.detail["steps_read"] == "in place"
    assert audit.detail["steps"] == saved
    got = judge(platform, found, docker_client.info()["Architecture"],
                run_mode(platform, docker_client.info()["Architecture"], read_handlers()))
    [finding] = got.for_source("elf-audit")
    assert ("/usr/local/bin/tool (ELF 64-bit LSB x86-64), from Dockerfile:6 COPY tool "
            "/usr/local/bin/tool") in finding.message
    assert "/bin/busybox (as if foreign), from Dockerfile:5 FROM ${BASE_IMAGE}" in \
        finding.message
    assert [(s.path, s.line) for s in finding.steps] == [("/usr/local/bin/tool", 6),
                                                          ("/bin/busybox", 5)]
    # Without the Dockerfile (check REF), the image history's own words name the step.
    image_layers.name_steps(docker_client, tag, found, None)
    [step, _base] = [Step.from_dict(s) for s in audit.detail["steps"]]
    assert step.line is None and "COPY" in step.instruction
    assert "/usr/local/bin/tool" in step.instruction
