"""Bake definitions built and checked end to end: one target (`multiarch-harness build
--bake FILE TARGET`, the target's dockerfile, context, stage, args and labels the run's, on a
tiny base the target's args name), and several in one run, one report."""

from __future__ import annotations

import json
import platform
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import docker
import pytest

from harness.core.outcomes import Exit
from tests.helpers import TINY, run_harness

# The target's secret is tested by a RUN step of the stage it builds (the compose case, which
# names no secret, builds it without the mount).
SECRET_STEP = 'RUN --mount=type=secret,id=token test "$(cat /run/secrets/token)" = s3cret && '
DOCKERFILE = f"""\
ARG BASE_IMAGE
FROM ${{BASE_IMAGE}} AS final
ARG GREETING=unset
LABEL org.example.greeting=$GREETING
{SECRET_STEP}echo "$GREETING" > /greeting
FROM ${{BASE_IMAGE}} AS other
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
  secret = ["id=token,src=token.txt"]
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
    (tmp_path / "token.txt").write_text("s3cret")  # the target's secret: the RUN step tests it
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


COMPOSE = f"""\
services:
  web:
    build:
      context: ./app
      dockerfile: web.Dockerfile
      target: final
      args:
        BASE_IMAGE: "{TINY}"
        GREETING: hello-from-compose
      x-bake:
        platforms: ["linux/x86-64", "linux/arm64/v8"]
  db:
    image: postgres:16
"""


def test_a_compose_service_goes_through_the_same_reader_and_run(
        tmp_path: Path, tiny_base: Callable[[str], str],
        docker_client: docker.DockerClient) -> None:
    tiny_base("linux/amd64")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "web.Dockerfile").write_text(DOCKERFILE.replace(SECRET_STEP, "RUN "))
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    reports = tmp_path / "reports"
    # one xdist worker: it reads the definition again, as the controller did
    run = run_harness("--bake", "compose.yaml", "--platform=linux/amd64", "-n", "1",
                      f"--report-dir={reports}", "--require=", cwd=tmp_path, timeout=600)
    assert run.returncode == Exit.OK, run.stdout + run.stderr
    entry = json.loads((reports / "report.json").read_text())["platforms"][0]
    assert (entry["platform"], entry["verdict"]) == ("linux/amd64", "pass")
    assert entry["image"]["tag"].startswith("harness/web:linux-amd64-")
    labels = docker_client.images.get(entry["image"]["id"]).labels
    assert labels["org.example.greeting"] == "hello-from-compose"


# Two targets of one Dockerfile: the worker's argument leaves a file the project's own check
# forbids, so the worker fails and the app passes, in one run with one report.
TWO_DOCKERFILE = """\
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
ARG LEFTOVER=
RUN if [ -n "$LEFTOVER" ]; then echo "$LEFTOVER" > /leftover; fi
"""
TWO = f"""\
group "default" {{
  targets = ["app", "worker"]
}}
target "app" {{
  context = "src"
  platforms = ["linux/amd64"]
  args = {{ BASE_IMAGE = "{TINY}" }}
}}
target "worker" {{
  inherits = ["app"]
  args = {{ LEFTOVER = "debug-build" }}
}}
"""
CHECK = """\
def test_no_leftover(image):
    assert image.run("test ! -e /leftover").status == 0, "a debug build's file is left"
"""


def test_two_targets_are_one_run_where_the_bad_one_fails_alone(
        tmp_path: Path, tiny_base: Callable[[str], str]) -> None:
    tiny_base("linux/amd64")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "Dockerfile").write_text(TWO_DOCKERFILE)
    (tmp_path / "docker-bake.hcl").write_text(TWO)
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "test_leftover.py").write_text(CHECK)
    reports = tmp_path / "reports"
    run = run_harness("--bake", "docker-bake.hcl", "--checks=checks", "-n", "2",
                      f"--report-dir={reports}", "--require=", cwd=tmp_path, timeout=600)
    out = run.stdout + run.stderr
    assert run.returncode == Exit.IMAGE_WRONG, out
    # One line at the start names the units; the refusal of several targets is gone.
    assert ("--bake: 2 units of work (2 targets by platform): app-linux/amd64, "
            "worker-linux/amd64") in run.stdout.splitlines(), out
    assert "one target per run" not in out
    data = json.loads((reports / "report.json").read_text())
    assert (data["verdict"], data["exit_status"]) == ("fail", 1)
    entries = {(e["target"], e["platform"]): e for e in data["platforms"]}
    assert sorted(entries) == [("app", "linux/amd64"), ("worker", "linux/amd64")]
    app, worker = entries["app", "linux/amd64"], entries["worker", "linux/amd64"]
    assert (app["verdict"], worker["verdict"]) == ("pass", "fail"), out
    # Each built with its own target's settings, under its own local name.
    assert app["image"]["tag"].startswith("harness/app:linux-amd64-")
    assert worker["image"]["tag"].startswith("harness/worker:linux-amd64-")
    assert app["image"]["id"] != worker["image"]["id"]
    assert [f["source"] for f in worker["findings"] if f["kind"] != "absent"] == [
        "pytest:checks/test_leftover.py::test_no_leftover"]
    # Test ids and JUnit carry the target; status files and logs are the unit's.
    junit = (reports / "junit.xml").read_text()
    assert "test_builds[app-linux/amd64]" in junit and "test_builds[worker-linux/amd64]" in junit
    assert "test_no_leftover[worker-linux/amd64]" in junit
    assert {p.name for p in (reports / "status").glob("*.json")} >= {
        "app-linux-amd64.json", "worker-linux-amd64.json"}
    assert (reports / "logs" / "worker-linux-amd64-build.log").is_file()
    # The report shows targets by platform.
    assert "| `worker` | ❌ fail |" in (reports / "report.md").read_text()


# The case: a target carrying a program of the wrong architecture fails on arm64
# alone; the same target on amd64, and the other target on both, pass.
STAGES = """\
ARG BASE_IMAGE
FROM ${BASE_IMAGE} AS app
FROM app AS tools
COPY tool /usr/local/bin/tool
"""
TOOLS = f"""\
group "default" {{
  targets = ["app", "tools"]
}}
target "app" {{
  context = "src"
  target = "app"
  platforms = ["linux/x86_64", "linux/arm64/v8"]
  args = {{ BASE_IMAGE = "{TINY}" }}
}}
target "tools" {{
  inherits = ["app"]
  target = "tools"
}}
"""


@pytest.mark.skipif(platform.machine() != "x86_64" or shutil.which("gcc") is None,
                    reason="needs this machine's gcc to make an x86-64 program")
def test_a_program_of_the_wrong_architecture_fails_its_target_on_arm64_alone(
        tmp_path: Path, tiny_base: Callable[[str], str]) -> None:
    for name in ("linux/amd64", "linux/arm64"):
        tiny_base(name)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "Dockerfile").write_text(STAGES)
    (tmp_path / "main.c").write_text("int main(void) { return 0; }\n")
    subprocess.run(["gcc", "-static", "-Os", "-o", str(tmp_path / "src" / "tool"),
                    str(tmp_path / "main.c")], check=True)  # this machine's: x86-64
    (tmp_path / "docker-bake.hcl").write_text(TOOLS)
    reports = tmp_path / "reports"
    run = run_harness("--bake", "docker-bake.hcl", "-n", "auto", f"--report-dir={reports}",
                      "--require=", cwd=tmp_path, timeout=900)
    out = run.stdout + run.stderr
    assert run.returncode == Exit.IMAGE_WRONG, out
    data = json.loads((reports / "report.json").read_text())
    verdicts = {(e["target"], e["platform"]): e["verdict"] for e in data["platforms"]}
    assert verdicts == {("app", "linux/amd64"): "pass", ("app", "linux/arm64"): "pass",
                        ("tools", "linux/amd64"): "pass", ("tools", "linux/arm64"): "fail"}, out
    [bad] = [e for e in data["platforms"] if (e["target"], e["platform"]) ==
             ("tools", "linux/arm64")]
    assert "elf-audit" in {f["source"] for f in bad["findings"] if f["kind"] != "absent"}, bad
