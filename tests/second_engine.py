"""A second, current Docker engine beside the machine's own, for tests that need one.

Debian trixie's docker.io (26.1) is downloaded once (``apt-get download``, unpacked with
``dpkg-deb -x``, never installed: the system engine stays 20.10) and its dockerd started with a
socket, data root, exec root, pidfile and bridge of its own. A bridge of its own matters: a
second dockerd started with ``--bridge=none`` deletes the first engine's docker0 (see
shared/notes/environment.md). Everything is stopped and removed on exit.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


def _bridge_up(bridge: str, address: str) -> bool:
    """The engine's bridge, up; whether it was made here (and is to be removed)."""
    made = subprocess.run(["ip", "link", "show", bridge], capture_output=True).returncode != 0
    if made:
        subprocess.run(["ip", "link", "add", bridge, "type", "bridge"], check=True)
        subprocess.run(["ip", "addr", "add", address, "dev", bridge], check=True)
    subprocess.run(["ip", "link", "set", bridge, "up"], check=True)
    return made


@contextlib.contextmanager
def second_engine(where: Path, *, tcp_port: int | None = None, tcp_host: str = "127.0.0.1",
                  bridge: str = BRIDGE, address: str = BRIDGE_ADDRESS,
                  config: dict[str, Any] | None = None,
                  tls: Path | None = None, system: bool = False) -> Iterator[str]:
    """Start Docker 26 with its state under ``where``; yield its ``unix://`` URL. Two such
    engines at once need a bridge (and subnet) each. ``config`` is its daemon.json (e.g. the
    containerd image store); with ``tls`` (see :func:`make_tls`) its tcp:// socket verifies
    clients' certificates, as `dockerd --tlsverify` on a remote machine does. With
    ``system``, the machine's own dockerd (20.10) is started instead: a new engine of the
    same version, with nothing in it."""
    root = Path("/") if system else dockerd_26()
    made_bridge = _bridge_up(bridge, address)
    where.mkdir(parents=True, exist_ok=True)
    # Sockets live under the exec root, and a unix socket path has at most 104 characters.
    exec_root = Path(tempfile.mkdtemp(prefix="he-", dir="/tmp"))
    sock, pidfile = where / "docker.sock", where / "docker.pid"
    hosts = ["-H", f"unix://{sock}"] + (["-H", f"tcp://{tcp_host}:{tcp_port}"] if tcp_port
                                         else [])
    options = ["--config-file", str(where / "daemon.json")]
    (where / "daemon.json").write_text(json.dumps(config or {}))
    if tls is not None:
        options += ["--tlsverify", f"--tlscacert={tls / 'ca.pem'}",
                    f"--tlscert={tls / 'server-cert.pem'}", f"--tlskey={tls / 'server-key.pem'}"]
    env = {**os.environ, "PATH": f"{root}/usr/sbin:{root}/usr/bin:{os.environ['PATH']}"}
    log = (where / "dockerd.log").open("w")
    proc = subprocess.Popen(
        [str(root / "usr" / "sbin" / "dockerd"), *hosts, "--data-root", str(where / "data"),
         "--exec-root", str(exec_root), "--pidfile", str(pidfile), "--bridge", bridge, *options],
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
        stop(proc, timeout=60)
        log.close()
        # Its data root holds overlay mounts while it runs; gone now, it can be removed.
        _unmount_under(exec_root, where)
        shutil.rmtree(exec_root, ignore_errors=True)
        if made_bridge:
            subprocess.run(["ip", "link", "delete", bridge], check=False)


def stop(proc: subprocess.Popen[Any], timeout: float) -> None:
    """SIGTERM, and SIGKILL when it does not end in ``timeout`` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _unmount_under(*roots: Path) -> None:
    """What a stopped dockerd can leave mounted (its data root, network namespaces of
    containers it was running), deepest first, so its directories can be removed."""
    mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    for point in sorted((m for m in mounts if any(m.startswith(str(r)) for r in roots)),
                        reverse=True):
        subprocess.run(["umount", "-l", point], check=False, capture_output=True)


def _answers(sock: Path) -> bool:
    if not sock.exists():
        return False
    return subprocess.run(["docker", "-H", f"unix://{sock}", "version"], capture_output=True,
                          check=False).returncode == 0


def make_tls(where: Path, host: str = "127.0.0.1") -> Path:
    """A CA, a server certificate for ``host`` and a client certificate, as `dockerd
    --tlsverify` and the docker CLI take them; the client's files (ca.pem, cert.pem, key.pem)
    are in the returned directory, which is what DOCKER_CERT_PATH names."""
    where.mkdir(parents=True, exist_ok=True)

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=where, check=True, capture_output=True)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
            "/CN=harness test CA", "-keyout", "ca-key.pem", "-out", "ca.pem")
    for name, ext in (("server", f"subjectAltName=IP:{host}\nextendedKeyUsage=serverAuth"),
                      ("client", "extendedKeyUsage=clientAuth")):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}",
                "-keyout", f"{name}-key.pem", "-out", f"{name}.csr")
        (where / f"{name}.ext").write_text(ext + "\n")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem",
                "-CAcreateserial", "-days", "2", "-extfile", f"{name}.ext",
                "-out", f"{name}-cert.pem")
    client = where / "client"
    client.mkdir(exist_ok=True)
    for src, dst in (("ca.pem", "ca.pem"), ("client-cert.pem", "cert.pem"),
                     ("client-key.pem", "key.pem")):
        shutil.copy(where / src, client / dst)
    return client
