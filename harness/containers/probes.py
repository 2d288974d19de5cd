"""Start an image and ask it what it is.

The container runs with no network and no privileges, under the platform it claims, and is
removed afterwards whatever happens. Each probe is one ``exec``; a probe that hangs is ended by
killing the container (the docker API cannot kill an exec), which is then started again for the
remaining probes. Binaries are copied out with the archive API and their ELF headers read in
Python, so images without ``file`` or ``od`` can be checked.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import functools
import os
import posixpath
import re
import tarfile
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import Any, TextIO

import docker
import docker.errors
from testcontainers.core.container import DockerContainer

from harness.containers import filesystem
from harness.containers.engine import (
    CLIENT_ERRORS,
    ENGINE_FIX,
    local_reaper_only,
    pin_tls_ca,
    platform_of,
    sdk_env,
)
from harness.containers.engine import (
    ulimits as engine_ulimits,
)
from harness.core import audit, baseline, elf, extensions, isa, linkage, sources
from harness.core import observation as obs
from harness.core.diagnosis import Event, Stage, diagnose, signal_of
from harness.core.elf import HEADER_SIZE
from harness.core.errors import (
    CannotCheck,
    EngineUnavailable,
    HarnessError,
    NoEmulation,
    ProbeTimeout,
    from_diagnosis,
)
from harness.core.observation import Observation
from harness.core.outcomes import Kind, RunKind
from harness.core.platforms import EM_ARM, EM_X86_64, Platform, find
from harness.core.usercheck import OUTPUT_CAP, DeclaredCheck
from harness.machine import emulators, files, interrupts, kept, runs
from harness.machine.streams import ChunkFile

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


HELLO_DIR = "/tmp/harness-hello"
# Built as a CI builds it: no incremental cache and no debug info for the crate (std is linked
# as it is): under QEMU this is a quarter less time (9.3 s to 7.3 s on arm64), and compiling
# and linking are proved the same. Both settings are cargo's since 1.41 (2020).
HELLO_SCRIPT = (
    f"set -e; rm -rf {HELLO_DIR}; cargo new --vcs none --quiet --name harness-hello {HELLO_DIR}; "
    f"cd {HELLO_DIR}; CARGO_INCREMENTAL=0 CARGO_PROFILE_DEV_DEBUG=0 cargo build --offline "
    "--quiet; ./target/debug/harness-hello"
)
HELLO_GREETING = "Hello, world!"


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

    def _stopped(self, state: dict[str, Any]) -> HarnessError:
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
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            self.container.reload()
            state = self.container.attrs["State"]
            if state.get("Running"):
                return
            if state.get("Status") in ("exited", "dead"):
                raise self._stopped(state)
            time.sleep(0.05)
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
        code = api.exec_inspect(exec_id).get("ExitCode")
        for _ in range(50):  # the stream ends a moment before the engine records the status
            if code is not None:
                break
            time.sleep(0.02)
            code = api.exec_inspect(exec_id).get("ExitCode")
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
        path = _on_path(self, cmd[0])
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


@contextlib.contextmanager
def _tar_stream(chunks: Any) -> Iterator[tarfile.TarFile]:
    """A tar archive from the engine (an archive copy, an export), read as a stream: only as
    far as asked, and the transfer stopped when done."""
    reader = ChunkFile(chunks)
    try:
        with tarfile.open(fileobj=reader, mode="r|") as tar:
            yield tar
    finally:
        reader.close()


def files_only(client: docker.DockerClient, image: str, platform: Platform,
               prefix: str = "harness-probe") -> Any:
    """A container of ``image`` that is never started, to read files from. Its command is
    one of its own, so that an image with neither CMD nor ENTRYPOINT can be read too (the
    engine refuses to create one without)."""
    return client.containers.create(
        image, platform=platform.name, labels=container_labels(),
        entrypoint=["/harness-files-only"],
        name=f"{prefix}-{platform.slug}-{uuid.uuid4().hex[:8]}", **_one_shot_limits(client))


def stat_path(container: Any, path: str) -> tarfile.TarInfo | None:
    """``path``'s own tar header in ``container`` (a symlink not followed), or None."""
    try:
        stream, _stat = container.get_archive(path)
    except docker.errors.NotFound:
        return None
    with _tar_stream(stream) as tar:
        return tar.next()


def read_path(container: Any, path: str, limit: int, hops: int = 8
              ) -> tuple[str, bytes] | None:
    """(the path symlinks led to, its first ``limit`` bytes) in ``container``; None when
    there is no such file. Read as a stream: the rest of the file is never transferred."""
    found = read_sized(container, path, limit, hops)
    return None if found is None else found[:2]


def read_sized(container: Any, path: str, limit: int, hops: int = 8
               ) -> tuple[str, bytes, int] | None:
    """:func:`read_path`, and the file's whole size (its tar header's), so that a reader
    knows what it did not read."""
    for _ in range(hops):
        try:
            stream, _stat = container.get_archive(path)
        except docker.errors.NotFound:
            return None
        with _tar_stream(stream) as tar:
            member = tar.next()
            if member is None:
                return None
            if member.issym():
                target = member.linkname
                path = target if target.startswith("/") else posixpath.normpath(
                    posixpath.join(posixpath.dirname(path), target))
                continue
            fh = tar.extractfile(member)
            return path, (fh.read(limit) if fh else b""), member.size
    return None


def local_image(client: docker.DockerClient, image: str) -> docker.models.images.Image:
    """The engine's image ``image``, looked up once for every question of a probe that its
    ID or config answers. (testcontainers would pull a missing image, without the platform:
    never let it.)"""
    try:
        return client.images.get(image)
    except docker.errors.ImageNotFound as exc:
        raise CannotCheck(f"no local image {image} to probe",
                          "build it first (`nox -s build`)") from exc


def _answer(probe: ImageProbe, source: str, cmd: list[str],
            make: Callable[[str], Observation], timeout: float | None = None,
            required: frozenset[str] = frozenset(), status: int = 0,
            timeout_fix: str | None = None) -> Observation:
    """``source``'s observation; a command that does not answer (exits other than
    ``status``) is diagnosed. ``timeout_fix``: the fix of a hang where the command had a
    time limit of its own (a declared check's ``timeout``), not the run's."""
    try:
        result = probe.run(cmd, timeout)
        if not result.text.strip() and source in sources.BY_NAME:
            # Every built-in source prints its answer, or why it has none; saying nothing is
            # a lost exec, asked once more (seen on Docker 20.10 under load: `uname -m` exit 0
            # and `getconf LONG_BIT` exit 126, each with no output, in the amd64 probes).
            probe._log_line("# no answer: asked once more")
            result = probe.run(cmd, timeout)
    except ProbeTimeout as exc:
        return obs.failed(source, exc.message, fix=timeout_fix or exc.fix,
                          cause=exc.cause or None)
    code, out = result.status, result.text
    if code == status:
        seen = make(out)
        if result.dropped:
            seen.detail["dropped_bytes"] = result.dropped
        return seen
    event = probe.failure(cmd, result, status, timeout, required=source in required)
    d = diagnose(event)
    if d.kind in (Kind.MISSING, Kind.ABSENT):
        # Not found, or found and not executable (a missing program interpreter says ENOENT)?
        if _which(probe, cmd[0]) is None:
            return obs.absent(source)
        d = diagnose(replace(event, exists=True))
    return obs.failed(source, d.message, d.kind, d.fix, d.cause)


def _elf(probe: ImageProbe, source: str, path: str | None) -> Observation:
    if not path:
        return obs.absent(source)
    found = probe.head(path)
    if found is None:
        return obs.absent(source)
    real, data = found
    return obs.elf(source, data, real)


def _which(probe: ImageProbe, name: str) -> str | None:
    """The file ``name`` runs, or None. `command -v` prints a path for a file and a bare name
    for a builtin, function or busybox applet: only a path is a file."""
    code, out = probe.exec(["sh", "-c", f"command -v {name}"])
    found = out.strip().splitlines()[-1] if code == 0 and out.strip() else ""
    return found if found.startswith("/") else None


# The PATH of Debian's images, where `command -v` names no file (busybox's applets are its
# shell's builtins there).
DEFAULT_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")


def _on_path(probe: ImageProbe, name: str) -> str | None:
    """The file ``name`` runs as a program of its own (a path is its own answer), or None."""
    if name.startswith("/"):
        return name
    found = _which(probe, name)
    if found is None:
        found = next((f"{d}/{name}" for d in DEFAULT_PATH if probe.head(f"{d}/{name}", 4)),
                     None)
    return found


def observe(client: docker.DockerClient, image: str, platform: Platform, *,
            timeout: float = 60.0, hello_timeout: float = 600.0,
            log_path: Path | None = None, mode: RunKind | None = None,
            required: frozenset[str] = frozenset(),
            allow_foreign: tuple[str, ...] = (),
            checks: tuple[DeclaredCheck, ...] = (),
            docker_host: str | None = None,
            emulation: Emulation | None = None,
            launcher: Path | None = None,
            keep_audits: bool = False, keep_answers: dict[str, Any] | None = None,
            read_answers: bool = False, native_modules: str = "auto",
            native_skip: tuple[str, ...] = ()) -> list[Observation]:
    """Every source's answer for ``image``, started as ``platform``; ``keep_audits``: read
    back the audits of an image ID audited before, and keep this one's; ``keep_answers``
    (for an engine on this machine, what it runs containers with: EngineFacts.runtime): keep
    this run's answers, and with ``read_answers`` read them back where the same image ran
    before on this machine as it would run now (harness.machine.kept). A platform with
    declared checks is asked again every time: a user's command may depend on what no key
    holds."""
    local = local_image(client, image)
    os_, arch, variant = platform_of(local.attrs)
    # Run the image as what it is: an image of another platform than requested is already a
    # failure (config), and its own answers show what it really holds.
    run_as = find(arch, variant, os=os_) or platform
    name = None
    if keep_answers is not None and not checks:
        name = kept.answers_key(local.id, platform.name, {
            "run_as": run_as.name, "mode": mode, "timeout": timeout,
            "hello_timeout": hello_timeout, "required": sorted(required),
            "allow_foreign": list(allow_foreign),
            "emulation": emulation and [emulation.name, emulation.handler, emulation.local],
            "launcher": launcher and kept.file_stamp(str(launcher)),
            "native": [native_modules, list(native_skip)]}, keep_answers)
        found = _read_answers(name, image, log_path) if read_answers else None
        if found is not None:
            return found
    found = _observe(client, local, image, platform, run_as, [obs.config(os_, arch, variant)],
                     timeout=timeout, hello_timeout=hello_timeout, log_path=log_path,
                     mode=mode, required=required, allow_foreign=allow_foreign,
                     checks=checks, docker_host=docker_host, emulation=emulation,
                     launcher=launcher, keep_audits=keep_audits,
                     native_modules=(native_modules, native_skip))
    if name is not None and all(o.error is None for o in found):
        kept.store(name, [{**o.to_dict(), "output": o.output} for o in found],
                   kept.answers_dir())
    return found


def _read_answers(name: str, image: str, log_path: Path | None) -> list[Observation] | None:
    """The answers kept under ``name`` (each marked ``read: kept``, timed as read now), or
    None: never kept, or of another shape (asked again)."""
    started = time.time()
    seen = _kept_observations(name, kept.answers_dir(), "config")
    if seen is None:
        return None
    for o in seen:
        o.detail["read"] = "kept"
        if "started" in o.detail:  # the report's timeline: this run's reading, not that run
            o.detail.update(started=started, seconds=round(time.time() - started, 3))
    if log_path is not None:
        with files.open_log(log_path) as fh:
            fh.write(f"answers read back: {image} ran before on this machine "
                     "as it would run now (the same engine, kernel, CPU, emulators and "
                     "options; --no-cache asks again)\n")
    return seen


def _kept_observations(name: str, where: Path, first: str) -> list[Observation] | None:
    """The observations kept under ``name`` in ``where``, the first of them ``first``'s; None
    when none are kept or the file is of another shape (asked again)."""
    found = kept.load(name, where)
    try:
        seen = [Observation.from_dict(d) for d in found or ()]
    except TypeError:
        return None
    return seen if seen and seen[0].source == first else None


def _observe(client: docker.DockerClient, local: docker.models.images.Image, image: str,
             platform: Platform, run_as: Platform, found: list[Observation], *,
             timeout: float, hello_timeout: float,
             log_path: Path | None, mode: RunKind | None, required: frozenset[str],
             allow_foreign: tuple[str, ...], checks: tuple[DeclaredCheck, ...],
             docker_host: str | None, emulation: Emulation | None, launcher: Path | None,
             keep_audits: bool, native_modules: tuple[str, tuple[str, ...]] = ("auto", ())
             ) -> list[Observation]:
    """Every source's answer, asked of a container of ``image`` run as ``run_as``."""
    with ImageProbe(client, image, run_as, timeout=timeout, log_path=log_path,
                    mode=mode, docker_host=docker_host, emulation=emulation,
                    launcher=launcher, local=local) as probe:
        def answer(source: str) -> Observation:
            """A command source of harness.core.sources, its answer read by PARSERS."""
            return _answer(probe, source, list(sources.BY_NAME[source].command),
                           PARSERS[source], required=required)

        # The hello world's compile is the longest probe (under QEMU, most of a platform's
        # checks): it starts as soon as cargo has answered, and everything else is asked
        # beside it. The audit reads the filesystem through the engine and emulates
        # nothing, so it starts at once too; the baseline CPU's runs of the commands that
        # have answered need nothing the compile makes (its binary is run there after it).
        cargo = answer("cargo")
        baseline_cpu = obs.applies("baseline-cpu", platform) and (
            mode is RunKind.QEMU or probe.launcher is not None)
        with _beside() as pool:
            compiled = pool.submit(_hello, probe, cargo, hello_timeout)
            audited = pool.submit(_audit_kept, probe, platform, allow_foreign, keep_audits)
            userland = _userland(answer)
            found.extend(userland)
            found.append(_packages(probe, userland))
            found.append(answer("uname"))
            found.append(answer("getconf"))
            found.append(_elf(probe, "sh-elf", "/bin/sh"))
            found.append(answer("rustc"))
            found.append(_elf(probe, "rustc-elf", _which(probe, "rustc")))
            found.append(cargo)
            early = pool.submit(_baseline_run, probe, platform,
                                _answered_commands(found)) if baseline_cpu else None
            found.extend(audited.result())
            found.append(_native(probe, platform, found, *native_modules,
                                 on_baseline=baseline_cpu))
            early_ran = early.result() if early is not None else None
            hello = compiled.result()
        found.extend(hello)
        for check in checks:  # a declared check's command must be there: it is required
            seen = _answer(probe, check.source, list(check.command),
                           functools.partial(obs.declared, check, platform=platform),
                           check.timeout,
                           required=frozenset({check.source}), status=check.status,
                           timeout_fix=None if check.timeout is None else
                           f"raise timeout (now {check.timeout:g} s) in "
                           f"[tool.harness.checks.{check.name}], or fix the command")
            seen.detail.setdefault("command", check.shown)
            found.append(seen)
        if early_ran is not None:
            late = _baseline_run(probe, platform, _late_commands(found, checks))
            found.append(_baseline(platform, early_ran, late))
    return found + obs.not_applicable(platform)  # reported as such, never as absent


def _native(probe: ImageProbe, platform: Platform, found: list[Observation], mode: str,
            skip: tuple[str, ...], *, on_baseline: bool) -> Observation:
    """The audit's native modules, loaded (containers.native_modules); none found, or
    ``native-modules = "off"``: nothing is run."""
    from harness.containers import native_modules  # it imports this module

    audited = next((o for o in found if o.source == "elf-audit"), None)
    listed = audited.detail.pop("native_modules", []) if audited is not None else []
    if mode == "off":
        return obs.native_modules({"mode": "off", "count": len(listed)})
    if not listed:
        return obs.absent("native-modules")
    return native_modules.load_all(probe, platform, [extensions.Module(**m) for m in listed],
                                   on_baseline=on_baseline, skip=skip)


@contextlib.contextmanager
def _beside() -> Iterator[concurrent.futures.ThreadPoolExecutor]:
    """Threads for the probes that run beside the others. On the way out by an error or
    Ctrl-C nothing waits for them: the probe's container is removed next, which ends the
    commands they wait on (a compile under QEMU can take minutes)."""
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=3)
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


@dataclass
class _BaselineRun:
    """Commands run on the platform's baseline CPU: (command, status, illegal instruction),
    what ``uname -m`` said there, and when the run started and how long it took."""

    ran: list[tuple[str, int, bool]]
    uname: str | None
    started: float
    seconds: float


def _answered_commands(found: list[Observation]) -> list[list[str]]:
    """The image's own commands that answered before the hello world: asked again on the
    baseline CPU."""
    answered = {o.source for o in found if o.raw is not None and o.error is None}
    return [list(sources.BY_NAME[s].command) for s in ("uname", *sources.USERLANDS,
                                                      "getconf", "rustc", "cargo")
            if s in answered]


def _late_commands(found: list[Observation], checks: tuple[DeclaredCheck, ...]
                   ) -> list[list[str]]:
    """The hello world's binary, where it ran, and the declared checks that answered."""
    answered = {o.source for o in found if o.raw is not None and o.error is None}
    commands = []
    if "hello" in answered and next(o for o in found if o.source == "hello").value == "ran":
        commands.append([f"{HELLO_DIR}/target/debug/harness-hello"])
    return commands + [list(c.command) for c in checks if c.source in answered]


def _baseline_run(probe: ImageProbe, platform: Platform, commands: list[list[str]]
                  ) -> _BaselineRun:
    """``commands`` asked again on the platform's oldest CPU: QEMU_CPU for an emulated
    platform, QEMU launched with -cpu for one that runs natively."""
    cpu = baseline.CPUS[platform.name][0]
    ran: list[tuple[str, int, bool]] = []
    uname = None
    start, started = time.monotonic(), time.time()
    for cmd in commands:
        shown = " ".join(cmd)
        asked, env = cmd, {"QEMU_CPU": cpu}
        if probe.launcher:
            path = _on_path(probe, cmd[0])
            if path is None:
                continue
            asked, env = [QEMU_MOUNT, "-cpu", cpu, path, *cmd[1:]], {}
        try:
            out = probe.run(asked, env=env)
        except ProbeTimeout:
            ran.append((shown, -1, False))
            continue
        ran.append((shown, out.status, baseline.illegal(out.status, out.text[-4096:])))
        if cmd == ["uname", "-m"] and out.status == 0:
            # Its last line: QEMU warns first of CPU features its TCG does not have.
            uname = (out.text.strip().splitlines() or [""])[-1].strip()
    return _BaselineRun(ran, uname, started, time.monotonic() - start)


def _baseline(platform: Platform, early: _BaselineRun, late: _BaselineRun) -> Observation:
    """One observation of both runs on the baseline CPU, timed from the first's start to
    the second's end (the report's timeline)."""
    cpu, about = baseline.CPUS[platform.name]
    seen = obs.baseline_cpu(cpu, about, early.ran + late.ran, early.uname or late.uname)
    seen.detail["seconds"] = round(late.started + late.seconds - early.started, 2)
    seen.detail["started"] = early.started  # wall clock, for the report's timeline
    return seen


# How each command source's answer is read (the commands are in harness.core.sources).
PARSERS: dict[str, Callable[[str], Observation]] = {
    "dpkg": obs.dpkg, "apk": obs.apk, "rpm": obs.rpm, "uname": obs.uname,
    "getconf": obs.getconf, "rustc": obs.rustc, "cargo": obs.cargo,
}


def _userland(answer: Callable[[str], Observation]) -> list[Observation]:
    """The package manager's own name for the userland: dpkg, else apk, else rpm (each asked
    only where the one before is absent)."""
    found = []
    for source in sources.USERLANDS:
        seen = answer(source)
        found.append(seen)
        if not seen.absent:
            break
    return found


def _packages(probe: ImageProbe, userland: list[Observation]) -> Observation:
    """The package database of the userland that answered, listed by its own tool."""
    manager = next((o.source for o in userland if not o.absent and o.error is None), None)
    if manager is None:
        return obs.absent("packages")
    where = sources.PACKAGE_MARKS.get(manager)
    found = probe.read(where, sources.MARKS_BYTES) if where else None
    marks = found[1].decode("utf-8", "replace") if found is not None else None
    seen = _answer(probe, "packages", list(sources.PACKAGE_LISTS[manager]),
                   functools.partial(obs.packages, manager, marks=marks))
    if seen.error is None:
        seen.detail["marks"] = where if found is not None else None
    return seen


def _audit(probe: ImageProbe, platform: Platform, allow: tuple[str, ...], *,
           deep: bool = True) -> list[Observation]:
    """Every ELF file of the container's filesystem, streamed from the engine (nothing runs
    in the image, nothing is emulated): the ELF audit (``elf-audit``) of each file's first
    bytes, and in the same pass what the loader needs of it (``linkage``): its dynamic
    section, the image's symlinks and the loader's configuration. ``deep=False``: the ELF
    audit alone (the bench's measure of what linkage and isa cost)."""
    start, started = time.monotonic(), time.time()
    tree = linkage.Tree(library_path=_library_path(probe))
    isa_seen = isa.Isa()
    finder = extensions.Finder()  # Python's extension modules, for native-modules
    lists: dict[str, bytes] = {}  # dpkg's file lists, for the files no package owns
    # What is read whole, in all (linkage's budgets): the loader's files, then the lists.
    config_reads = filesystem.Reads(linkage.CONFIG_BUDGET, linkage.CONFIG_LIMIT)
    list_reads = filesystem.Reads(linkage.LISTS_BUDGET)
    # The distributions' RECORDs and package.json files only name the native modules found.
    text_reads = filesystem.Reads(extensions.TEXT_BUDGET, extensions.TEXT_LIMIT)

    def files(entries: Iterator[filesystem.Entry]) -> Iterator[tuple[str, bytes, int]]:
        for entry in entries:
            path = entry.path
            if path == HELLO_DIR or path.startswith(HELLO_DIR + "/"):
                continue  # the hello world's own files, written meanwhile
            tree.paths.add(path)
            if entry.kind == "symlink":
                tree.links[path] = entry.link
            elif entry.kind == "hardlink":
                tree.hardlinks[path] = entry.link
            elif entry.kind == "file" and entry.fh is not None:
                if deep and linkage.wanted(path):
                    tree.config[path] = config_reads.read(entry)
                elif deep and linkage.is_dpkg_list(path):
                    lists[path] = list_reads.read(entry)
                elif deep and extensions.wanted(path):
                    finder.text(path, text_reads.read(entry))
                elif entry.size >= HEADER_SIZE:
                    head = entry.fh.read(audit.HEAD)
                    yield path, head, entry.size
                    if not deep:
                        continue
                    finder.elf(path, head)
                    try:  # one file's reading (linkage, isa) failing is that file's finding
                        binary = _binary(path, head, _member(entry, head), entry.size,
                                         platform, isa_seen)
                    except (OSError, tarfile.TarError):
                        raise  # the stream's, not this file's: the audit cannot go on
                    except Exception as exc:  # a harness bug, on this file
                        result.failed(path, exc)
                        continue
                    if binary is not None:
                        tree.binaries[path] = binary

    result = audit.Audit()  # filled by the audit, and by files() with its own failures
    root = None if probe._files is not None else \
        filesystem.host_root(probe.container, probe.docker_host)
    if root is not None:  # read in place, on this host: nothing archived, heads only
        audit.audit(platform, files(filesystem.from_root(root, HELLO_DIR)), allow, result)
    else:
        with _tar_stream(probe.container.export()) as tar:
            audit.audit(platform, files(filesystem.from_export(tar)), allow, result)
    audit_seconds = time.monotonic() - start
    seen = obs.elf_audit(platform.name, result, audit_seconds)
    seen.detail["started"] = started  # wall clock, for the report's timeline
    seen.detail["read"] = "in place" if root is not None else "export"
    if not deep:
        return [seen]
    if config_reads.cut_count:  # the search path is not known whole: nothing is judged
        tree.exhausted.append(config_reads.describe("the loader's files",
                                                    linkage.CONFIG_BUDGET))
    foreign = {f.path for f in result.foreign}
    judged = linkage.judge(platform, tree, allow, foreign)  # first: the gate's own work
    spent = len(tree.exhausted)
    if list_reads.cut_count:
        tree.exhausted.append(list_reads.describe("dpkg's file lists", linkage.LISTS_BUDGET))
    unowned = None if list_reads.cut_count else linkage.unowned(tree, lists)
    if unowned is not None:  # the SBOM's files (harness.core.attest)
        seen.detail["unowned"], seen.detail["unowned_count"] = unowned
    elif len(tree.exhausted) > spent:  # a budget spent: the SBOM says not known, never 0
        seen.detail["unowned_error"] = tree.exhausted[-1]
    judged.exhausted = list(dict.fromkeys(tree.exhausted))
    # Kept with the audit (read back with it), loaded by the probe (containers.native_modules).
    seen.detail["native_modules"] = [asdict(m) for m in finder.modules(
        tree.paths, {f.path: f.what for f in result.foreign})]
    found = [seen, obs.linkage(judged)]
    if obs.applies("isa", platform):
        found.append(obs.isa(isa_seen))
    return found


def _audit_kept(probe: ImageProbe, platform: Platform, allow: tuple[str, ...],
                keep: bool) -> list[Observation]:
    """The audits, read back where this image ID was audited before by the same code (see
    harness.machine.kept), else made and kept; ``keep=False`` (--no-cache): made, and kept
    anew."""
    started = time.time()
    name = kept.key(probe.local.id, platform.name, allow)
    seen = _kept_observations(name, kept.cache_dir(), "elf-audit") if keep else None
    if seen is not None:
        seen[0].detail.update(started=started, seconds=round(time.time() - started, 3),
                              read="kept")
        return seen
    seen = _audit(probe, platform, allow)
    if all(o.error is None for o in seen):  # an answer, not a failure to read
        kept.store(name, [o.to_dict() for o in seen])
    return seen


def _library_path(probe: ImageProbe) -> tuple[str, ...]:
    """LD_LIBRARY_PATH of the image config: the loader searches it in every container."""
    for item in probe.local.attrs.get("Config", {}).get("Env") or []:
        key, _, value = str(item).partition("=")
        if key == "LD_LIBRARY_PATH":
            return tuple(d for d in value.split(":") if d)
    return ()


PREFIX_KEPT = 16 << 20  # bytes of a file kept while reading on to its dynamic section
TAIL_KEPT = 64 << 10  # bytes of a 32-bit ARM file's end kept: its attributes and sections


class _Member:
    """One file of the export, read on from its first bytes as far as asked (the stream
    passes every byte anyway): its first PREFIX_KEPT bytes, the spans asked for, its end."""

    def __init__(self, fh: Any, head: bytes) -> None:
        self.fh = fh
        self.pos = len(head)
        self.prefix = bytearray(head)
        self.tail = bytes(head[-TAIL_KEPT:])
        self.spans: list[tuple[int, int, bytearray]] = []  # offset, size, bytes so far

    def capture(self, offset: int, size: int) -> bytearray:
        """The ``size`` bytes at ``offset``, filled as the file is read."""
        got = bytearray(self.prefix[offset:offset + size])
        self.spans.append((offset, size, got))
        return got

    def read_to(self, end: int) -> None:
        while self.pos < end:
            chunk = self.fh.read(min(1 << 20, end - self.pos))
            if not chunk:
                return
            if self.pos < PREFIX_KEPT:
                self.prefix += chunk[:PREFIX_KEPT - self.pos]
            for offset, size, got in self.spans:
                at = offset + len(got) - self.pos  # the span's next byte, within chunk
                if len(got) < size and 0 <= at < len(chunk):
                    got += chunk[at:at + size - len(got)]
            self.tail = (self.tail + chunk)[-TAIL_KEPT:]
            self.pos += len(chunk)

    def at(self, offset: int, count: int) -> bytes | None:
        if offset < len(self.prefix):
            return bytes(self.prefix[offset:offset + count])
        for start, _size, got in self.spans:
            if start <= offset < start + len(got):
                return bytes(got[offset - start:offset - start + count])
        return None


class _FileMember:
    """One file read in place: any span at its offset, its end at once (nothing streamed)."""

    def __init__(self, fd: int, size: int) -> None:
        self.fd, self.size = fd, size

    def capture(self, offset: int, size: int) -> bytearray:
        return bytearray(self.at(offset, size))

    def read_to(self, end: int) -> None:
        pass  # every offset can be read: nothing to pass on the way

    @property
    def tail(self) -> bytes:
        return os.pread(self.fd, TAIL_KEPT, max(self.size - TAIL_KEPT, 0))

    def at(self, offset: int, count: int) -> bytes:
        # Offsets are the file's own word: past its end there is nothing (pread would
        # refuse one past 2**63 with EINVAL).
        if not 0 <= offset < self.size or count <= 0:
            return b""
        return os.pread(self.fd, min(count, self.size - offset), offset)


def _member(entry: filesystem.Entry, head: bytes) -> _Member | _FileMember:
    if entry.fd is not None:
        return _FileMember(entry.fd, entry.size)
    return _Member(entry.fh, head)


def _binary(path: str, head: bytes, member: _Member | _FileMember, size: int,
            platform: Platform, isa_seen: isa.Isa) -> linkage.Binary | None:
    """What the loader needs of an ELF file (its dynamic section), and for 32-bit ARM
    platforms the CPU its build attributes ask for (into ``isa_seen``)."""
    try:
        ident = elf.parse_header(head)
    except elf.NotElf:
        return None
    kind = elf.file_type(head)
    if kind not in (elf.ET_EXEC, elf.ET_DYN):
        return None
    interp = elf.interpreter(head)
    span = elf.dynamic_span(head)
    dyn: bytearray | None = None
    if span is not None and 0 < span[1] <= 1 << 20 and span[0] + span[1] <= size:
        dyn = member.capture(*span)
        member.read_to(span[0] + span[1])
    program = kind == elf.ET_EXEC or interp is not None
    # Each kind of CPU level read only where it is judged (an ARM file's attributes on the
    # 32-bit ARM platforms, an x86 file's level on amd64's).
    if platform.name in isa.ALLOWED and ident.machine == EM_ARM and ident.bits == 32:
        member.read_to(size)
        attributes = elf.arm_attributes(head, member.tail, size)
        if attributes is not None:
            isa_seen.add(platform, path, attributes, program)
    elif platform.name in isa.X86_ALLOWED and ident.machine == EM_X86_64:
        mask = elf.x86_isa_needed(head, member.at)
        if mask is not None:
            isa_seen.add(platform, path, {isa.X86_NEEDED: mask}, program)
    dynamic = None
    if span is not None and dyn is not None and len(dyn) == span[1]:
        dynamic = elf.dynamic(head, bytes(dyn), member.at)
    return linkage.Binary(path, ident.bits, ident.machine, ident.big_endian,
                          program=program, interp=interp, dynamic=dynamic)


def _hello(probe: ImageProbe, cargo: Observation, timeout: float) -> list[Observation]:
    """Compile and run a hello-world crate; a failure to build is the image's fault."""
    if cargo.raw is None:
        if cargo.absent:
            return [obs.absent("hello"), obs.absent("hello-elf")]
        # cargo's own finding says what is wrong; the crate is not tried, and not blamed twice.
        return [obs.failed("hello", "not tried: cargo does not work", Kind.ABSENT),
                obs.absent("hello-elf")]
    start, started = time.monotonic(), time.time()
    try:
        code, out = probe.exec(["sh", "-c", HELLO_SCRIPT], timeout)
    except ProbeTimeout as exc:
        return [obs.failed("hello", exc.message, cause=exc.cause or None),
                obs.absent("hello-elf")]
    hello = obs.hello(out, code == 0 and HELLO_GREETING in out)
    hello.detail["seconds"] = round(time.monotonic() - start, 2)
    hello.detail["started"] = started
    return [hello, _elf(probe, "hello-elf", f"{HELLO_DIR}/target/debug/harness-hello")]
