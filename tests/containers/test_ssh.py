"""The local socket in front of an ssh:// engine (harness.containers.ssh), without sshd: the
ssh command line, the bytes relayed both ways through the command it runs (a stand-in for
`ssh ... docker system dial-stdio` that echoes), what ssh said, and the cleanup."""

from __future__ import annotations

import shlex
import socket
import sys

import pytest

from harness.containers import ssh
from harness.core.platforms.engine_url import SSH_COMMAND_ENV

# Echoes its stdin to its stdout, whatever arguments follow (ssh's, and the far command).
ECHO = [sys.executable, "-c", "import os\nwhile d := os.read(0, 65536): os.write(1, d)"]


def test_the_ssh_command_never_prompts_shares_one_session_and_dials_the_engine(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SSH_COMMAND_ENV, "ssh -i /keys/ci -o UserKnownHostsFile=/kh")
    t = ssh.Tunnel("ssh://ci@builder.example:2222")
    try:
        argv = t.argv
        assert argv[:5] == ["ssh", "-i", "/keys/ci", "-o", "UserKnownHostsFile=/kh"]
        assert "BatchMode=yes" in argv and "ControlMaster=auto" in argv
        assert argv[argv.index("-p") + 1] == "2222"
        assert argv[-5:] == ["--", "ci@builder.example", "docker", "system", "dial-stdio"]
        assert t.local_url == f"unix://{t.socket}" and t.socket.exists()
    finally:
        t.close()
    assert not t.socket.exists() and not t.socket.parent.exists(), "the tunnel left its files"


def test_bytes_go_both_ways_through_the_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SSH_COMMAND_ENV, shlex.join(ECHO))
    t = ssh.Tunnel("ssh://far")
    try:
        with socket.socket(socket.AF_UNIX) as conn:
            conn.settimeout(10)
            conn.connect(str(t.socket))
            conn.sendall(b"GET /_ping HTTP/1.1\r\n\r\n")
            conn.shutdown(socket.SHUT_WR)  # the half-close reaches the command: it ends
            got = b""
            while chunk := conn.recv(4096):
                got += chunk
        assert got == b"GET /_ping HTTP/1.1\r\n\r\n"
    finally:
        t.close()


def test_what_ssh_last_said_is_bounded_and_escaped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SSH_COMMAND_ENV, shlex.join(ECHO))
    t = ssh.Tunnel("ssh://far")
    try:
        assert t.last_error() == ""  # nothing said yet
        t.log.write_bytes(b"first\n" + b"Permission denied \x1b[31m" + b"x" * 1000 + b"\n\n")
        said = t.last_error()
        assert said.startswith("Permission denied ") and "\x1b" not in said
        assert len(said) <= 300
    finally:
        t.close()


def test_a_command_that_cannot_be_run_is_logged_not_raised(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SSH_COMMAND_ENV, "/nonexistent/ssh")
    t = ssh.Tunnel("ssh://far")
    try:
        with socket.socket(socket.AF_UNIX) as conn:
            conn.settimeout(10)
            conn.connect(str(t.socket))
            assert conn.recv(10) == b""  # closed: nothing to relay
        assert t.last_error().startswith("cannot run /nonexistent/ssh: ")
    finally:
        t.close()


def test_only_an_ssh_url_goes_through_a_tunnel_and_each_has_one() -> None:
    assert ssh.local_url("unix:///var/run/docker.sock") == "unix:///var/run/docker.sock"
    assert ssh.local_url("tcp://10.0.0.5:2376") == "tcp://10.0.0.5:2376"
    try:
        first = ssh.local_url("ssh://me@far")
        assert first.startswith("unix://") and ssh.local_url("ssh://me@far") == first
        assert ssh.tunnel("ssh://me@far").socket.exists()
    finally:
        ssh.close_all()
    assert not ssh._TUNNELS
