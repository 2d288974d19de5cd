"""The reusable workflow, played on this machine (tests/workflow.py): two platforms on two
"runners" (linux/amd64 on the machine's engine for ubuntu-24.04, linux/arm64 on a second
engine for ubuntu-24.04-arm), digest files handed over as artifacts, the merge job's
commands against a local registry, the merged tag checked by digest, one summary. A
platform that fails blocks the tag."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from harness.containers.local_registry import LocalRegistry
from harness.core.outcomes import Exit
from harness.core.platforms.table import parse_platform
from harness.core.reporting import attest
from harness.distribution.registry import Registry, RegistryError
from tests import gitlab
from tests.helpers import FIXTURES, TINY, debian_package, make_tiny_base
from tests.second_engine import second_engine
from tests.workflow import CHECK, Play, load

PYPROJECT = f"""\
[tool.harness]
platforms = ["linux/amd64", "linux/arm64"]
require = []
build-args = {{BASE_IMAGE = "{TINY}"}}
"""
# A declared check that holds on amd64 and not on arm64: the known-bad run.
WRONG_ON_ARM64 = """
[tool.harness.checks.built-on-amd64]
command = "cat /built-on"
expect = "amd64"
"""


@pytest.fixture(scope="module")
def arm_runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The "ubuntu-24.04-arm" runner's engine: a second engine with the arm64 base."""
    with second_engine(tmp_path_factory.mktemp("arm-runner"), bridge="harness-br31",
                       address="172.30.31.1/24") as url:
        client = docker.DockerClient(base_url=url)
        make_tiny_base(client, parse_platform("linux/arm64"))
        client.close()
        yield url


def project(where: Path, extra: str = "") -> Path:
    where.mkdir(parents=True)
    (where / "pyproject.toml").write_text(PYPROJECT + extra)
    shutil.copy(FIXTURES / "tiny" / "Dockerfile", where / "Dockerfile")
    return where


def play(checkout: Path, work: Path, registry: str, arm_runner: str,
         inputs: dict[str, Any] | None = None, secrets: dict[str, str] | None = None,
         github: dict[str, str] | None = None) -> Play:
    run = Play(checkout, work, inputs={"registry": registry, "tags": "1.0 latest",
                                       **(inputs or {})},
               runners={"ubuntu-24.04": {}, "ubuntu-24.04-arm": {"DOCKER_HOST": arm_runner}},
               secrets=secrets or {}, github=github or {})
    run.all()
    return run


def summary(run: Play) -> tuple[str, dict[str, Any]]:
    [job] = run.runs["summary"]
    report: dict[str, Any] = json.loads(
        next((run.work / "runners").glob("summary-*/summary/report.json")).read_text())
    return job.log, report


def test_the_workflow_publishes_a_tag_whose_platforms_all_passed(
        tmp_path: Path, tiny_base: Any, docker_client: docker.DockerClient,
        arm_runner: str) -> None:
    tiny_base("linux/amd64")
    keys = tmp_path / "keys"
    keys.mkdir()
    subprocess.run([debian_package("cosign", "cosign/trixie"), "generate-key-pair"],
                   cwd=keys, env={**os.environ, "COSIGN_PASSWORD": "pw"}, check=True,
                   capture_output=True, timeout=120)
    inputs = {"tag-templates": "type=semver,pattern={{version}}\ntype=raw,value=stable",
              "labels": "dev.example.team=core",
              "annotations": "index:dev.example.index=yes\ndev.example.manifest=yes",
              "sign": True}
    secrets = {"cosign-key": (keys / "cosign.key").read_text(), "cosign-password": "pw",
               "build-secrets": "token=never-shown"}
    with LocalRegistry(docker_client) as local:
        run = play(project(tmp_path / "checkout"), tmp_path / "play", f"{local.host}/app",
                   arm_runner, inputs, secrets, {"GITHUB_REF": "refs/tags/v2.1.0",
                                                 "GITHUB_SHA": "cd" * 20})
        logs = "\n".join(j.log for jobs in run.runs.values() for j in jobs)
        assert all(run.succeeded(job) for job in run.runs), logs[-6000:]
        assert "never-shown" not in logs and "BEGIN ENCRYPTED" not in logs
        # Tags from the plain input and the templates; the index signed, with every
        # manifest, by the caller's key; the annotations where their levels say.
        with Registry(local.host) as reg:
            assert sorted(t for t in reg.tags("app") if not t.startswith("sha256-")) == \
                ["1.0", "2.1.0", "latest", "stable"]
            # Each runner's build cache, beside the image (the cache input's default).
            assert {"linux-amd64", "linux-arm64"} <= set(reg.tags("app-cache"))
        verified = subprocess.run(["cosign", "verify", "--key", str(keys / "cosign.pub"),
                                   "--insecure-ignore-tlog=true", f"{local.host}/app:2.1.0"],
                                  capture_output=True, text=True, check=False, timeout=120)
        assert verified.returncode == 0, verified.stderr
        index = json.loads(subprocess.run(
            ["docker", "buildx", "imagetools", "inspect", "--raw", f"{local.host}/app:stable"],
            capture_output=True, text=True, check=True).stdout)
        assert index["annotations"]["dev.example.index"] == "yes"
        assert "dev.example.manifest" not in index["annotations"]
        assert index["annotations"]["org.opencontainers.image.version"] == "2.1.0"
        assert {leg.matrix["runner"]: leg.matrix["platform"] for leg in run.runs["build"]} \
            == {"ubuntu-24.04": "linux/amd64", "ubuntu-24.04-arm": "linux/arm64"}
        # Each platform was built on its runner's engine, and only there.
        arm = docker.DockerClient(base_url=arm_runner)
        try:
            assert arm.images.get("multiarch-ci/image:linux-arm64").labels[
                "dev.example.team"] == "core"
            with pytest.raises(docker.errors.ImageNotFound):
                arm.images.get("multiarch-ci/image:linux-amd64")
        finally:
            arm.close()
        # The digest files went from the build jobs to the merge job as artifacts.
        assert sorted(p.name for p in (run.work / "artifacts").iterdir()) == [
            "digest-linux-amd64", "digest-linux-arm64", "published-report",
            "report-linux-amd64", "report-linux-arm64"]
        [merge] = run.runs["merge"]
        with Registry(local.host) as reg:
            for tag in ("1.0", "latest"):
                _media, body, digest = reg.get_manifest("app", tag)
                assert digest == merge.outputs["digest"]
        manifests = json.loads(body)["manifests"]
        assert sorted(m["platform"]["architecture"] for m in manifests
                      if not attest.is_attestation(m)) == ["amd64", "arm64"]
        # Each matrix job's attestations, carried by its digest file through the merge.
        assert len([m for m in manifests if attest.is_attestation(m)]) == 2
        # What was published was checked again, by digest.
        published = json.loads(next((run.work / "runners").glob(
            "merge-*/reports/published/report.json")).read_text())
        assert published["index"]["digest"] == merge.outputs["digest"]
        assert {p["platform"]: p["verdict"] for p in published["platforms"]} == {
            "linux/amd64": "pass", "linux/arm64": "pass"}
    text, report = summary(run)
    assert "**All 2 platforms passed.**" in text
    assert {p["platform"]: p["verdict"] for p in report["platforms"]} == {
        "linux/amd64": "pass", "linux/arm64": "pass"}
    assert "::error" not in text and "::warning" not in text


def test_a_platform_that_fails_moves_no_tag_and_is_annotated(
        tmp_path: Path, tiny_base: Any, docker_client: docker.DockerClient,
        arm_runner: str) -> None:
    tiny_base("linux/amd64")
    with LocalRegistry(docker_client) as local:
        run = play(project(tmp_path / "checkout", WRONG_ON_ARM64), tmp_path / "play",
                   f"{local.host}/app", arm_runner)
        by = {leg.matrix["platform"]: leg for leg in run.runs["build"]}
        assert by["linux/amd64"].ok and not by["linux/arm64"].ok
        assert dict(by["linux/arm64"].steps)["Push by digest"] == "skipped"
        assert dict(by["linux/arm64"].steps)["Upload the report"] == "ran"
        [merge] = run.runs["merge"]
        assert not merge.ok and merge.log == "skipped: a job it needs failed"
        with Registry(local.host) as reg, pytest.raises(RegistryError):
            reg.get_manifest("app", "1.0")
    [job] = run.runs["summary"]
    assert not job.ok  # the run fails with the harness's own status
    text, report = summary(run)
    assert report["exit_status"] == Exit.IMAGE_WRONG
    [annotation] = [line for line in text.splitlines() if line.startswith("::")]
    assert annotation.startswith("::error title=linux/arm64%3A the image is wrong (fail)::")
    assert "**Release blocked: the image is wrong** on `linux/arm64`" in text


def buildx(*args: str) -> None:
    done = subprocess.run(["docker", "buildx", *args], capture_output=True, text=True,
                          check=False, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.fixture(scope="module")
def foreign_index(tmp_path_factory: pytest.TempPathFactory, tiny_base: Any,
                  docker_client: docker.DockerClient) -> Iterator[tuple[str, str]]:
    """(registry host, index digest) of an index someone else built: plain `docker buildx
    build` a platform at a time (this machine's docker driver cannot push a multi-platform
    build at once), each pushed by tag, `imagetools create` the index. Its arm64 image
    carries an x86_64 program."""
    tmp = tmp_path_factory.mktemp("foreign-index")
    context = tmp / "context"
    shutil.copytree(FIXTURES / "foreign-binary", context)
    (tmp / "tool.c").write_text("int main(void) { return 0; }\n")
    subprocess.run(["gcc", "-static", "-Os", "-o", str(context / "tool"), str(tmp / "tool.c")],
                   check=True)
    with LocalRegistry(docker_client) as local:
        sources = []
        for name in ("linux/amd64", "linux/arm64"):
            tag = f"{local.host}/app:{parse_platform(name).slug}"
            try:
                buildx("build", "--platform", name, "--load", "-t", tag,
                       "--build-arg", f"BASE_IMAGE={tiny_base(name)}", str(context))
                docker_client.images.push(tag)
            finally:
                docker_client.images.remove(tag, force=True)
            sources.append(tag)
        buildx("imagetools", "create", "-t", f"{local.host}/app:1.0", *sources)
        with Registry(local.host) as reg:
            _media, _body, digest = reg.get_manifest("app", "1.0")
        yield local.host, digest


def checkout(where: Path) -> Path:
    """The caller's repository: only its [tool.harness] (no Dockerfile: check needs none)."""
    where.mkdir()
    (where / "pyproject.toml").write_text("[tool.harness]\nrequire = []\n")
    return where


def blocked_on_arm64(report_json: Path) -> None:
    """The merged report of a check of the foreign index: arm64 fails (its x86_64 program),
    amd64 passes."""
    report = json.loads(report_json.read_text())
    assert report["exit_status"] == Exit.IMAGE_WRONG
    assert {p["platform"]: p["verdict"] for p in report["platforms"]} == {
        "linux/amd64": "pass", "linux/arm64": "fail"}
    arm = next(p for p in report["platforms"] if p["platform"] == "linux/arm64")
    assert [f["source"] for f in arm["findings"] if f["kind"] == "mismatch"] == ["elf-audit"]


def test_the_check_workflow_gates_an_index_someone_else_built(
        tmp_path: Path, foreign_index: tuple[str, str]) -> None:
    """check.yml, given the index as docker/github-builder's outputs name it (digest and
    meta-json), checks each platform by digest on its runner (both labels on this machine's
    engine: arm64 under QEMU), merges the reports and blocks on arm64 only."""
    host, digest = foreign_index
    outputs = {"digest": digest, "output-type": "image", "signed": "false",
               "meta-json": json.dumps({"tags": [f"{host}/app:1.0"], "labels": {},
                                        "annotations": []})}
    run = Play(checkout(tmp_path / "checkout"), tmp_path / "play",
               inputs={"builder-outputs": json.dumps(outputs)},
               runners={"ubuntu-24.04": {}, "ubuntu-24.04-arm": {}}, workflow=load(CHECK))
    run.all()
    logs = "\n".join(j.log for jobs in run.runs.values() for j in jobs)
    [matrix] = run.runs["matrix"]
    assert matrix.ok, logs[-6000:]
    # Pinned once, by digest; the platforms and their runners from the index itself.
    assert matrix.outputs["ref"] == f"{host}/app@{digest}"
    by = {leg.matrix["platform"]: leg for leg in run.runs["check"]}
    assert {p: leg.matrix["runner"] for p, leg in by.items()} == {
        "linux/amd64": "ubuntu-24.04", "linux/arm64": "ubuntu-24.04-arm"}
    assert by["linux/amd64"].ok, by["linux/amd64"].log[-4000:]
    assert not by["linux/arm64"].ok
    assert dict(by["linux/arm64"].steps)["Upload the report"] == "ran"
    for leg in run.runs["check"]:
        [report_file] = (run.work / "runners").glob(f"check-*/reports/{leg.matrix['slug']}/"
                                                    "report.json")
        assert json.loads(report_file.read_text())["index"]["digest"] == digest
    [job] = run.runs["summary"]
    assert not job.ok  # the gate: the harness's exit status
    text, _report = summary(run)
    blocked_on_arm64(next((run.work / "runners").glob("summary-*/summary/report.json")))
    [annotation] = [line for line in text.splitlines() if line.startswith("::")]
    assert annotation.startswith("::error title=linux/arm64%3A the image is wrong (fail)::")
    assert "/usr/local/bin/tool" in text
    # The ref input instead: its tag pinned to the same digest; a digest the registry does
    # not hold is bad input, one line.
    pin = subprocess.run([sys.executable, "-m", "harness", "matrix", "--pin", f"{host}/app:1.0"],
                         capture_output=True, text=True, check=False, timeout=60)
    assert pin.stdout.strip() == f"{host}/app@{digest}", pin.stderr
    unknown = subprocess.run([sys.executable, "-m", "harness", "matrix", "--pin",
                              f"{host}/app@sha256:{'0' * 64}"],
                             capture_output=True, text=True, check=False, timeout=60)
    assert unknown.returncode == Exit.USAGE and not unknown.stdout, unknown.stderr
    assert "nothing is published under" in unknown.stderr


def test_the_gitlab_template_gates_an_index_someone_else_built(
        tmp_path: Path, foreign_index: tuple[str, str]) -> None:
    """The GitLab template played (tests/gitlab.py): the pin job hands the digest on as a
    dotenv, a job per platform on its runner tag (both on this machine's engine), the
    report job needs them all, runs though one failed, and blocks on arm64 only."""
    host, digest = foreign_index
    run = gitlab.Play(checkout(tmp_path / "checkout"), tmp_path / "play",
                      variables={"MULTIARCH_REF": f"{host}/app:1.0",
                                 # preflight registered QEMU; no registry login here
                                 "MULTIARCH_BINFMT_IMAGE": "", "MULTIARCH_REGISTRY_USER": ""},
                      runners={"saas-linux-small-amd64": {}, "saas-linux-small-arm64": {},
                               "default": {}})
    run.all()
    logs = "\n".join(leg.log for legs in run.runs.values() for leg in legs)
    [pin] = run.runs["multiarch-check:pin"]
    assert pin.ok and pin.dotenv == {"MULTIARCH_PINNED": f"{host}/app@{digest}"}, logs[-6000:]
    [amd64] = run.runs["multiarch-check"]
    [arm64] = run.runs["multiarch-check:arm64"]
    assert amd64.matrix == {"PLATFORM": "linux/amd64"} and amd64.ok, amd64.log[-4000:]
    assert arm64.matrix == {"PLATFORM": "linux/arm64"} and not arm64.ok
    assert arm64.artifacts and (arm64.artifacts / "reports" / "linux-arm64" /
                                "junit.xml").exists()  # kept though it failed
    [report] = run.runs["multiarch-check:report"]
    assert not report.ok, report.log[-4000:]  # the gate
    blocked_on_arm64(next((run.work / "runners").glob(
        "multiarch-check-report-*/summary/report.json")))
