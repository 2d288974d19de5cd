"""The probe's container: started, asked and removed.

The container runs with no network and no privileges, under the platform it claims, and is
removed afterwards whatever happens. Each probe is one ``exec``; a probe that hangs is ended by
killing the container (the docker API cannot kill an exec), which is then started again for the
remaining probes. A command QEMU crashed on is asked again under a second QEMU, in a container
of its own. Files are read with the archive API (harness.containers.image_files), so images
without ``file`` or ``od`` can be checked.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

import docker
import docker.errors
from testcontainers.core.container import DockerContainer

from harness.containers.engine import (
    CLIENT_ERRORS,
    ENGINE_FIX,
    local_reaper_only,
    pin_tls_ca,
    sdk_env,
)
from harness.containers.engine import ulimits as engine_ulimits
from harness.containers.image_files import read_path
from harness.core.answers import audit
from harness.core.declared.usercheck import OUTPUT_CAP
from harness.core.failures.diagnosis import Event, Stage, diagnose, signal_of
from harness.core.failures.errors import (
    CannotCheck,
    EngineUnavailable,
    HarnessError,
    NoEmulation,
    ProbeTimeout,
    from_diagnosis,
)
from harness.core.jsondoc import JSON
from harness.core.outcomes import RunKind
from harness.core.platforms.table import Platform
from harness.machine import emulators, files, interrupts, polling, runs

# The shell's own `read` on a stdin that stays open: no `sleep` needed, and no loop to spin
# when an image has none.
KEEPALIVE = ["/bin/sh", "-c", "read keep"]
# A probe container's CPU weight, a quarter of the default: the probes run while other
# platforms still build, and dockerd's BuildKit runs every RUN step in one cgroup
# (docker/buildkit) beside the containers' own, so at the default weight one probe took as
# much CPU as every build together. The weight counts only while CPU is short: a probe
# alone still has every free core.
PROBE_CPU_SHARES = 256
# Least privilege, measured to be enough for every probe and the hello-world compile (under
# QEMU too; the compile peaked at 110 MiB): no capability, no new privileges, no network.
LIMITS: dict[str, Any] = {"cap_drop": ["ALL"], "security_opt": ["no-new-privileges"],
                          "pids_limit": 512, "mem_limit": "4g", "network_mode": "none",
                          "cpu_shares": PROBE_CPU_SHARES,
                          "privileged": False, "stdin_open": True,
                          # No core files: QEMU dumps one when a guest dies by a signal,
                          # which can take minutes (seen: an ARMv7 busybox on arm1176).
                          "ulimits": [docker.types.Ulimit(name="core", soft=0, hard=0)]}
LABEL = "dev.harness.probe"
# A one-shot container's init that cannot exec the command (Podman's catatonit, measured on
# 4.3.1: exit 1); Docker refuses such a start instead.
INIT_CANNOT_EXEC = re.compile(r"\(catatonit:\d+\): failed to exec pid1: No such file or "
                              r"directory")


def container_labels() -> dict[str, str]:
    """Every container the harness starts: a probe's, and of which run (its id, so that a
    run's containers are told from another's on one engine)."""
    return {LABEL: "1", **runs.labels()}



# Where a QEMU of this machine's is mounted, read-only, in a container that launches a command
# under it: a second emulator, or the baseline CPU's for a platform that runs natively.
QEMU_MOUNT = "/.harness-qemu"


@dataclass(frozen=True)
class Emulation:
    """The QEMU an emulated platform runs under, and whether a second one can be asked (its
    binary is mounted from this machine, so only where the engine runs here)."""

    name: str  # `QEMU 7.2.22`
    handler: str  # the binfmt_misc entry, `qemu-aarch64`
    local: bool

    def second(self) -> tuple[emulators.Emulator | None, str]:
        """Another QEMU for the platform, or why there is none."""
        if not self.local:
            return None, "the engine does not run on this machine"
        found = emulators.second(self.handler)
        if found is None:
            return None, (f"Debian {emulators.SUITE}'s {self.handler} could not be "
                          f"downloaded (`apt-get download {emulators.PACKAGE}`)")
        return found, ""


class ImageProbe:
    """A running container of one image, to ask questions of (a context manager)."""

    def __init__(self, client: docker.DockerClient, image: str, platform: Platform, *,
                 timeout: float = 60.0, log_path: Path | None = None,
                 mode: RunKind | None = None, docker_host: str | None = None,
                 emulation: Emulation | None = None, launcher: Path | None = None,
                 append_log: bool = False,
                 local: docker.models.images.Image | None = None) -> None:
        self.client = client
        self._given = local  # the image, where the caller has looked it up already
        self.append_log = append_log  # add to log_path (a later run of the same platform's)
        self.docker_host = docker_host
        self.image = image
        self.platform = platform
        self.mode = mode
        self.emulation = emulation
        # This machine's QEMU for the platform, to launch commands on its baseline CPU.
        self.launcher = launcher
        self._mounts = {str(launcher): QEMU_MOUNT} if launcher else {}
        self.timeout = timeout
        self.log_path = log_path
        self.local: docker.models.images.Image  # the image itself, looked up on entering
        self._tc: DockerContainer | None = None
        self._log: TextIO | None = None
        # An image without /bin/sh: a created (never started) container to read files from,
        # and each command in a container of its own.
        self._files: Any = None

    def __enter__(self) -> ImageProbe:
        self.local = self._given or local_image(self.client, self.image)
        if self.log_path:
            self._log = files.open_log(self.log_path, append=self.append_log)
        local_reaper_only()
        # testcontainers makes its own client: point it at the platform's engine.
        # (its API version given, so that it asks nothing before pin_tls_ca can act)
        env = sdk_env(self.docker_host)
        client_kw = {"environment": env, "version": self.client.api.api_version} \
            if env is not None else None
        tc = (DockerContainer(self.image, docker_client_kw=client_kw)
              .with_kwargs(platform=self.platform.name, labels=container_labels(),
                           entrypoint=KEEPALIVE, **_limits(self.client))
              .with_name(f"harness-probe-{self.platform.slug}-{uuid.uuid4().hex[:8]}"))
        for source, target in self._mounts.items():
            tc.with_volume_mapping(source, target, mode="ro")
        self._tc = tc
        pin_tls_ca(tc.get_docker_client().client)
        try:
            tc.start()
            self._wait_running()
        except docker.errors.APIError as exc:
            self._close_container()
            error = self._diagnose(Stage.START, str(exc.explanation or exc))
            if error.cause != "no-shell":
                self.close()
                raise error from exc
            self._log_line(f"# {error.message}")
            try:
                self._files = files_only(self.client, self.image, self.platform)
            except BaseException:
                self.close()
                raise
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._close_container()
        if self._files is not None:
            with contextlib.suppress(*CLIENT_ERRORS):
                self._files.remove(force=True)
            self._files = None
        if self._log:
            self._log.close()
            self._log = None

    def _close_container(self) -> None:
        if self._tc is not None:
            try:
                self._tc.stop()
            except docker.errors.NotFound:
                pass
            except CLIENT_ERRORS:
                self._force_remove()
            self._tc.get_docker_client().client.close()  # its own connection to the engine
            self._tc = None

    def _stopped(self, state: JSON) -> HarnessError:
        """Why the keep-alive process is gone: no emulation, a foreign shell, or no shell."""
        logs = self.container.logs(tail=50).decode(errors="replace")
        return self._diagnose(Stage.START, logs, state.get("ExitCode"))

    def _diagnose(self, stage: Stage, output: str, status: int | None = None,
                  **event: Any) -> HarnessError:
        d = diagnose(Event(stage, output=output, status=status, platform=self.platform.name,
                           mode=self.mode, log=str(self.log_path or ""), **event))
        return from_diagnosis(d, NoEmulation if d.cause == "no-emulation" else None)

    def _force_remove(self) -> None:
        assert self._tc is not None
        container = self._tc.get_wrapped_container()
        if container is not None:
            with contextlib.suppress(*CLIENT_ERRORS):
                self.client.containers.get(container.id).remove(force=True)

    @property
    def container(self) -> Any:
        if self._files is not None:
            return self._files
        assert self._tc is not None, "use ImageProbe as a context manager"
        return self._tc.get_wrapped_container()

    def _wait_running(self) -> None:
        def running() -> bool | None:
            self.container.reload()
            state = self.container.attrs["State"]
            if state.get("Running"):
                return True
            if state.get("Status") in ("exited", "dead"):
                raise self._stopped(state)
            return None

        if polling.until(running, self.timeout, 0.05) is None:
                raise ProbeTimeout(f"{self.image} did not start within {self.timeout:.0f} s",
                               "check the engine; raise --probe-timeout under slow emulation")

    # -- asking ---------------------------------------------------------------------------

    def exec(self, cmd: list[str], timeout: float | None = None) -> tuple[int, str]:
        """Run ``cmd``; (exit code, output) as the image's command gave them."""
        out = self.run(cmd, timeout)
        return out.status, out.text

    def run(self, cmd: list[str], timeout: float | None = None,
            env: dict[str, str] | None = None, *, split: bool = False,
            user: str = "") -> Output:
        """Run ``cmd``: its exit status and its output, read up to ``OUTPUT_CAP`` bytes (the
        rest drained and counted), so memory stays bounded whatever the image prints.
        ``split``: stderr apart from stdout (``Output.stderr``); ``user``: run as that user."""
        limit = timeout or self.timeout
        if self._files is not None:
            return self._run_alone(cmd, limit, env or {}, self._mounts, split=split, user=user)
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
        future = pool.submit(self._exec_streamed, cmd, env or {}, split, user)
        try:
            result = future.result(timeout=limit)
        except concurrent.futures.TimeoutError as exc:
            timeout_error = self._timed_out(cmd, limit)
            # The API cannot kill an exec: kill the container, wait until it is down, and
            # start it again for the remaining probes.
            self.container.kill()
            self.container.wait(timeout=30)
            pool.shutdown(wait=True)
            self.container.start()
            self._wait_running()
            raise timeout_error from exc
        except docker.errors.APIError as exc:
            self.container.reload()
            state = self.container.attrs["State"]
            if not state.get("Running"):
                # It was running a moment ago: a foreign shell fails only once exec'd, so a
                # missing handler can show up here rather than at start.
                raise self._stopped(state) from exc
            raise CannotCheck(f"`{' '.join(cmd)}` could not run: {exc.explanation}",
                              "see the probe log and the engine's log") from exc
        except CLIENT_ERRORS as exc:
            raise EngineUnavailable(f"the engine failed during a probe: {exc}", ENGINE_FIX) \
                from exc
        finally:
            pool.shutdown(wait=False)
        self._log_output(cmd, result)
        return result

    def _exec_streamed(self, cmd: list[str], env: dict[str, str], split: bool = False,
                       user: str = "") -> Output:
        api = self.container.client.api
        exec_id = api.exec_create(self.container.id, cmd, user=user,
                                  environment={"USER": user or "root", **env})["Id"]
        stream = api.exec_start(exec_id, stream=True, demux=split)
        data, dropped, err = _capped_split(stream) if split else (*_capped(stream), b"")
        # The stream ends a moment before the engine records the status.
        code = polling.until(lambda: api.exec_inspect(exec_id).get("ExitCode"), 1.0, 0.02)
        return Output(-1 if code is None else int(code), data.decode(errors="replace"), dropped,
                      err.decode(errors="replace"))

    def _log_output(self, cmd: list[str], out: Output) -> None:
        more = f"\n[{out.dropped} more bytes not read]" if out.dropped else ""
        self._log_line(f"$ {' '.join(cmd)}\n{out.text.rstrip()}{more}\n[exit {out.status}]")

    def _timed_out(self, cmd: list[str], limit: float) -> ProbeTimeout:
        """A command that did not answer: logged, and diagnosed like any other failure."""
        self._log_line(f"$ {' '.join(cmd)}\n!! timed out after {limit:.0f} s")
        d = self._diagnose(Stage.PROBE, "", command=" ".join(cmd), timed_out=True)
        return ProbeTimeout(f"{d.message} within {limit:.0f} s", d.fix, cause=d.cause)

    def failure(self, cmd: list[str], out: Output, expected: int, limit: float | None,
                required: bool) -> Event:
        """What happened when ``cmd`` exited other than ``expected``, to diagnose: where QEMU
        crashed, with what a second QEMU made of the same command (the image's fault only if
        it crashes there too)."""
        event = Event(Stage.PROBE, output=out.text + out.stderr, status=out.status,
                      command=" ".join(cmd), platform=self.platform.name, mode=self.mode,
                      subject=cmd[0], required=required,
                      emulator=self.emulation.name if self.emulation else "",
                      interrupted=interrupts.stopping())
        if self.emulation is not None and diagnose(event).cause == "emulator-crash":
            event = self.again_elsewhere(event, cmd, expected, limit)
        return event

    def again_elsewhere(self, event: Event, cmd: list[str], expected: int,
                        limit: float | None) -> Event:
        """``event`` (QEMU crashed running ``cmd``) with what a second QEMU made of the same
        command: run by it directly, in a container of its own. (Programs the command starts
        run under the system's QEMU again: binfmt_misc decides those.)"""
        assert self.emulation is not None
        second, why_not = self.emulation.second()
        if second is None:
            return replace(event, why_not=why_not)
        path = on_path(self, cmd[0])
        if path is None:
            return replace(event, why_not=f"{cmd[0]} was not found to run it again")
        self._log_line(f"# {self.emulation.name} crashed: again under {second.describe()}")
        try:
            out = self._run_alone([QEMU_MOUNT, path, *cmd[1:]], limit or self.timeout, {},
                                  mounts={str(second.path): QEMU_MOUNT})
        except ProbeTimeout:
            return replace(event, second=second.describe(), elsewhere=True)  # alive there
        died = signal_of(out.status) is not None  # by a signal, as QEMU passes it on
        return replace(event, second=second.describe(),
                       elsewhere=out.status == expected or not died)

    def _run_alone(self, cmd: list[str], limit: float, env: dict[str, str],
                   mounts: dict[str, str] | None = None, *, split: bool = False,
                   user: str = "") -> Output:
        """``cmd`` in a container of its own (the image has no shell to exec in, or the
        command runs under a program of this machine's mounted read-only: ``mounts``)."""
        one = self.client.containers.create(
            self.image, entrypoint=cmd[:1], command=cmd[1:], platform=self.platform.name,
            labels=container_labels(), environment=env, user=user or None,
            volumes=_volumes(mounts or {}), **_one_shot_limits(self.client))
        try:
            try:
                one.start()
            except docker.errors.APIError as exc:  # the command is not in the image
                result = Output(127, str(exc.explanation or exc))
                self._log_output(cmd, result)
                return result
            try:
                code = int(one.wait(timeout=limit)["StatusCode"])
            except Exception as exc:  # the engine's read timed out: the command hangs
                raise self._timed_out(cmd, limit) from exc
            if split:
                data, dropped = _capped(one.logs(stream=True, stderr=False))
                err, more = _capped(one.logs(stream=True, stdout=False))
            else:
                (data, dropped), err, more = _capped(one.logs(stream=True)), b"", 0
            result = Output(code, data.decode(errors="replace"), dropped + more,
                            err.decode(errors="replace"))
            if code != 0 and INIT_CANNOT_EXEC.search(result.text + result.stderr):
                # Podman's init (catatonit) starts, then cannot exec the command: what
                # Docker's refused start says, the command is not in the image.
                result = replace(result, status=127)
        finally:
            with contextlib.suppress(*CLIENT_ERRORS):
                one.remove(force=True)
        self._log_output(cmd, result)
        return result

    def head(self, path: str, size: int = 64, hops: int = 8) -> tuple[str, bytes] | None:
        """The first bytes of ``path`` (following symlinks); None when it does not exist.
        The archive is read as a stream and only its first ``audit.HEAD`` bytes of content are
        kept, so a binary of hundreds of megabytes costs kilobytes."""
        return self.read(path, min(size, audit.HEAD), hops)

    def read(self, path: str, limit: int, hops: int = 8) -> tuple[str, bytes] | None:
        """(the path symlinks led to, its first ``limit`` bytes); None when there is no such
        file. Read as a stream: the rest of the file is never transferred."""
        return read_path(self.container, path, limit, hops)

    def _log_line(self, text: str) -> None:
        if self._log:
            self._log.write(text + "\n")
            self._log.flush()


@dataclass(frozen=True)
class Output:
    """What a command in the image gave: its exit status, its output as far as it was read,
    and how many bytes more it printed (drained, never kept)."""

    status: int
    text: str  # stdout and stderr as they came, or stdout alone where asked apart
    dropped: int = 0
    stderr: str = ""  # where stderr was asked apart from stdout


class _Kept:
    """The first ``cap`` bytes of a stream, and a count of the bytes after them (drained)."""

    def __init__(self, cap: int) -> None:
        self.cap, self.data, self.dropped = cap, bytearray(), 0

    def add(self, chunk: bytes) -> None:
        room = max(self.cap - len(self.data), 0)
        self.data += chunk[:room]
        self.dropped += max(len(chunk) - room, 0)


def _capped_split(pairs: Iterable[tuple[bytes | None, bytes | None]],
                  cap: int = OUTPUT_CAP) -> tuple[bytes, int, bytes]:
    """A demultiplexed stream's stdout and stderr, each up to ``cap`` bytes: (stdout, bytes
    dropped from both, stderr). The stream is closed afterwards, as in :func:`_capped`."""
    out, err = _Kept(cap), _Kept(cap)
    try:
        for pair in pairs:
            for chunk, kept in zip(pair, (out, err), strict=True):
                if chunk:
                    kept.add(chunk)
    finally:
        _close(pairs)
    return bytes(out.data), out.dropped + err.dropped, bytes(err.data)


def _close(stream: Any) -> None:
    """Close an SDK stream. Its CancellableStream shuts its socket down but leaves the HTTP
    response, which still holds the socket, open: closed too, or each exec leaks a socket."""
    close = getattr(stream, "close", None)
    if close is not None:
        close()
    response = getattr(stream, "_response", None)
    if response is not None:
        response.close()


def _capped(chunks: Iterable[bytes], cap: int = OUTPUT_CAP) -> tuple[bytes, int]:
    """The first ``cap`` bytes of a stream, and the count of the bytes after them (read to
    the end, so the command is not blocked on a full pipe, and dropped). The stream is closed
    afterwards: the SDK's streams hold their connection until then."""
    kept = _Kept(cap)
    try:
        for chunk in chunks:
            kept.add(chunk)
    finally:
        _close(chunks)
    return bytes(kept.data), kept.dropped


def _volumes(mounts: dict[str, str]) -> dict[str, dict[str, str]]:
    """Files of this machine's (source -> path in the container), mounted read-only."""
    return {src: {"bind": dst, "mode": "ro"} for src, dst in mounts.items()}


def _limits(client: docker.DockerClient) -> dict[str, Any]:
    """The probe container's limits, with the rlimits the engine of ``client`` needs given
    (harness.containers.engine.ulimits: Podman's)."""
    return {**LIMITS, "ulimits": engine_ulimits(client, LIMITS["ulimits"])}


def _one_shot_limits(client: docker.DockerClient) -> dict[str, Any]:
    """The probe container's limits, for containers that run one command (no stdin). The
    engine's init runs as PID 1: a command that is PID 1 ignores the signals it does not
    handle, so one that dies by a signal (QEMU re-raising the guest's) would hang."""
    return {**{k: v for k, v in _limits(client).items() if k != "stdin_open"}, "init": True}


def files_only(client: docker.DockerClient, image: str, platform: Platform,
               prefix: str = "harness-probe") -> Any:
    """A container of ``image`` that is never started, to read files from. Its command is
    one of its own, so that an image with neither CMD nor ENTRYPOINT can be read too (the
    engine refuses to create one without)."""
    return client.containers.create(
        image, platform=platform.name, labels=container_labels(),
        entrypoint=["/harness-files-only"],
        name=f"{prefix}-{platform.slug}-{uuid.uuid4().hex[:8]}", **_one_shot_limits(client))


def local_image(client: docker.DockerClient, image: str) -> docker.models.images.Image:
    """The engine's image ``image``, looked up once for every question of a probe that its
    ID or config answers. (testcontainers would pull a missing image, without the platform:
    never let it.)"""
    try:
        return client.images.get(image)
    except docker.errors.ImageNotFound as exc:
        raise CannotCheck(f"no local image {image} to probe",
                          "build it first (`nox -s build`)") from exc


def which(probe: ImageProbe, name: str) -> str | None:
    """The file ``name`` runs, or None. `command -v` prints a path for a file and a bare name
    for a builtin, function or busybox applet: only a path is a file."""
    code, out = probe.exec(["sh", "-c", f"command -v {name}"])
    found = out.strip().splitlines()[-1] if code == 0 and out.strip() else ""
    return found if found.startswith("/") else None


# The PATH of Debian's images, where `command -v` names no file (busybox's applets are its
# shell's builtins there).
DEFAULT_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")


def on_path(probe: ImageProbe, name: str) -> str | None:
    """The file ``name`` runs as a program of its own (a path is its own answer), or None."""
    if name.startswith("/"):
        return name
    found = which(probe, name)
    if found is None:
        found = next((f"{d}/{name}" for d in DEFAULT_PATH if probe.head(f"{d}/{name}", 4)),
                     None)
    return found
