"""One target of a Bake definition built and checked end to end: `multiarch-harness build
--bake FILE TARGET`, the target's dockerfile, context, stage, args and labels the run's, on a
tiny base the target's args name."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import docker

from harness.core.outcomes import Exit
from tests.helpers import TINY, run_harness

DOCKERFILE = """\
ARG BASE_IMAGE
FROM ${BASE_IMAGE} AS final
ARG GREETING=unset
LABEL org.example.greeting=$GREETING
RUN echo "$GREETING" > /greeting
FROM ${BASE_IMAGE} AS other
LABEL org.example.greeting=wrong-stage
"""
BAKE = f"""\
target "docker-metadata-action" {{}}
group "default" {{
  targets = ["greeter", "other"]
}}
target "greeter" {{
  inherits = ["docker-metadata-action"]
  context = "src"
  dockerfile = "greeter.Dockerfile"
  target = "final"
  platforms = ["linux/x86_64", "linux/arm64/v8"]
  args = {{ BASE_IMAGE = "{TINY}", GREETING = "hello-from-bake" }}
  labels = {{ "org.example.target" = "greeter" }}
  annotations = ["index:org.opencontainers.image.title=greeter"]
}}
target "other" {{
  inherits = ["greeter"]
  target = "other"
}}
"""


def test_one_bake_target_is_built_and_checked_with_its_own_settings(
        tmp_path: Path, tiny_base: Callable[[str], str],
        docker_client: docker.DockerClient) -> None:
    tiny_base("linux/amd64")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "greeter.Dockerfile").write_text(DOCKERFILE)
    (tmp_path / "docker-bake.hcl").write_text(BAKE)
    reports = tmp_path / "reports"
    run = run_harness("--bake", "docker-bake.hcl", "greeter", "--platform", "linux/amd64",
                      f"--report-dir={reports}", "--require=", cwd=tmp_path, timeout=600)
    assert run.returncode == Exit.OK, run.stdout + run.stderr
    # What of the target this version does not apply is said, in one line, at the start.
    assert ("--bake: target greeter: not applied by this version: annotations (see "
            "docs/guide/your-project.md, Bake and Compose)") in run.stdout.splitlines()
    data = json.loads((reports / "report.json").read_text())
    # --platform overrides the target's two platforms, as an option given always does.
    assert [p["platform"] for p in data["platforms"]] == ["linux/amd64"]
    entry = data["platforms"][0]
    assert entry["verdict"] == "pass"
    assert entry["image"]["tag"].startswith("harness/greeter:linux-amd64-")  # the target's
    labels = docker_client.images.get(entry["image"]["id"]).labels
    # The target's args reached its stage (not the other's), and its labels the image.
    assert labels["org.example.greeting"] == "hello-from-bake"
    assert labels["org.example.target"] == "greeter"


def test_a_definition_of_two_targets_is_refused_naming_them(tmp_path: Path) -> None:
    (tmp_path / "docker-bake.hcl").write_text(BAKE)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "greeter.Dockerfile").write_text(DOCKERFILE)
    run = run_harness("--bake", "docker-bake.hcl", f"--report-dir={tmp_path / 'r'}",
                      cwd=tmp_path, timeout=120)
    assert run.returncode == Exit.USAGE, run.stdout + run.stderr
    assert ("--bake: the definition resolves to 2 targets (greeter, other); this version "
            "builds one target per run") in run.stdout + run.stderr
    assert "--bake FILE greeter" in run.stdout + run.stderr
