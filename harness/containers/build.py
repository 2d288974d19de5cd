"""Build one platform's image: BuildKit through the buildx plugin, or the classic builder.

The docker SDK never uses BuildKit (docker/docker-py#2230), so BuildKit is reached through
``docker buildx build --load`` and the classic builder through the SDK. Both write the whole
log to a file and report each line to a callback, for the progress display.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeAlias

import docker
import docker.errors

from harness.containers.engine import (
    CLIENT_ERRORS,
    ENGINE_FIX,
    answers,
    cli_env,
    has_named_contexts,
    named_builder,
)
from harness.containers.engine import kind as engine_kind
from harness.core.buildspec.buildsteps import Step, StepClock
from harness.core.buildspec.secrets import Secret
from harness.core.failures.diagnosis import Event, Stage, diagnose
from harness.core.failures.errors import (
    BuildFailed,
    EngineUnavailable,
    HarnessError,
    UsageError,
    from_diagnosis,
)
from harness.core.outcomes import RunKind
from harness.core.platforms.engine_kind import classic_only
from harness.core.platforms.engine_url import BUILDER_KINDS, builder_name
from harness.core.platforms.table import Platform
from harness.machine import files, interrupts

LineCallback = Callable[[str], None]

# The buildx builds this process runs, for cancel_running (a build in a thread of its own is
# not stopped by the Ctrl-C its process's main thread takes).
_running: set[subprocess.Popen[str]] = set()
_running_lock = threading.Lock()


def cancel_running() -> None:
    """Stop every buildx build this process runs, as Ctrl-C does (buildx cancels the build in
    the engine, and each build fails as cancelled)."""
    interrupts.record()  # whatever each buildx says as it stops, the build was interrupted
    with _running_lock:
        running = list(_running)
    for proc in running:
        _stop(proc)


def _stop(proc: subprocess.Popen[str]) -> None:
    """SIGTERM to a build's docker CLI and to its buildx plugin, both, as a terminal's Ctrl-C
    reaches both. The CLI passes a signal on to the plugin only once the plugin has connected
    back to it, so one that comes in the build's first second is lost there (measured: the
    build ran on to its end), and at a third the CLI exits at once, leaving the plugin to
    build on."""
    if proc.poll() is not None:  # ended: its pid may be another process's by now
        return
    for pid in [proc.pid, *interrupts.children(proc.pid)]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)


@dataclass
class BuildRequest:
    platform: Platform
    dockerfile: Path
    context: Path
    tag: str
    log_path: Path
    build_args: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    no_cache: bool = False
    mode: RunKind | None = None  # how the platform runs here, for the diagnosis of a failure
    # FROM image -> local tag that replaces it (BuildKit's named build contexts)
    contexts: dict[str, str] = field(default_factory=dict)
    docker_host: str | None = None  # the platform's own engine (--engine), for buildx
    append_log: bool = False  # a second attempt: the first one's log is kept above it
    target: str | None = None  # the Dockerfile stage
    secrets: tuple[Secret, ...] = ()  # BuildKit only: buildx reads each from its file or env
    cache_from: tuple[str, ...] = ()  # buildx's specs (harness.core.buildspec.buildcache)
    cache_to: tuple[str, ...] = ()
    # The user's named build contexts (--build-context, a bake target's contexts): name ->
    # buildx's value; over a base served under the same name, as the user named it.
    named_contexts: dict[str, str] = field(default_factory=dict)
    ssh: tuple[str, ...] = ()  # buildx's --ssh specs: agents and key files, never a key


@dataclass
class BuildOutcome:
    image_id: str
    tag: str
    duration: float
    builder: str
    log_path: Path
    steps: list[Step] = field(default_factory=list)  # as the builder named them, wall clock


class _Log:
    """Writes build output to the log file, keeps a tail, and tells the callback each line."""

    def __init__(self, path: Path, on_line: LineCallback | None, append: bool = False) -> None:
        self.fh = files.open_log(path, append=append)
        self.tail: deque[str] = deque(maxlen=25)
        self.on_line = on_line
        self.clock = StepClock()

    def write(self, text: str) -> None:
        self.fh.write(text)
        self.fh.flush()
        now = time.time()
        for line in text.splitlines():
            if line.strip():
                self.tail.append(line)
                self.clock.line(line, now)
                if self.on_line:
                    self.on_line(line)

    def close(self) -> None:
        self.fh.close()

    def tail_text(self) -> str:
        return "\n".join(self.tail)


def _failure(req: BuildRequest, log: _Log, client: docker.DockerClient,
             status: int | None = None, command: str = "") -> HarnessError:
    """Why the build failed, from the end of its log and whether the engine is still there
    (see harness.core.failures.diagnosis)."""
    tail = log.tail_text()
    d = diagnose(Event(Stage.BUILD, output=tail, status=status, command=command,
                       platform=req.platform.name, mode=req.mode, log=str(req.log_path),
                       engine_answers=answers(client), interrupted=interrupts.stopping()))
    error = from_diagnosis(d, BuildFailed)
    if isinstance(error, BuildFailed):
        error.log_tail = tail
    return error


class ClassicBuilder:
    """The engine's classic builder, through the docker SDK."""

    name = "classic"

    def __init__(self, client: docker.DockerClient) -> None:
        self.client = client

    def build(self, req: BuildRequest, on_line: LineCallback | None = None) -> BuildOutcome:
        start = time.monotonic()
        log = _Log(req.log_path, on_line, req.append_log)
        image_id = None
        # An absolute path: docker-py puts a Dockerfile from outside the context into the
        # context it sends, as BuildKit reads one from anywhere.
        dockerfile = str(req.dockerfile.resolve())
        try:
            stream: Iterator[dict[str, object]] = self.client.api.build(
                path=str(req.context), dockerfile=dockerfile, tag=req.tag,
                platform=req.platform.name, buildargs=req.build_args, labels=req.labels,
                rm=True, forcerm=True, pull=False, decode=True, nocache=req.no_cache,
                target=req.target,
            )
            for chunk in stream:
                if "stream" in chunk:
                    log.write(str(chunk["stream"]))
                if "aux" in chunk and isinstance(chunk["aux"], dict):
                    image_id = chunk["aux"].get("ID", image_id)
                if "error" in chunk:
                    log.write(str(chunk["error"]) + "\n")
                    raise _failure(req, log, self.client)
        except docker.errors.APIError as exc:
            log.write(f"{exc.explanation or exc}\n")
            raise _failure(req, log, self.client) from exc
        except (*CLIENT_ERRORS, ConnectionError) as exc:
            log.write(f"{exc}\n")
            raise EngineUnavailable(f"{req.platform.name}: the engine went away during the "
                                    f"build: {exc}", ENGINE_FIX) from exc
        finally:
            log.close()
        image_id = image_id or self.client.images.get(req.tag).id
        return BuildOutcome(str(image_id), req.tag, time.monotonic() - start, self.name,
                            req.log_path, log.clock.steps(time.time()))


class BuildxBuilder:
    """BuildKit through ``docker buildx build --load`` (the docker CLI's plugin)."""

    name = "buildx"

    def __init__(self, client: docker.DockerClient, builder: str | None = None) -> None:
        self.client = client
        self.builder = builder  # a buildx builder by name (--builder NAME); None: buildx's own

    def command(self, req: BuildRequest) -> list[str]:
        named = ["--builder", self.builder] if self.builder else []
        cmd = ["docker", "buildx", "build", *named, "--platform", req.platform.name, "--load",
               "--progress", "plain", "--tag", req.tag, "--file", str(req.dockerfile)]
        for key, value in req.build_args.items():
            cmd += ["--build-arg", f"{key}={value}"]
        for key, value in req.labels.items():
            cmd += ["--label", f"{key}={value}"]
        given = {**{image: f"docker-image://{local}" for image, local in req.contexts.items()},
                 **req.named_contexts}
        for name, value in given.items():
            cmd += ["--build-context", f"{name}={value}"]
        if req.target:
            cmd += ["--target", req.target]
        for secret in req.secrets:
            cmd += ["--secret", secret.flag()]
        for spec in req.ssh:
            cmd += ["--ssh", spec]
        for spec in req.cache_from:
            cmd += ["--cache-from", spec]
        for spec in req.cache_to:
            cmd += ["--cache-to", spec]
        if req.no_cache:
            cmd.append("--no-cache")
        return [*cmd, str(req.context)]

    def build(self, req: BuildRequest, on_line: LineCallback | None = None) -> BuildOutcome:
        start = time.monotonic()
        log = _Log(req.log_path, on_line, req.append_log)
        log.write("$ " + shlex.join(self.command(req)) + "\n")  # to copy and paste
        env = cli_env(req.docker_host)
        with subprocess.Popen(self.command(req), stdout=subprocess.PIPE, env=env,
                              stderr=subprocess.STDOUT, text=True, bufsize=1) as proc:
            with _running_lock:
                _running.add(proc)
            try:
                assert proc.stdout is not None
                for line in proc.stdout:
                    log.write(line)
                status = proc.wait()
            except BaseException:
                # Ctrl-C or an error here: stop buildx, which cancels the build in the engine.
                _stop(proc)
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                raise
            finally:
                with _running_lock:
                    _running.discard(proc)
                log.close()
        if status != 0:
            raise _failure(req, log, self.client, status, "docker buildx build")
        image = self.client.images.get(req.tag)
        return BuildOutcome(str(image.id), req.tag, time.monotonic() - start, self.name,
                            req.log_path, log.clock.steps(time.time()))


Builder: TypeAlias = ClassicBuilder | BuildxBuilder


def resolve(kind: str, buildx_version: str | None) -> str:
    """``auto`` takes BuildKit where the buildx plugin is there, the classic builder otherwise;
    a builder's name is buildx's."""
    if kind == "auto":
        return "buildx" if buildx_version else "classic"
    return kind if kind in BUILDER_KINDS else "buildx"


def choose(kind: str, client: docker.DockerClient, buildx_version: str | None,
           secrets: bool = False, docker_host: str | None = None,
           named_contexts: bool = False, ssh: bool = False) -> Builder:
    buildkit = resolve(kind, buildx_version) == "buildx"
    needs = next((flag for needed, flag in ((secrets, "--secret"),
                                            (named_contexts, "--build-context"), (ssh, "--ssh"))
                  if needed), f"--builder {kind}" if buildkit else None)
    if needs and client is not None and classic_only(engine_kind(client)):
        # Not the buildx plugin's absence: no plugin would help on an engine without BuildKit.
        raise UsageError(f"{needs} needs BuildKit, and the platform's engine is "
                         f"{engine_kind(client)}, which has none",
                         f"build the platform on a Docker engine (--engine PLATFORM=URL), or "
                         f"drop {needs.split()[0]}")
    for needed, flag in ((secrets, "--secret"), (named_contexts, "--build-context"),
                         (ssh, "--ssh")):
        if needed and not buildkit:
            raise UsageError(f"{flag} needs BuildKit, and the docker CLI has no buildx plugin",
                             "install the docker-buildx plugin")
    if resolve(kind, buildx_version) == "buildx":
        if not buildx_version:
            raise UsageError("the buildx builder was asked for, but the docker CLI has no "
                             "buildx plugin",
                             "install the docker-buildx plugin or pass --builder classic")
        name = builder_name(kind)
        if name is not None:
            named_builder(name, docker_host)  # there, and of this engine: else one line
        return BuildxBuilder(client, name)
    return ClassicBuilder(client)


def takes_named_contexts(builder: Builder, version: str) -> bool:
    """Whether ``builder`` on an engine of ``version`` builds with named contexts: BuildKit
    through buildx on Docker 23 or later (20.10's fails the build on them, "unsupported
    frontend capability")."""
    return builder.name == "buildx" and has_named_contexts(version)


def check_named_contexts(builder: Builder, version: str, given: bool) -> None:
    """The user's named build contexts where the builder cannot take them
    (:func:`takes_named_contexts`) are bad input, said before the build."""
    if given and not takes_named_contexts(builder, version):
        raise UsageError(f"--build-context: named build contexts need BuildKit through buildx "
                         f"on Docker 23 or later, and this engine is Docker "
                         f"{version or 'of no known version'} with the {builder.name} builder",
                         "build on Docker 23 or later, or copy the files into the build "
                         "context and drop the named context")
