"""ssh:// engines, reached as the docker CLI reaches them: every connection is
``ssh [-p PORT] [USER@]HOST docker system dial-stdio``, which needs only sshd and the docker
CLI on the far host.

The docker SDK's own ssh transport loses every exec's output (docker/docker-py#3218), and the
probes are execs, so the SDK never sees an ssh:// URL: each process serves one local unix
socket per ssh:// engine, and the SDK and buildx talk to that socket. The ssh command is
``ssh`` with BatchMode (never a prompt), or ``HARNESS_SSH_COMMAND`` (as ``GIT_SSH_COMMAND``:
a key, a known_hosts file, a jump host).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shlex
import shutil
import socket
import socketserver
import subprocess
import tempfile
import threading
from pathlib import Path

from harness.core import sinks
from harness.core.platforms.engine_url import SSH_COMMAND_ENV, SshTarget

CHUNK = 1 << 16


def _shared(control: Path) -> list[str]:
    # A master left behind by a killed process goes away by itself once idle.
    return ["-o", "ControlMaster=auto", "-o", f"ControlPath={control}",
            "-o", "ControlPersist=30"]


def ssh_command() -> list[str]:
    return shlex.split(os.environ.get(SSH_COMMAND_ENV) or "ssh")


class Tunnel:
    """A local unix socket in front of one ssh:// engine; one ssh process per connection."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.target = SshTarget.parse(url)
        self._dir = Path(tempfile.mkdtemp(prefix="harness-ssh-"))
        self._control = self._dir / "master"
        # Connections share one ssh session: the docker SDK opens a connection per API path
        # (every exec is one), and a handshake each would cost a quarter of a second.
        self.argv = self.target.argv(ssh_command(), *_shared(self._control))
        self.socket = self._dir / "docker.sock"
        self.log = self._dir / "ssh.log"
        self._server = _Server(str(self.socket), _Relay)
        self._server.tunnel = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name=f"ssh tunnel to {sinks.redact(url)}")
        self._thread.start()

    @property
    def local_url(self) -> str:
        return f"unix://{self.socket}"

    def last_error(self) -> str:
        """What ssh last said on stderr (bounded, control characters escaped)."""
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        lines = [line for line in text.splitlines() if line.strip()]
        tail = lines[-1] if lines else ""
        return sinks.visible(tail)[:300]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._control.exists():
            subprocess.run([*ssh_command(), *_shared(self._control), "-O", "exit", "--",
                            self.target.destination], capture_output=True, timeout=30,
                           check=False)
        shutil.rmtree(self._dir, ignore_errors=True)


class _Server(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True
    tunnel: Tunnel


class _Relay(socketserver.BaseRequestHandler):
    """One connection: bytes both ways between the client and `docker system dial-stdio`."""

    server: _Server
    request: socket.socket

    def handle(self) -> None:
        tunnel = self.server.tunnel
        with tunnel.log.open("ab") as log:
            try:
                proc = subprocess.Popen(tunnel.argv, stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=log,
                                        start_new_session=True)
            except OSError as exc:
                log.write(f"cannot run {tunnel.argv[0]}: {exc}\n".encode())
                return
        with proc:
            self._relay(proc)

    def _relay(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdin is not None and proc.stdout is not None
        upstream = threading.Thread(target=self._upstream, args=(proc,), daemon=True)
        upstream.start()
        try:
            while data := os.read(proc.stdout.fileno(), CHUNK):
                self.request.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                self.request.shutdown(socket.SHUT_WR)
            upstream.join(timeout=5)
            if proc.poll() is None:
                proc.terminate()
            proc.wait()

    def _upstream(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdin is not None
        try:
            while data := self.request.recv(CHUNK):
                proc.stdin.write(data)
                proc.stdin.flush()
        except OSError:
            pass
        finally:
            # dial-stdio passes the half-close on, as the docker CLI's connection helper does
            with contextlib.suppress(OSError):
                proc.stdin.close()


_TUNNELS: dict[str, Tunnel] = {}
_LOCK = threading.Lock()


def tunnel(url: str) -> Tunnel:
    """This process's tunnel to the ssh:// engine at ``url``, started on first use."""
    with _LOCK:
        if url not in _TUNNELS:
            if not _TUNNELS:
                atexit.register(close_all)
            _TUNNELS[url] = Tunnel(url)
        return _TUNNELS[url]


def local_url(url: str) -> str:
    """The URL the docker SDK and CLI can use for ``url``: itself, or its tunnel's socket."""
    return tunnel(url).local_url if url.startswith("ssh://") else url


def close_all() -> None:
    """Stop every tunnel of this process and remove its socket."""
    with _LOCK:
        for t in _TUNNELS.values():
            t.close()
        _TUNNELS.clear()
