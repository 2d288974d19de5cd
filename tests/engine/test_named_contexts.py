"""Unmodified Dockerfiles: a plain `FROM debian:…` in every stage is served from the harness's
per-platform bases through BuildKit's named build contexts, on a current engine (Docker 26,
started beside the machine's 20.10 for these tests), with no registry reachable; on 20.10,
which cannot, the user is told to declare ARG BASE_IMAGE."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from harness.containers import bases
from harness.core.outcomes import Exit
from harness.core.platforms.table import parse_platform
from harness.machine.debian import debian_mirror
from tests.helpers import TINY_EXTRA, run_harness
from tests.second_engine import second_engine

PLATFORMS = ("linux/amd64", "linux/arm64")
# Two stages, both FROM the same Debian image, neither taking a build argument.
DOCKERFILE = """\
FROM debian:bookworm-slim AS build
RUN /usr/bin/dpkg --print-architecture > /built-for
FROM debian:bookworm-slim
COPY --from=build /built-for /built-for
RUN test "$(cat /built-for)" = "$(/usr/bin/dpkg --print-architecture)"
"""


@pytest.fixture(scope="module")
def engine26(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Docker 26 beside the machine's engine, holding a small bookworm base per platform
    under the harness's own tag for debian:bookworm-slim (made by the harness's bootstrap)."""
    with second_engine(tmp_path_factory.mktemp("engine26")) as url:
        client = docker.DockerClient(base_url=url)
        mirror = debian_mirror()
        assert mirror
        for name in PLATFORMS:
            platform = parse_platform(name)
            bases.bootstrap(client, "bookworm", platform,
                            bases.local_tag("debian:bookworm-slim", platform), mirror=mirror,
                            variant="extract", extra=TINY_EXTRA, say=lambda _line: None)
        client.close()
        yield url


def project(tmp_path: Path) -> Path:
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    return tmp_path / "Dockerfile"


def report(where: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((where / "report.json").read_text())
    return data


def test_debian_froms_are_served_from_the_platforms_bases_on_docker_26(
        tmp_path: Path, engine26: str, docker_client: docker.DockerClient) -> None:
    dockerfile = project(tmp_path)
    run = run_harness(*(f"--platform={p}" for p in PLATFORMS), f"--dockerfile={dockerfile}",
                      f"--report-dir={tmp_path / 'r'}", "--image=harness-test/contexts",
                      "--require=", "--builder=buildx", "--offline-bases", "-n", "2",
                      env={"DOCKER_HOST": engine26})
    assert run.returncode == Exit.OK, run.stdout[-4000:]
    data = report(tmp_path / "r")
    assert data["host"]["engine_version"].startswith("26.")
    for p in data["platforms"]:
        platform = parse_platform(p["platform"])
        assert p["verdict"] == "pass"
        # The report says which base each FROM got.
        assert p["build"]["bases"] == {
            "debian:bookworm-slim": bases.local_tag("debian:bookworm-slim", platform)}
        assert p["observed"]["dpkg"]["value"] == platform.dpkg_arch
        log = (tmp_path / "r" / "logs" / f"{platform.slug}-build.log").read_text()
        assert "--build-context debian:bookworm-slim=docker-image://harness.invalid/base/" \
            in log
    # Built on engine 26, not on the machine's own.
    other = docker.DockerClient(base_url=engine26)
    try:
        assert other.images.get("harness-test/contexts:linux-arm64")
    finally:
        other.close()
    with pytest.raises(docker.errors.ImageNotFound):
        docker_client.images.get("harness-test/contexts:linux-arm64")


def test_on_docker_20_10_offline_bases_for_a_plain_from_say_to_declare_base_image(
        tmp_path: Path) -> None:
    dockerfile = project(tmp_path)
    run = run_harness("--platform=linux/amd64", f"--dockerfile={dockerfile}",
                      f"--report-dir={tmp_path / 'r'}", "--image=harness-test/contexts",
                      "--require=", "--offline-bases")
    assert run.returncode == Exit.USAGE, run.stdout[-4000:]
    [finding] = report(tmp_path / "r")["platforms"][0]["findings"]
    assert "named build contexts need BuildKit through buildx on Docker 23" in \
        finding["message"]
    assert "ARG BASE_IMAGE" in finding["fix"]
