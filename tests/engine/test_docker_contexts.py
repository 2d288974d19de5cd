"""Docker contexts by name: ``--docker-context NAME`` and DOCKER_CONTEXT route a run to that
context's engine with its TLS material, as `docker --context NAME` does; an unknown context,
or one whose CA is not the engine's, is one line with the status harness.core.failures.diagnosis
says.

The far engine is a second dockerd of this machine's (20.10) on tcp://127.0.0.1 with
``--tlsverify``; the contexts live in a docker config of the test's own (DOCKER_CONFIG).
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import pytest

from harness.core.outcomes import Exit
from harness.core.platforms.table import parse_platform
from tests.helpers import FIXTURES, TINY, free_port, make_tiny_base, run_harness
from tests.second_engine import make_tls, second_engine
from tests.ssh_server import Sshd, loopback_sshd

pytestmark = pytest.mark.engine


@dataclass(frozen=True)
class Far:
    unix: str  # for the test's own look behind the harness's back
    tcp: str
    config: Path  # DOCKER_CONFIG holding the contexts "far", "wrong-ca" and "far-ssh"
    sshd: Sshd  # on loopback, its sessions' docker the far engine

    def env(self, **more: str) -> dict[str, str]:
        return {"DOCKER_CONFIG": str(self.config), **self.sshd.env(), **more}


def _context(config: Path, name: str, host: str, certs: Path, ca: Path) -> None:
    subprocess.run(["docker", "context", "create", name, "--docker",
                    f"host={host},ca={ca},cert={certs / 'cert.pem'},key={certs / 'key.pem'}"],
                   check=True, capture_output=True, env={"DOCKER_CONFIG": str(config),
                                                         "PATH": "/usr/bin:/bin"})


@pytest.fixture(scope="module")
def far(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Far]:
    where = tmp_path_factory.mktemp("context-engine")
    certs = make_tls(where / "tls")
    other = make_tls(where / "other-ca")  # a CA the far engine's certificate is not from
    port = free_port()
    with second_engine(where / "engine", tcp_port=port, bridge="harness-br31",
                       address="172.30.31.1/24", tls=where / "tls", system=True) as unix:
        client = docker.DockerClient(base_url=unix)
        make_tiny_base(client, parse_platform("linux/amd64"))
        client.close()
        tcp = f"tcp://127.0.0.1:{port}"
        config = where / "docker-config"
        config.mkdir()
        _context(config, "far", tcp, certs, certs / "ca.pem")
        _context(config, "wrong-ca", tcp, certs, other / "ca.pem")
        with loopback_sshd(where / "sshd", free_port(), unix) as sshd:
            subprocess.run(["docker", "context", "create", "far-ssh", "--docker",
                            f"host={sshd.url}"], check=True, capture_output=True,
                           env={"DOCKER_CONFIG": str(config), "PATH": "/usr/bin:/bin"})
            yield Far(unix, tcp, config, sshd)


def report(where: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((where / "report.json").read_text())
    return data


def tiny(where: Path, *extra: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_harness(f"--dockerfile={FIXTURES / 'tiny/Dockerfile'}",
                       f"--build-arg=BASE_IMAGE={TINY}", f"--report-dir={where}",
                       "--image=harness-test/context", "--require=", "--platform=linux/amd64",
                       *extra, env=env)


def far_has(far: Far, tag: str) -> bool:
    client = docker.DockerClient(base_url=far.unix)
    try:
        client.images.get(tag)
    except docker.errors.ImageNotFound:
        return False
    finally:
        client.close()
    return True


@pytest.mark.parametrize("how", ["flag", "DOCKER_CONTEXT"])
def test_a_named_context_routes_the_run_to_its_engine_with_its_tls(
        far: Far, tmp_path: Path, how: str) -> None:
    # DOCKER_HOST is set to the local engine: the flag wins over it, as `docker --context`
    # does; DOCKER_CONTEXT does not (the CLI's order), so it is left out there.
    if how == "flag":
        run = tiny(tmp_path, "--docker-context=far",
                   env=far.env(DOCKER_HOST="unix:///var/run/docker.sock"))
    else:
        run = tiny(tmp_path, env=far.env(DOCKER_CONTEXT="far"))
    assert run.returncode == Exit.OK, run.stdout[-4000:] + run.stderr[-2000:]
    [p] = report(tmp_path)["platforms"]
    assert p["verdict"] == "pass"
    assert p["engine"]["url"] == far.tcp
    assert far_has(far, p["image"]["tag"])


def test_a_context_over_ssh_routes_the_run_through_the_harnesss_tunnel(far: Far,
                                                                        tmp_path: Path) -> None:
    run = tiny(tmp_path, "--docker-context=far-ssh", env=far.env())
    assert run.returncode == Exit.OK, run.stdout[-4000:] + run.stderr[-2000:]
    [p] = report(tmp_path)["platforms"]
    assert p["verdict"] == "pass" and p["engine"]["url"] == far.sshd.url
    assert far_has(far, p["image"]["tag"])


def test_docker_host_wins_over_docker_context(far: Far, tmp_path: Path,
                                             docker_client: docker.DockerClient) -> None:
    run = tiny(tmp_path, env=far.env(DOCKER_CONTEXT="wrong-ca",
                                     DOCKER_HOST="unix:///var/run/docker.sock"))
    assert run.returncode == Exit.OK, run.stdout[-4000:] + run.stderr[-2000:]
    [p] = report(tmp_path)["platforms"]
    assert p["engine"]["url"] == "unix:///var/run/docker.sock"


def test_a_context_whose_ca_is_not_the_engines_is_one_line_cannot_check(
        far: Far, tmp_path: Path) -> None:
    run = tiny(tmp_path, "--docker-context=wrong-ca", env=far.env())
    assert run.returncode == Exit.CANNOT_CHECK, run.stdout[-4000:] + run.stderr[-2000:]
    [p] = report(tmp_path)["platforms"]
    assert p["verdict"] == "error"
    [finding] = p["findings"]
    assert "\n" not in finding["message"]
    assert finding["message"].startswith(f"the engine at {far.tcp} (docker context wrong-ca) "
                                          "refused TLS: "), finding
    assert "certificate verify failed" in finding["message"]
    assert "docker context update" in finding["fix"]


@pytest.mark.parametrize("how", ["flag", "DOCKER_CONTEXT"])
def test_an_unknown_context_is_a_usage_error_before_any_work(far: Far, tmp_path: Path,
                                                             how: str) -> None:
    extra, env = (("--docker-context=nowhere",), far.env()) if how == "flag" else \
        ((), far.env(DOCKER_CONTEXT="nowhere"))
    run = tiny(tmp_path, *extra, env=env)
    assert run.returncode == Exit.USAGE, run.stdout[-4000:] + run.stderr[-2000:]
    # The harness's usage error: the one line, and the fix under it.
    said, fix = run.stderr.strip().splitlines()
    assert said == "ERROR: there is no docker context 'nowhere'", run.stderr
    assert fix.startswith("  fix: name one that `docker context ls` lists"), run.stderr
    assert not (tmp_path / "report.json").exists()


# -- buildx builders by name --------------------------------------------------------------------
# buildx 0.13 makes no second docker-driver builder ("additional instances of driver "docker"
# cannot be created"): each docker context is one, named as the context. The docker-container,
# remote and kubernetes drivers need a BuildKit image or binary this machine does not have.

def test_the_default_builder_by_name_builds(far: Far, tmp_path: Path) -> None:
    run = tiny(tmp_path, "--builder=default", env=far.env())
    assert run.returncode == Exit.OK, run.stdout[-4000:] + run.stderr[-2000:]
    [p] = report(tmp_path)["platforms"]
    assert p["verdict"] == "pass" and p["build"]["builder"] == "buildx"
    log = (tmp_path / "logs" / "linux-amd64-build.log").read_text()
    assert "docker buildx build --builder default " in log


def test_a_contexts_builder_builds_on_that_contexts_engine(far: Far, tmp_path: Path) -> None:
    run = tiny(tmp_path, "--builder=far", "--docker-context=far", env=far.env())
    assert run.returncode == Exit.OK, run.stdout[-4000:] + run.stderr[-2000:]
    [p] = report(tmp_path)["platforms"]
    assert p["verdict"] == "pass" and p["engine"]["url"] == far.tcp
    assert far_has(far, p["image"]["tag"])


@pytest.mark.parametrize(("extra", "said", "fix"), [
    (("--builder=nowhere",), "ERROR: there is no buildx builder 'nowhere'",
     "  fix: name one that `docker buildx ls` lists"),
    # far's BuildKit would load into far's engine, and the run checks on the local one.
    (("--builder=far",), "ERROR: the buildx builder far is the BuildKit of the engine of docker "
     "context far, not of the engine the run checks on: what it loads would not be there",
     "  fix: pass --docker-context far"),
])
def test_a_builder_unknown_or_of_another_engine_is_one_line_before_any_work(
        far: Far, tmp_path: Path, extra: tuple[str, ...], said: str, fix: str) -> None:
    run = tiny(tmp_path, *extra, env=far.env())
    assert run.returncode == Exit.USAGE, run.stdout[-4000:] + run.stderr[-2000:]
    line, fixed = run.stderr.strip().splitlines()
    assert line == said and fixed.startswith(fix), run.stderr
    assert not (tmp_path / "report.json").exists()


def test_the_default_builder_of_a_context_over_ssh_is_that_engines(far: Far,
                                                                   tmp_path: Path) -> None:
    """Over ssh buildx runs with the harness's tunnel as DOCKER_HOST: its "default" builder is
    the far engine's own BuildKit, and what it loads is there."""
    run = tiny(tmp_path, "--builder=default", "--docker-context=far-ssh", env=far.env())
    assert run.returncode == Exit.OK, run.stdout[-4000:] + run.stderr[-2000:]
    [p] = report(tmp_path)["platforms"]
    assert p["verdict"] == "pass" and p["engine"]["url"] == far.sshd.url
    assert far_has(far, p["image"]["tag"])
