"""Engine URLs: credentials never shown, and which engines share this machine's emulation."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest

from harness.containers.engine import on_this_host
from harness.core.platforms.engine_url import SshTarget, context_env
from harness.core.sinks import redact


def test_credentials_are_stripped_from_urls() -> None:
    assert redact("ssh://ci:secret@arm-box:2222") == "ssh://ci:***@arm-box:2222"
    assert redact("tcp://10.0.0.5:2376") == "tcp://10.0.0.5:2376"
    assert redact("unix:///run/docker.sock") == "unix:///run/docker.sock"


@pytest.mark.parametrize(("url", "here"), [
    ("unix:///tmp/two/docker.sock", True),
    ("tcp://127.0.0.1:2375", True),
    ("tcp://localhost:2375", True),
    ("tcp://10.0.0.5:2376", False),
    ("ssh://ci@arm-box", False),
])
def test_an_engine_on_this_machine_uses_its_binfmt_handlers(url: str, here: bool) -> None:
    assert on_this_host(url) is here
    assert on_this_host(url, socket.gethostname()) is here


def test_a_socket_forwarded_from_another_machine_is_not_this_one() -> None:
    """`ssh -L /tmp/arm.sock:/var/run/docker.sock` looks local; the engine's own host name
    says it is not, so its emulation is not read from this machine's handlers."""
    assert not on_this_host("unix:///tmp/arm.sock", "arm-box-" + socket.gethostname())


def test_an_ssh_url_is_reached_as_the_docker_cli_reaches_it() -> None:
    target = SshTarget.parse("ssh://ci@arm-box:2222")
    assert target == SshTarget("arm-box", "ci", 2222)
    assert target.argv(["ssh", "-i", "k"]) == [
        "ssh", "-i", "k", "-o", "BatchMode=yes", "-p", "2222", "--", "ci@arm-box",
        "docker", "system", "dial-stdio"]
    assert SshTarget.parse("ssh://arm-box").argv(["ssh"])[-5:] == [
        "--", "arm-box", "docker", "system", "dial-stdio"]


@pytest.mark.parametrize(("url", "says"), [
    ("ssh://ci:pw@arm-box", "no password"),
    ("ssh://arm-box/var/run/docker.sock", "no path"),
    ("ssh://arm-box:22x", "not a number"),
    ("ssh://", "ssh://[USER@]HOST[:PORT]"),
])
def test_a_bad_ssh_url_says_what_is_wrong(url: str, says: str) -> None:
    with pytest.raises(ValueError, match=re.escape(says)):
        SshTarget.parse(url)


def test_preflight_touches_nothing_when_every_engine_is_elsewhere(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.commands.preflight import here, needs_setup
    from harness.machine.config import load

    (tmp_path / "Dockerfile").write_text("FROM x\n")
    (tmp_path / "pyproject.toml").write_text('[tool.harness]\ndockerfile = "Dockerfile"\n')
    monkeypatch.setenv("DOCKER_HOST", "ssh://me@far-away")
    cfg = load(tmp_path, platforms=["linux/amd64", "linux/arm64"],
               engines=["linux/arm64=unix:///run/other.sock"])
    assert [p.name for p in here(cfg)] == ["linux/arm64"]
    everything_far = load(tmp_path, platforms=["linux/amd64", "linux/arm64"])
    assert here(everything_far) == [] and needs_setup(everything_far) is False


# `docker context inspect far` (docker 20.10) of a context made with
# `docker context create far --docker host=tcp://127.0.0.1:2376,ca=...,cert=...,key=...`.
FAR = """[
    {
        "Name": "far",
        "Metadata": {},
        "Endpoints": {
            "docker": {
                "Host": "tcp://127.0.0.1:2376",
                "SkipTLSVerify": false
            }
        },
        "TLSMaterial": {
            "docker": [
                "ca.pem",
                "cert.pem",
                "key.pem"
            ]
        },
        "Storage": {
            "MetadataPath": "/root/.docker/contexts/meta/ab12",
            "TLSPath": "/root/.docker/contexts/tls/ab12"
        }
    }
]"""


def test_a_context_names_its_endpoint_and_tls_files() -> None:
    from harness.core.platforms.engine_url import DockerContext, parse_context

    found = parse_context(FAR, "far")
    assert found == DockerContext("far", "tcp://127.0.0.1:2376", False,
                                  "/root/.docker/contexts/tls/ab12/docker",
                                  ("ca.pem", "cert.pem", "key.pem"))
    assert found.tls_file("ca.pem") == "/root/.docker/contexts/tls/ab12/docker/ca.pem"
    plain = parse_context('[{"Name": "box", "Endpoints": {"docker": {"Host": '
                          '"ssh://ci@box", "SkipTLSVerify": false}}, "TLSMaterial": {}, '
                          '"Storage": {"TLSPath": "/x"}}]', "box")
    assert plain.host == "ssh://ci@box" and plain.tls_dir is None and plain.tls_file("ca.pem") \
        is None


@pytest.mark.parametrize(("text", "says"), [
    ("not json", "no JSON"),
    ("[]", "no context"),
    ('[{"Name": "k8s", "Endpoints": {"kubernetes": {}}}]', "no docker endpoint"),
    ('[{"Name": "w", "Endpoints": {"docker": {"Host": "npipe:////./pipe/docker"}}}]',
     "not an engine URL"),
])
def test_a_context_without_a_docker_engine_endpoint_says_what_is_missing(text: str,
                                                                       says: str) -> None:
    from harness.core.platforms.engine_url import parse_context

    with pytest.raises(ValueError, match=says):
        parse_context(text, "k8s")


@pytest.mark.parametrize(("flag", "env", "name"), [
    ("far", {"DOCKER_HOST": "unix:///run/docker.sock", "DOCKER_CONTEXT": "near"}, "far"),
    (None, {"DOCKER_HOST": "unix:///run/docker.sock", "DOCKER_CONTEXT": "near"}, None),
    (None, {"DOCKER_CONTEXT": "near"}, "near"),
    (None, {"DOCKER_HOST": "", "DOCKER_CONTEXT": "near"}, "near"),
    (None, {}, None),
    (None, {"DOCKER_CONTEXT": ""}, None),
])
def test_the_context_is_chosen_in_the_docker_clis_order(flag: str | None, env: dict[str, str],
                                                       name: str | None) -> None:
    """The flag (the CLI's --context) over DOCKER_HOST over DOCKER_CONTEXT (cli/command's
    resolveContextName; `docker context use`'s page says the same)."""
    from harness.core.platforms.engine_url import context_name

    assert context_name(flag, env) == name


# `docker buildx inspect default` (buildx 0.13.1 on Docker 20.10).
DEFAULT_BUILDER = """Name:          default
Driver:        docker
Last Activity: 2026-12-08 01:04:18 +0000 UTC

Nodes:
Name:             default
Endpoint:         default
Status:           running
BuildKit version: v0.8+unknown
Platforms:        linux/amd64, linux/arm64, linux/riscv64, linux/ppc64le, linux/s390x, linux/386, linux/arm/v7*, linux/arm/v6
"""  # noqa: E501


def test_a_builder_names_its_driver_nodes_and_platforms() -> None:
    from harness.core.platforms.engine_url import parse_builder

    found = parse_builder(DEFAULT_BUILDER, "default")
    assert (found.driver, found.endpoints) == ("docker", ("default",))
    assert "linux/arm/v7" in found.platforms and "linux/s390x" in found.platforms
    assert len(found.platforms) == 8


@pytest.mark.parametrize(("value", "name"), [("auto", None), ("buildx", None),
                                             ("classic", None), ("ci", "ci"),
                                             ("remote-arm64.1", "remote-arm64.1")])
def test_builder_words_and_names(value: str, name: str | None) -> None:
    from harness.core.platforms.engine_url import builder_name

    assert builder_name(value) == name


@pytest.mark.parametrize("value", ["", "-x", "a b", "a/b", "über"])
def test_what_is_no_builder_name(value: str) -> None:
    from harness.core.platforms.engine_url import builder_name

    with pytest.raises(ValueError, match="buildx builder's name"):
        builder_name(value)


def test_a_named_context_s_environment_drops_what_would_win_over_it() -> None:
    """The docker CLI takes DOCKER_HOST and the TLS settings over DOCKER_CONTEXT: the builds'
    CLI and the bake print both drop them for a named context, and keep the rest."""
    env = {"DOCKER_HOST": "tcp://10.0.0.1:2376", "DOCKER_TLS_VERIFY": "1",
           "DOCKER_CERT_PATH": "/certs", "DOCKER_TLS": "1", "PATH": "/usr/bin"}
    assert context_env(env, "far") == {"PATH": "/usr/bin", "DOCKER_CONTEXT": "far"}
    assert env["DOCKER_HOST"] == "tcp://10.0.0.1:2376"  # the caller's own is left as it was
