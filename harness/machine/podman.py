"""This machine's Podman, for ``--engine podman``: Debian's package, and its Docker-compatible
API service started by the harness and stopped by it at the end of the run.

``podman system service --time=0 unix://SOCKET`` serves the API the docker SDK speaks, with a
containers.conf of the harness's own (CONTAINERS_CONF): Podman's default rlimits for a
container (nofile 1048576, nproc 4194304) are above the hard limits of many a CI machine or
container, where the runtime refuses them ("error setting rlimit type 7"); the harness gives
each container this process's own hard limits instead. Soft and hard are given equal: Podman
4.3 swaps the two of a ``SOFT:HARD`` default_ulimits item (measured: nofile=1024:4096 became
soft 4096, hard 1024, refused by runc as an invalid argument).

What the harness started is marked by its pid file; only that process is ever stopped, and only
while its command line is still the service on the harness's socket.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from harness.core import sinks
from harness.core.failures.errors import CannotCheck
from harness.core.platforms.engine_url import EVERY_PLATFORM, PODMAN
from harness.core.platforms.table import Platform
from harness.machine import files

START_WAIT = 60.0  # seconds the service has to answer its first ping
STOP_WAIT = 20.0  # seconds it has to end on SIGTERM, before SIGKILL
# A container's rlimits, at most this (and at most this process's hard limit).
ULIMITS = {"nofile": (resource.RLIMIT_NOFILE, 1 << 20), "nproc": (resource.RLIMIT_NPROC, 1 << 16)}

Say = Callable[[str], None]


def state_dir() -> Path:
    """Where the service's socket, configuration, pid file and log are (``~/.cache``)."""
    return files.cache_dir("podman")


def socket_path() -> Path:
    return state_dir() / "podman.sock"


def url() -> str:
    """The engine URL ``--engine podman`` stands for."""
    return f"unix://{socket_path()}"


def engines(given: Mapping[str, str], platforms: Iterable[Platform]) -> dict[str, str]:
    """``--engine`` with ``podman`` as this machine's Podman service's URL; ``--engine podman``
    alone (:data:`EVERY_PLATFORM`) is every platform's engine, but where one is named."""
    every = given.get(EVERY_PLATFORM)
    found = {name: url() if where == PODMAN else where for name, where in given.items()
             if name != EVERY_PLATFORM}
    if every is not None:
        found = {**{p.name: url() for p in platforms}, **found}
    return found


def wanted(given: Mapping[str, str]) -> bool:
    """Whether the run's engines (as :func:`engines` made them) include this machine's Podman."""
    return url() in given.values()


def _pid_file() -> Path:
    return state_dir() / "service.pid"


def log_path() -> Path:
    return state_dir() / "service.log"


def conf_path() -> Path:
    return state_dir() / "containers.conf"


def default_ulimits(within: Mapping[str, int] | None = None) -> list[str]:
    """Each container's rlimits: this process's hard limits (capped, and at most ``within``'s,
    the service's own), soft equal to hard."""
    items = []
    for name, (which, cap) in ULIMITS.items():
        hard = resource.getrlimit(which)[1]
        value = cap if hard == resource.RLIM_INFINITY else min(hard, cap)
        value = min(value, (within or {}).get(name, value))
        items.append(f"{name}={value}:{value}")
    return items


def container_rlimits() -> dict[str, int]:
    """nofile and nproc for a container that gives rlimits of its own (a probe's core=0):
    Podman then takes those alone, not containers.conf's, and adds its own refused defaults
    for the rest. The service's limits where the harness started it, else this process's."""
    pid = ours()
    within = service_limits(pid) if pid is not None else None
    return {item.partition("=")[0]: int(item.rpartition(":")[2])
            for item in default_ulimits(within)}


def service_limits(pid: int) -> dict[str, int]:
    """The hard nofile and nproc limits the process ``pid`` runs with (Podman sets its own
    as it starts, and its runtime inherits them: a container may have no more)."""
    rows = {"Max open files": "nofile", "Max processes": "nproc"}
    found: dict[str, int] = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
            for row, name in rows.items():
                parts = line[len(row):].split()
                if line.startswith(row) and len(parts) >= 2 and parts[1].isdigit():
                    found[name] = int(parts[1])
    return found


def containers_conf(within: Mapping[str, int] | None = None) -> str:
    ulimits = ", ".join(f'"{item}"' for item in default_ulimits(within))
    text = f"[containers]\ndefault_ulimits = [{ulimits}]\n"
    if not Path("/run/systemd/system").is_dir():
        # No systemd to hand cgroups and events to: Podman would warn on every call.
        text += '\n[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n'
    return text


def answers(timeout: float = 5.0) -> bool:
    """Whether the service on the harness's socket answers a ping as Podman."""
    import docker

    try:
        with contextlib.closing(docker.DockerClient(base_url=url(), timeout=int(timeout) or 1,
                                                    version="1.24")) as c:
            version = c.version(api_version=False)
    except Exception:  # any failure to answer is the answer
        return False
    return any(isinstance(part, dict) and part.get("Name") == "Podman Engine"
               for part in version.get("Components") or [])


def installed() -> bool:
    return shutil.which("podman") is not None


def ours() -> int | None:
    """The pid of the service the harness started, while it still runs as that service."""
    try:
        pid = int(_pid_file().read_text().strip())
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError):
        return None
    wanted = [b"system", b"service", url().encode()]
    return pid if all(part in command for part in wanted) else None


def start(say: Say, wait: float = START_WAIT) -> bool:
    """Start the service where none answers on the harness's socket; whether it was started
    here. Raises :class:`CannotCheck` when podman is missing or the service does not answer
    (then nothing of it is left)."""
    if answers():
        return False
    if not installed():
        raise CannotCheck("--engine podman: there is no podman on this machine",
                          "run `multiarch-harness preflight --engine podman` as root on "
                          "Debian/Ubuntu (it installs Debian's podman), or install podman")
    directory = files.own_dir(state_dir())
    stale = ours()
    if stale is not None:  # ours, but not answering: made anew
        _end(stale)
    with contextlib.suppress(FileNotFoundError):
        socket_path().unlink()
    say(f"starting Podman's API service on {socket_path()} (log: {log_path()})")
    proc = _launch(directory, None, wait)
    limits = service_limits(proc.pid)
    if containers_conf(limits) != containers_conf():
        # Podman lowered its own limits below this process's (measured: nproc 32768, the
        # kernel's pid_max, under a hard limit of 96367): its containers get no more.
        _end(proc.pid)
        proc = _launch(directory, limits, wait)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and proc.poll() is None:
        if answers():
            return True
        time.sleep(0.25)
    said = sinks.terminal(_tail(log_path()), 300)
    if proc.poll() is None:  # by its handle: whatever its command line says now
        _end(proc.pid)
    stop()
    raise CannotCheck(f"Podman's API service did not answer on {socket_path()} within "
                      f"{wait:.0f} s" + (f": {said}" if said else ""),
                      f"read {log_path()}; `podman info` says what Podman lacks here")


def _launch(directory: Path, within: Mapping[str, int] | None,
            wait: float) -> subprocess.Popen[bytes]:
    """The service started, with a containers.conf whose rlimits are at most ``within``; its
    limits are read once it has set them (it answers)."""
    conf_path().write_text(containers_conf(within))
    with log_path().open("a") as log:
        # A session of its own: it outlives preflight, which hands the run to pytest; the
        # run's end stops it (stop()).
        proc = subprocess.Popen(["podman", "system", "service", "--time=0", url()],
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                cwd=directory, start_new_session=True,
                                env={**os.environ, "CONTAINERS_CONF": str(conf_path())})
    _pid_file().write_text(f"{proc.pid}\n")
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and proc.poll() is None and not answers():
        time.sleep(0.25)
    return proc


def stop(say: Say | None = None) -> bool:
    """Stop the service the harness started (nothing else), and remove its files; whether
    there was one."""
    pid = ours()
    if pid is not None:
        if say is not None:
            say(f"stopping Podman's API service (pid {pid})")
        _end(pid)
    for path in (_pid_file(), socket_path(), conf_path()):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    return pid is not None


def _end(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_WAIT
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.1)
    if _alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie child of ours is reaped: it does not)."""
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _tail(path: Path, limit: int = 300) -> str:
    try:
        lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return lines[-1][-limit:] if lines else ""
