"""A second, current Docker engine beside the machine's own, for tests that need one.

Debian trixie's docker.io (26.1) is downloaded once (``apt-get download``, unpacked with
``dpkg-deb -x``, never installed: the system engine stays 20.10) and its dockerd started with a
socket, data root, exec root, pidfile and bridge of its own. A bridge of its own matters: a
second dockerd started with ``--bridge=none`` deletes the first engine's docker0 (see
shared/notes/environment.md). Everything is stopped and removed on exit.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock

CACHE = Path.home() / ".cache" / "harness" / "docker-trixie"
BRIDGE = "harness-br26"
BRIDGE_ADDRESS = "172.30.26.1/24"


def dockerd_26() -> Path:
    """The directory holding trixie's dockerd, docker-proxy and docker-init (downloaded once)."""
    root = CACHE / "root"
    CACHE.mkdir(parents=True, exist_ok=True)
    with FileLock(str(CACHE / "download.lock")):
        if not (root / "usr" / "sbin" / "dockerd").exists():
            debs = CACHE / "debs"
            debs.mkdir(exist_ok=True)
            subprocess.run(["apt-get", "download", "docker.io/trixie"], cwd=debs, check=True,
                           capture_output=True)
            [deb] = debs.glob("docker.io_*.deb")
            subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    return root


def _bridge_up() -> bool:
    """The second engine's bridge, up; whether it was made here (and is to be removed)."""
    made = subprocess.run(["ip", "link", "show", BRIDGE], capture_output=True).returncode != 0
    if made:
        subprocess.run(["ip", "link", "add", BRIDGE, "type", "bridge"], check=True)
        subprocess.run(["ip", "addr", "add", BRIDGE_ADDRESS, "dev", BRIDGE], check=True)
    subprocess.run(["ip", "link", "set", BRIDGE, "up"], check=True)
    return made


@contextlib.contextmanager
def second_engine(where: Path, *, tcp_port: int | None = None) -> Iterator[str]:
    """Start Docker 26 with its state under ``where``; yield its ``unix://`` URL."""
    root = dockerd_26()
    made_bridge = _bridge_up()
    where.mkdir(parents=True, exist_ok=True)
    sock, pidfile = where / "docker.sock", where / "docker.pid"
    hosts = ["-H", f"unix://{sock}"] + (["-H", f"tcp://127.0.0.1:{tcp_port}"] if tcp_port
                                         else [])
    env = {**os.environ, "PATH": f"{root}/usr/sbin:{root}/usr/bin:{os.environ['PATH']}"}
    log = (where / "dockerd.log").open("w")
    proc = subprocess.Popen(
        [str(root / "usr" / "sbin" / "dockerd"), *hosts, "--data-root", str(where / "data"),
         "--exec-root", str(where / "exec"), "--pidfile", str(pidfile), "--bridge", BRIDGE],
        stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while not _answers(sock):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the second engine did not start: "
                                   f"{(where / 'dockerd.log').read_text()[-2000:]}")
            time.sleep(0.2)
        yield f"unix://{sock}"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        # Its data root holds overlay mounts while it runs; gone now, it can be removed.
        shutil.rmtree(where / "exec", ignore_errors=True)
        if made_bridge:
            subprocess.run(["ip", "link", "delete", BRIDGE], check=False)


def _answers(sock: Path) -> bool:
    if not sock.exists():
        return False
    return subprocess.run(["docker", "-H", f"unix://{sock}", "version"], capture_output=True,
                          check=False).returncode == 0
