"""--cache: every platform's build cache in a registry, read on a new engine (an empty data
root, as a fresh CI runner has) before the build and written after a good one; the base the
harness made travels with it (harness.core.buildspec.buildcache)."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from harness.containers.local_registry import LocalRegistry
from harness.core.outcomes import Exit
from harness.distribution.registry import Registry
from tests.helpers import FIXTURES, TINY, run_harness
from tests.second_engine import second_engine

DOCKERFILE = FIXTURES / "cached" / "Dockerfile"


@pytest.fixture(scope="module")
def registry(docker_client: docker.DockerClient) -> Iterator[LocalRegistry]:
    with LocalRegistry(docker_client) as reg:
        yield reg


def build(report: Path, cache: str, stamp: str, env: dict[str, str] | None = None,
          *extra: str) -> dict[str, Any]:
    run = run_harness("--platform=linux/amd64", f"--dockerfile={DOCKERFILE}",
                      f"--report-dir={report}", "--image=harness-test/cached", "--require=",
                      f"--build-arg=BASE_IMAGE={TINY}", f"--build-arg=STAMP={stamp}",
                      f"--cache={cache}", *extra, env=env)
    assert run.returncode == Exit.OK, run.stdout[-3000:]
    found: dict[str, Any] = json.loads((report / "report.json").read_text())["platforms"][0]
    return found


def run_steps(entry: dict[str, Any]) -> dict[str, list[str]]:
    """The RUN steps of the build, by phase name: "step" (run) or "cached"."""
    found: dict[str, list[str]] = {"step": [], "cached": []}
    for phase in entry["phases"]:
        if phase["name"] in found and "RUN" in phase.get("label", ""):
            found[phase["name"]].append(phase["label"])
    return found


def test_a_new_engine_builds_from_the_cache_of_an_earlier_run(
        registry: LocalRegistry, tiny_base: Callable[[str], str], tmp_path: Path) -> None:
    tiny_base("linux/amd64")
    cache, stamp = f"{registry.host}/build-cache", uuid.uuid4().hex
    first = build(tmp_path / "first", cache, stamp)
    # Known bad for the marks: the first build ran its steps (STAMP is new).
    assert len(run_steps(first)["step"]) == 2 and run_steps(first)["cached"] == []
    assert any(p["name"] == "cache" for p in first["phases"])
    with Registry(registry.host) as reg:
        tags = reg.tags("build-cache")
    assert "linux-amd64" in tags  # the build's inline cache, in the pushed image's config
    assert any(t.startswith("base-harness-tiny-bookworm-linux-amd64") for t in tags)

    with second_engine(tmp_path / "new", system=True, bridge="harness-br33",
                       address="172.30.33.1/24") as url:
        again = build(tmp_path / "again", cache, stamp, {"DOCKER_HOST": url})
        client = docker.DockerClient(base_url=url)
        try:
            assert client.images.get("harness-test/cached:linux-amd64")
        finally:
            client.close()
    base_log = Path(again["build"]["log"]).parent / "linux-amd64-base.log"
    assert "taken from the cache" in base_log.read_text()
    # Built from the cache, it is the cache's image: nothing is written again.
    assert "holds harness-test/cached:linux-amd64 already" in base_log.read_text()
    # Every RUN step came from the cache: none ran on the new engine.
    assert run_steps(again) == {"step": [], "cached": run_steps(first)["step"]}
    assert again["verdict"] == first["verdict"] == "pass"


def test_a_cache_registry_that_never_answers_costs_the_build_nothing(
        tiny_base: Callable[[str], str], tmp_path: Path) -> None:
    tiny_base("linux/amd64")
    # Connections complete (the kernel's backlog) and nothing ever answers: before the
    # registry was asked with a deadline, buildx waited on it for ever.
    with socket.create_server(("127.0.0.1", 0), backlog=128) as silent:
        cache = f"127.0.0.1:{silent.getsockname()[1]}/build-cache"
        report = tmp_path / "r"
        start = time.monotonic()
        run = run_harness("--platform=linux/amd64", f"--dockerfile={DOCKERFILE}",
                          f"--report-dir={report}", "--image=harness-test/cached", "--require=",
                          f"--build-arg=BASE_IMAGE={TINY}",
                          f"--build-arg=STAMP={uuid.uuid4().hex}", f"--cache={cache}",
                          timeout=400)
        took = time.monotonic() - start
    assert run.returncode == Exit.OK, run.stdout[-3000:]
    entry = json.loads((report / "report.json").read_text())["platforms"][0]
    assert entry["verdict"] == "pass"
    base_log = Path(entry["build"]["log"]).parent / "linux-amd64-base.log"
    assert f"cache: {cache} left out of this run, its registry does not answer: registry " \
        f"{cache.split('/')[0]} cannot be reached" in base_log.read_text()
    assert not any(p["name"] == "cache" for p in entry["phases"])  # nothing written
    assert took < 200, took


CONTAINERD_STORE = {"features": {"containerd-snapshotter": True}}


def test_docker_26_with_containerd_s_store_writes_a_registry_cache(
        registry: LocalRegistry, tiny_base: Callable[[str], str], tmp_path: Path) -> None:
    """Where the engine's BuildKit can export a registry cache (images in containerd's store),
    every stage's cache is written there (mode=max), not carried by the image."""
    base = tiny_base("linux/amd64")
    cache, stamp = f"{registry.host}/cache-26", uuid.uuid4().hex
    with second_engine(tmp_path / "a", config=CONTAINERD_STORE, bridge="harness-br34",
                       address="172.30.34.1/24") as url:
        subprocess.run(f"docker save {base} | docker -H {url} load", shell=True, check=True,
                       capture_output=True)
        first = build(tmp_path / "first", cache, stamp, {"DOCKER_HOST": url})
    assert len(run_steps(first)["step"]) == 2
    with Registry(registry.host) as reg:
        media, body, _ = reg.get_manifest("cache-26", "linux-amd64")
    # BuildKit's own cache manifest, not an image: what only a registry export writes.
    assert media == "application/vnd.oci.image.index.v1+json"
    assert "application/vnd.buildkit.cacheconfig.v0" in body.decode()
    with second_engine(tmp_path / "b", config=CONTAINERD_STORE, bridge="harness-br34",
                       address="172.30.34.1/24") as url:
        again = build(tmp_path / "again", cache, stamp, {"DOCKER_HOST": url})
    assert run_steps(again) == {"step": [], "cached": run_steps(first)["step"]}
