"""Engine URLs: credentials never shown, and which engines share this machine's emulation."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest

from harness.containers.engine import on_this_host
from harness.core.engine_url import SshTarget
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
