"""`docker buildx bake --print`, run for real (harness.machine.bake_print, through config.load).

The print needs the docker CLI's buildx plugin and no engine (buildx resolves a definition
on its own: these tests pass with DOCKER_HOST at a socket that is not there), so they are
no `engine` tests; where the docker CLI is not installed they cannot run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness.core.buildspec import bake
from harness.core.failures.errors import CannotCheck, UsageError
from harness.core.outcomes import Exit
from harness.machine import bake_print as reader
from harness.machine.config import load

pytestmark = pytest.mark.skipif(shutil.which("docker") is None,
                                reason="`docker buildx bake --print` needs the docker CLI")
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bake"
ONE = """\
target "app" {
  dockerfile = "app.Dockerfile"
  context = "src"
  platforms = ["linux/x86_64", "linux/arm64/v8"]
  args = { GREETING = "hi", BASE_IMAGE = "harness-tiny:bookworm" }
  labels = { "org.example.team" = "core" }
  target = "final"
  secret = ["id=token,src=token.txt"]
  cache-from = ["type=registry,ref=example/cache:app"]
  annotations = ["index:org.opencontainers.image.title=app"]
}
"""


@pytest.fixture(autouse=True)
def no_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """No engine answers: the print must not need one."""
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)


def project(tmp_path: Path, hcl: str = ONE, pyproject: str = "") -> Path:
    (tmp_path / "docker-bake.hcl").write_text(hcl)
    (tmp_path / "token.txt").write_text("s3cret")
    (tmp_path / "pyproject.toml").write_text(f"[tool.harness]\n{pyproject}")
    return tmp_path


def test_the_fixtures_are_what_this_machines_buildx_prints(tmp_path: Path) -> None:
    shutil.copy(FIXTURES / "docker-bake.hcl", tmp_path)
    (tmp_path / "npmrc").write_text("")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                    str(tmp_path / "sshkey")], check=True)
    for names, fixture in (([], "default"), (["app"], "app"), (["tools"], "tools")):
        found = reader.read(tmp_path, [], names)
        assert found == bake.read_print(json.loads(
            (FIXTURES / f"print-{fixture}.json").read_text())), fixture
    compose = FIXTURES / "compose"
    assert reader.read(compose, ["compose.yaml"], []) == bake.read_print(json.loads(
        (FIXTURES / "print-compose.json").read_text()))


def test_one_target_becomes_the_runs_settings(tmp_path: Path) -> None:
    cfg = load(project(tmp_path), bake=["docker-bake.hcl", "app"])
    assert cfg.bake_target == "app"
    assert [p.name for p in cfg.platforms] == ["linux/amd64", "linux/arm64"]
    assert (cfg.dockerfile, cfg.context) == (tmp_path / "src/app.Dockerfile", tmp_path / "src")
    assert cfg.build_args == {"GREETING": "hi", "BASE_IMAGE": "harness-tiny:bookworm"}
    assert (cfg.labels, cfg.target) == ({"org.example.team": "core"}, "final")
    assert [s.flag() for s in cfg.secrets] == [f"id=token,src={tmp_path / 'token.txt'}"]
    assert cfg.cache_from == ("type=registry,ref=example/cache:app",)
    assert cfg.image == "harness/app"  # named after the target: two targets, two names
    assert cfg.bake_notes == ("annotations (publish --annotation writes them)",)


def test_a_targets_contexts_ssh_and_pull_are_the_runs_read_from_the_projects_root(
        tmp_path: Path) -> None:
    extra = ONE.replace('target = "final"', 'target = "final"\n  pull = true\n'
                        '  contexts = { assets = "assets", base = "docker-image://a:1" }\n'
                        '  ssh = ["deploy=key"]')
    root = project(tmp_path, extra)
    (root / "assets").mkdir()  # beside the definition, not in the target's context (src)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(root / "key")],
                   check=True)
    cfg = load(root, bake=["docker-bake.hcl", "app"])
    assert {n: c.value for n, c in cfg.build_contexts.items()} == {
        "assets": str(root / "assets"), "base": "docker-image://a:1"}
    assert [s.flag() for s in cfg.ssh] == [f"deploy={root / 'key'}"]
    assert cfg.refresh_bases is True
    assert cfg.bake_notes == ("annotations (publish --annotation writes them)",)
    (root / "assets").rmdir()
    with pytest.raises(UsageError, match="--build-context assets: no directory"):
        load(root, bake=["docker-bake.hcl", "app"])


def test_options_given_override_the_target_and_args_merge_key_by_key(tmp_path: Path) -> None:
    cfg = load(project(tmp_path, pyproject='build-args = ["GREETING=from-pyproject", "P=1"]\n'
                                           'bake = ["docker-bake.hcl", "app"]\n'),
               platforms=["linux/amd64"], build_args=["GREETING=given"])
    assert [p.name for p in cfg.platforms] == ["linux/amd64"]
    # the target's over [tool.harness], the command line's over both
    assert cfg.build_args == {"GREETING": "given", "P": "1",
                              "BASE_IMAGE": "harness-tiny:bookworm"}


def test_several_targets_are_each_a_configuration_of_the_one_run(tmp_path: Path) -> None:
    # Was a usage error ("this version builds one target per run"): now each target builds
    # with its own settings, and the run's units are every target's platforms.
    two = ONE + 'target "worker" {\n  inherits = ["app"]\n  platforms = ["linux/amd64"]\n' \
        '  args = { GREETING = "yo" }\n}\n' \
        'group "default" {\n  targets = ["app", "worker"]\n}\n'
    cfg = load(project(tmp_path, two), bake=["docker-bake.hcl"])
    assert [t.bake_target for t in cfg.bake_targets] == ["app", "worker"]
    assert [u.name for u in cfg.units] == ["app-linux/amd64", "app-linux/arm64",
                                           "worker-linux/amd64"]
    app, worker = cfg.for_target("app"), cfg.for_target("worker")
    assert (app.image, worker.image) == ("harness/app", "harness/worker")
    assert (app.build_args["GREETING"], worker.build_args["GREETING"]) == ("hi", "yo")
    assert [p.name for p in worker.platforms] == ["linux/amd64"]
    assert cfg.for_target(None) is cfg and not worker.bake_targets
    assert [p.name for p in cfg.platforms] == ["linux/amd64", "linux/arm64"]


def test_a_definition_buildx_rejects_is_its_own_message_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(bake.BadDefinition) as caught:
        load(project(tmp_path, 'target "app" {\n  platforms = [\n'), bake=["docker-bake.hcl"])
    assert caught.value.message.startswith("--bake: buildx rejects the definition: ")
    assert "docker-bake.hcl" in caught.value.message and "\n" not in caught.value.message
    with pytest.raises(bake.BadDefinition, match="failed to find target nosuch"):
        load(project(tmp_path), bake=["docker-bake.hcl", "nosuch"])
    with pytest.raises(UsageError, match=r"the file missing\.hcl is not there"):
        load(project(tmp_path), bake=["missing.hcl", "app"])


def test_a_hostile_definition_is_bounded_and_inert_in_the_line(tmp_path: Path) -> None:
    hostile = 'variable "X" {\n  default = "\\u001b]0;owned\\u0007' + "y" * 5000 + '"\n}\n' \
        'target "app" {\n  dockerfile = "${X}"\n  args = { A = undefined_function() }\n}\n'
    with pytest.raises(bake.BadDefinition) as caught:
        load(project(tmp_path, hostile), bake=["docker-bake.hcl"])
    assert "\x1b" not in caught.value.message and "\x07" not in caught.value.message
    assert len(caught.value.message) < bake.SHOWN + 100


def test_the_build_command_says_it_in_one_line_exit_4_before_any_work(tmp_path: Path) -> None:
    project(tmp_path, 'target "app" {\n  platforms = [\n')
    done = subprocess.run([sys.executable, "-m", "harness", "build", "--bake",
                           "docker-bake.hcl", "app"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == Exit.USAGE, done.stdout + done.stderr
    said = [line for line in done.stderr.splitlines() if "bad input" in line]
    assert len(said) == 1 and "buildx rejects the definition" in said[0], done.stderr
    assert not (tmp_path / "reports").exists()  # nothing done


def test_compose_goes_through_the_same_reader(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES / "compose", tmp_path / "c")
    (tmp_path / "c" / "pyproject.toml").write_text("[tool.harness]\nbake = [\"compose.yaml\"]\n")
    cfg = load(tmp_path / "c")
    assert cfg.bake_target == "web" and cfg.target == "runtime"
    assert cfg.dockerfile == tmp_path / "c" / "app" / "Dockerfile.app"
    assert [p.name for p in cfg.platforms] == ["linux/amd64", "linux/arm64"]
    assert cfg.bake_notes == ("tags (each platform's image is tagged locally; publish --tag "
                              "names the index)",)


def test_the_print_runs_in_the_runs_docker_context(tmp_path: Path) -> None:
    # buildx 0.13's print asks no engine, so an unknown context does not stop it (the run
    # refuses one before any work, harness.plugin.pytest_options); the CLI's environment is the
    # run's.
    env = reader.environment("other")
    assert env["DOCKER_CONTEXT"] == "other" and "DOCKER_HOST" not in env
    assert reader.environment(None)["DOCKER_HOST"] == "unix:///nonexistent/docker.sock"
    assert load(project(tmp_path), bake=["docker-bake.hcl", "app"],
                docker_context="other").bake_target == "app"


@pytest.mark.parametrize("preflight", [[], ["--no-preflight"]], ids=["preflight", "plugin"])
def test_no_docker_cli_is_the_machines_in_one_line(tmp_path: Path, preflight: list[str]) -> None:
    """Without the docker CLI nothing can read the definition: this machine's, 69, one line
    (pytest's configure used to end in INTERNALERROR, exit 3)."""
    project(tmp_path)
    (tmp_path / "bin").mkdir()
    done = subprocess.run([sys.executable, "-m", "harness", "build", *preflight, "-n", "0",
                           "--bake", "docker-bake.hcl", "app"], cwd=tmp_path, text=True,
                          capture_output=True, timeout=120, check=False,
                          env={"PATH": str(tmp_path / "bin"), "HOME": str(tmp_path)})
    assert done.returncode == Exit.CANNOT_CHECK, done.stdout + done.stderr
    assert "--bake: the docker CLI is not installed" in done.stdout + done.stderr
    assert "INTERNALERROR" not in done.stdout + done.stderr


def test_a_dockerfile_given_over_a_target_builds_in_its_own_directory(tmp_path: Path) -> None:
    (tmp_path / "other").mkdir()
    cfg = load(project(tmp_path), bake=["docker-bake.hcl", "app"],
               dockerfile=str(tmp_path / "other" / "Dockerfile"))
    # as --dockerfile over [tool.harness]: the Dockerfile's directory, not the target's context
    assert (cfg.dockerfile, cfg.context) == (tmp_path / "other" / "Dockerfile",
                                             tmp_path / "other")


def test_a_print_over_its_bounds_is_one_line(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    project(tmp_path)
    monkeypatch.setattr(bake, "PRINT_LIMIT", 100)  # the print of ONE is some 600 bytes
    with pytest.raises(bake.BadDefinition, match=r"printed no definition the harness reads "
                                                 r"\(more than 100 bytes\)"):
        reader.read(tmp_path, ["docker-bake.hcl"], ["app"])


def test_a_print_past_its_time_limit_is_the_machines(tmp_path: Path) -> None:
    project(tmp_path)
    with pytest.raises(CannotCheck, match="took more than 0 s"):
        reader.read(tmp_path, ["docker-bake.hcl"], ["app"], timeout=0.001)


def test_a_fifo_named_as_the_definition_is_refused_not_waited_on(tmp_path: Path) -> None:
    project(tmp_path)
    os.mkfifo(tmp_path / "fifo.hcl")  # buildx would wait for a writer without end
    with pytest.raises(UsageError, match=r"the file fifo\.hcl is not a regular file"):
        reader.read(tmp_path, ["fifo.hcl"], ["app"], timeout=30)


TWO = ONE + 'target "worker" {\n  inherits = ["app"]\n}\n' \
    'group "default" {\n  targets = ["app", "worker"]\n}\n'


def test_an_override_of_a_target_is_that_targets_alone(tmp_path: Path) -> None:
    pyproject = ('[[tool.harness.overrides]]\ntarget = "worker"\nskip = ["hello"]\n'
                 'reason = "the worker has no compiler"\n')
    cfg = load(project(tmp_path, TWO, pyproject=pyproject), bake=["docker-bake.hcl"])
    app, worker = cfg.for_target("app"), cfg.for_target("worker")
    assert [o.target for o in worker.overrides] == ["worker"] and app.overrides == ()
    assert [o.target for o in cfg.overrides] == ["worker"]  # the run's: every target's


def test_an_override_of_a_target_the_run_does_not_build_is_one_line(tmp_path: Path) -> None:
    pyproject = '[[tool.harness.overrides]]\ntarget = "wroker"\nskip = ["hello"]\nreason = "x"\n'
    with pytest.raises(UsageError) as caught:
        load(project(tmp_path, TWO, pyproject=pyproject), bake=["docker-bake.hcl"])
    assert caught.value.message == ("[[tool.harness.overrides]] #1: target wroker is not a "
                                    "target this run builds (app, worker)")
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    with pytest.raises(UsageError, match=r"target wroker is not a target this run builds "
                                         r"\(no --bake\)"):
        load(tmp_path)


def test_the_print_s_context_is_not_overridden_by_the_environment_s_tls(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """As for the builds' docker CLI: with a context named, the environment's TLS settings
    (which the CLI would take over the context's) are dropped with DOCKER_HOST."""
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    monkeypatch.setenv("DOCKER_CERT_PATH", "/elsewhere")
    env = reader.environment("other")
    assert "DOCKER_TLS_VERIFY" not in env and "DOCKER_CERT_PATH" not in env
    assert reader.environment(None)["DOCKER_TLS_VERIFY"] == "1"
