"""Bake definitions built and checked end to end: one target (`multiarch-harness build
--bake FILE TARGET`, the target's dockerfile, context, stage, args and labels the run's, on a
tiny base the target's args name), and several in one run, one report."""

from __future__ import annotations

import json
import platform
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import docker
import pytest

from harness.containers import engine
from harness.core.outcomes import Exit
from harness.core.platforms.table import parse_platform
from tests.helpers import TINY, make_tiny_base, run_harness
from tests.second_engine import second_engine

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
    assert ("--bake: target greeter: not applied by this version: annotations (publish "
            "--annotation writes them) (see docs/guide/your-project.md, Bake and Compose)"
            ) in run.stdout.splitlines()
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


# A target whose Dockerfile copies from a named context: a local directory of the project.
CONTEXT_DOCKERFILE = """\
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
COPY --from=extra hello.txt /hello.txt
"""
CONTEXT_BAKE = f"""\
target "withfiles" {{
  context = "src"
  platforms = ["linux/x86_64"]
  args = {{ BASE_IMAGE = "{TINY}" }}
  contexts = {{ extra = "extra" }}
}}
"""
CONTEXT_CHECK = """\
[tool.harness.checks.from-context]
command = ["cat", "/hello.txt"]
expect = "hello-from-a-named-context"
"""


def _context_project(tmp_path: Path) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "Dockerfile").write_text(CONTEXT_DOCKERFILE)
    (tmp_path / "extra").mkdir()  # relative to the project, as buildx reads bake's contexts
    (tmp_path / "extra" / "hello.txt").write_text("hello-from-a-named-context\n")
    (tmp_path / "docker-bake.hcl").write_text(CONTEXT_BAKE)
    (tmp_path / "pyproject.toml").write_text(CONTEXT_CHECK)
    return tmp_path / "reports"


def _named_contexts(docker_client: docker.DockerClient) -> bool:
    return engine.has_named_contexts(str(docker_client.version().get("Version", "")))


def test_a_targets_named_context_reaches_the_build_and_its_file_the_image(
        tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """On an engine whose BuildKit takes named contexts (a Docker 26 of the test's own, as this
    machine's engine is 20.10): the target's context is passed to the build, and the file the
    Dockerfile copies from it is in the image, read by a declared check."""
    where = tmp_path_factory.mktemp("engine26-contexts")
    with second_engine(where, bridge="harness-br35", address="172.30.35.1/24") as unix:
        client = docker.DockerClient(base_url=unix)
        try:
            assert engine.has_named_contexts(str(client.version().get("Version", "")))
            make_tiny_base(client, parse_platform("linux/amd64"))
        finally:
            client.close()
        reports = _context_project(tmp_path)
        run = run_harness("--bake", "docker-bake.hcl", "withfiles", f"--report-dir={reports}",
                          "--require=", f"--engine=linux/amd64={unix}", cwd=tmp_path,
                          timeout=600)
    assert run.returncode == Exit.OK, run.stdout + run.stderr
    assert "not applied by this version" not in run.stdout  # contexts are applied
    entry = json.loads((reports / "report.json").read_text())["platforms"][0]
    assert (entry["platform"], entry["verdict"]) == ("linux/amd64", "pass")
    assert entry["engine"]["version"].startswith("26.")
    # The declared check read the file the Dockerfile copied from the named context.
    seen = entry["observed"]["check:from-context"]
    assert "hello-from-a-named-context" in str(seen["value"]), seen


def test_named_contexts_on_an_engine_that_cannot_take_them_are_one_line_exit_4(
        tmp_path: Path, tiny_base: Callable[[str], str],
        docker_client: docker.DockerClient) -> None:
    if _named_contexts(docker_client):
        pytest.skip("the engine takes named contexts: the test above builds with one")
    tiny_base("linux/amd64")
    reports = _context_project(tmp_path)
    run = run_harness("--bake", "docker-bake.hcl", "withfiles", f"--report-dir={reports}",
                      "--require=", cwd=tmp_path, timeout=600)
    assert run.returncode == Exit.USAGE, run.stdout + run.stderr
    said = [line for line in (run.stdout + run.stderr).splitlines()
            if "--build-context: named build contexts need BuildKit" in line]
    assert said and "Docker 23 or later" in said[0], run.stdout + run.stderr
    assert not list((reports / "logs").glob("*-build.log"))  # refused before the build


def test_a_targets_ssh_key_is_forwarded_to_its_run_step(
        tmp_path: Path, tiny_base: Callable[[str], str]) -> None:
    """The RUN step fails unless buildx forwards the target's key as an agent's socket."""
    tiny_base("linux/amd64")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(tmp_path / "key")],
                   check=True)
    (tmp_path / "Dockerfile").write_text(
        'ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n'
        'RUN --mount=type=ssh,id=deploy,required=true test -S "$SSH_AUTH_SOCK" '
        '&& echo ok > /ssh-ok\n')
    (tmp_path / "docker-bake.hcl").write_text(
        f'target "deployer" {{\n  platforms = ["linux/amd64"]\n'
        f'  args = {{ BASE_IMAGE = "{TINY}" }}\n  ssh = ["deploy=key"]\n}}\n')
    reports = tmp_path / "reports"
    # --no-cache: the step's cache key holds no key, so a cached step would pass unforwarded
    run = run_harness("--bake", "docker-bake.hcl", "deployer", f"--report-dir={reports}",
                      "--require=", "--no-cache", cwd=tmp_path, timeout=600)
    assert run.returncode == Exit.OK, run.stdout + run.stderr
    assert "not applied by this version" not in run.stdout  # ssh is applied
    entry = json.loads((reports / "report.json").read_text())["platforms"][0]
    assert (entry["platform"], entry["verdict"]) == ("linux/amd64", "pass")


PUBLISHED = """\
group "default" {{
  targets = ["app", "worker"]
}}
target "app" {{
  context = "src"
  platforms = ["linux/amd64", "linux/386"]
  args = {{ BASE_IMAGE = "{tiny}" }}
  tags = ["{host}/team/app:1.2", "{host}/team/app:latest"]
}}
target "worker" {{
  context = "src"
  platforms = ["linux/amd64"]
  args = {{ BASE_IMAGE = "{tiny}", ROLE = "worker" }}
}}
"""


def test_two_targets_are_published_as_two_indexes_under_their_own_tags(
        tmp_path: Path, tiny_base: Callable[[str], str],
        docker_client: docker.DockerClient) -> None:
    """publish of a run of two targets: each target's platforms pushed by digest and merged
    into its own index, `app` under its definition's tags, `worker` (none) under --registry's
    repository with its name appended and --tag; each with its own attestations."""
    from harness.containers.local_registry import LocalRegistry
    from harness.distribution import publish
    from harness.distribution.registry import Registry

    for p in ("linux/amd64", "linux/386"):
        tiny_base(p)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "Dockerfile").write_text(
        "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nARG ROLE=app\nRUN echo $ROLE > /role\n")
    with LocalRegistry(docker_client) as registry:
        (tmp_path / "docker-bake.hcl").write_text(PUBLISHED.format(tiny=TINY,
                                                                   host=registry.host))
        reports = tmp_path / "reports"
        run = run_harness("--bake", "docker-bake.hcl", f"--report-dir={reports}",
                          "--require=", cwd=tmp_path, timeout=600)
        assert run.returncode == Exit.OK, run.stdout + run.stderr
        published = subprocess.run(
            [sys.executable, "-m", "harness", "publish", "--bake", "docker-bake.hcl",
             f"--registry={registry.host}/pub", "--tag=7", f"--report-dir={reports}"],
            cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False)
        out = published.stdout + published.stderr
        assert published.returncode == Exit.OK, out
        with Registry(registry.host) as reg:
            assert reg.tags("team/app") == ["1.2", "latest"]
            assert reg.tags("pub/worker") == ["7"]
            app = publish.platform_entries(reg, "team/app", "1.2")
            worker = publish.platform_entries(reg, "pub/worker", "7")
            assert reg.get_manifest("team/app", "latest")[2] == \
                reg.get_manifest("team/app", "1.2")[2]
        assert sorted(e.platform for e in app) == ["linux/386", "linux/amd64"]
        assert [e.platform for e in worker] == ["linux/amd64"]
        # Each target's own image, each with its own attestation.
        assert {e.digest for e in app}.isdisjoint({e.digest for e in worker})
        assert all(e.attestation is not None for e in app + worker), out
        # Each index is named in the output, and each target has its digest files.
        assert f"tagged {registry.host}/team/app:1.2 -> " in out
        assert f"tagged {registry.host}/pub/worker:7 -> " in out
        digests = reports / "digests"
        assert {p.relative_to(digests).as_posix() for p in digests.rglob("*.json")} == {
            f"app/{_dir(registry.host, 'team/app')}/linux-amd64.json",
            f"app/{_dir(registry.host, 'team/app')}/linux-386.json",
            f"worker/{_dir(registry.host, 'pub/worker')}/linux-amd64.json"}
        data = json.loads((reports / "report.json").read_text())
        assert all(any(ph["name"] == "publish" for ph in e["phases"])
                   for e in data["platforms"]), data["platforms"]
        # --platform publishes the targets built for it: worker (amd64 only) is left out.
        again = subprocess.run(
            [sys.executable, "-m", "harness", "publish", "--bake", "docker-bake.hcl",
             f"--registry={registry.host}/pub", "--tag=8", "--platform=linux/386",
             "--no-attest", f"--report-dir={reports}"],
            cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False)
        assert again.returncode == Exit.OK, again.stdout + again.stderr
        with Registry(registry.host) as reg:
            assert [e.platform for e in publish.platform_entries(reg, "team/app", "1.2")] == [
                "linux/386"]
            assert reg.tags("pub/worker") == ["7"]


def _dir(host: str, repo: str) -> str:
    return f"{host}/{repo}".replace(":", "_").replace("/", "_")
