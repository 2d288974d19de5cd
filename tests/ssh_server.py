"""An sshd on loopback, for tests that reach an engine by ssh:// as users reach a remote one.

Debian's openssh-server is installed when missing (without starting its service), and an
sshd of its own is run with a temporary config: a generated host key and client key, root
login by key only, and ``DOCKER_HOST`` set for every session, so that the far side's
``docker system dial-stdio`` reaches the engine under test.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from harness.core.platforms.engine_url import SSH_COMMAND_ENV
from tests.helpers import debian_package
from tests.second_engine import stop

SSHD = Path("/usr/sbin/sshd")


@dataclass(frozen=True)
class Sshd:
    port: int
    key: Path  # the client key root may log in with
    known_hosts: Path

    @property
    def url(self) -> str:
        return f"ssh://root@127.0.0.1:{self.port}"

    def env(self, key: Path | None = None) -> dict[str, str]:
        """What a harness run needs to reach it (as a user's key and known_hosts would)."""
        return {SSH_COMMAND_ENV: f"ssh -i {key or self.key} -o IdentitiesOnly=yes "
                                 f"-o UserKnownHostsFile={self.known_hosts} "
                                 "-o StrictHostKeyChecking=yes"}


def _keygen(path: Path) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)],
                   check=True)
    return path.with_suffix(".pub").read_text().strip()


def _listens(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@contextlib.contextmanager
def loopback_sshd(where: Path, port: int, docker_host: str) -> Iterator[Sshd]:
    """Run sshd on 127.0.0.1:``port`` until the block ends; its sessions get ``docker_host``."""
    debian_package("sshd", "openssh-server")
    where.mkdir(parents=True, exist_ok=True)
    host_pub = _keygen(where / "host_key")
    (where / "authorized_keys").write_text(_keygen(where / "client_key") + "\n")
    known = where / "known_hosts"
    known.write_text(f"[127.0.0.1]:{port} {host_pub}\n")
    config = where / "sshd_config"
    config.write_text(f"""\
ListenAddress 127.0.0.1
Port {port}
HostKey {where / 'host_key'}
PidFile {where / 'sshd.pid'}
AuthorizedKeysFile {where / 'authorized_keys'}
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
SetEnv DOCKER_HOST={docker_host}
""")
    Path("/run/sshd").mkdir(exist_ok=True)  # its privilege separation directory
    log = (where / "sshd.log").open("w")
    proc = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(config)], stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while not _listens(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"sshd did not start: {(where / 'sshd.log').read_text()}")
            time.sleep(0.2)
        yield Sshd(port, where / "client_key", known)
    finally:
        stop(proc, timeout=10)
        log.close()
