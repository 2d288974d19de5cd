"""The container engine: a docker SDK client, what the engine is, and which builder to use."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import docker
import docker.errors
import requests
from docker.context import ContextAPI
from testcontainers.core.config import testcontainers_config

from harness.containers import ssh
from harness.core import sinks
from harness.core.failures.diagnosis import ENGINE_FIX, Event, Stage, diagnose
from harness.core.failures.errors import EngineUnavailable, NoEmulation, UsageError, from_diagnosis
from harness.core.jsondoc import JSON
from harness.core.outcomes import RunKind, RunMode
from harness.core.platforms import native
from harness.core.platforms.engine_kind import EngineKind, classic_only, kind_of
from harness.core.platforms.engine_url import (
    DEFAULT_CONTEXT,
    ENGINE_DRIVERS,
    TLS_ENV,
    BuildxBuilder,
    DockerContext,
    context_env,
    context_name,
    parse_builder,
    parse_context,
)
from harness.core.platforms.table import Platform, runnable_architectures
from harness.machine import podman
from harness.machine.host import no_handler_fix, read_handlers, run_mode

LOCAL_RYUK_PREFIXES = ("localhost", "127.", "harness.invalid")
# What the docker SDK raises when the engine fails, including a connection to an engine that
# is gone (requests' own errors, which are not DockerExceptions): cleanup must survive both.
CLIENT_ERRORS = (docker.errors.DockerException, requests.exceptions.RequestException)
__all__ = ["ENGINE_FIX"]


@dataclass(frozen=True)
class EngineFacts:
    version: str
    api_version: str
    arch: str  # the engine host's `uname -m`, e.g. x86_64
    os: str
    buildx: str | None  # the buildx plugin's version, None when absent
    name: str = ""  # the engine host's name (`docker info` Name)
    # Images in containerd's store (Docker 24+ with the containerd snapshotter): its BuildKit
    # exports a registry cache; the classic store's exports only an inline one.
    containerd_store: bool = False
    # What it runs containers with: its runtime's versions, kernel, security, cgroup and
    # storage options (the key of the answers kept for a rerun, harness.machine.kept).
    runtime: JSON = field(default_factory=dict)
    kind: EngineKind = EngineKind.DOCKER  # Docker's engine, or Podman's compatible service

    def to_dict(self) -> JSON:
        """What the preflight survey and the reports show of the engine (``runtime`` is a
        key, not a finding: it stays out)."""
        shown = asdict(self)
        del shown["runtime"]
        return shown


DEFAULT_SOCKET = "unix:///var/run/docker.sock"
SNAPSHOTTER = "io.containerd.snapshotter.v1"  # `docker info`: driver-type of containerd's store
MINIMUM_API = "1.24"  # the docker SDK's oldest; enough to ask an engine for its own
# Seconds an engine has to answer its first ping: the client's own timeout (600 s, for a
# long pull) would let an address that accepts and never answers hold the run that long.
PING_TIMEOUT = 15


@dataclass(frozen=True)
class Chosen:
    """The engine the user chose, as the docker CLI would choose it."""

    url: str
    source: str  # "DOCKER_HOST", "docker context NAME" or "the default socket"
    tls: Any = None
    context: str | None = None  # the context named (--docker-context, DOCKER_CONTEXT)

    @property
    def by_user(self) -> bool:
        return self.source != "the default socket"

    def describe(self) -> str:
        return f"{self.url} ({self.source})"


_selected: str | None = None  # --docker-context, for this process
_contexts: dict[str, DockerContext] = {}


def select_context(name: str | None) -> None:
    """The docker context ``--docker-context`` names (None: DOCKER_HOST, DOCKER_CONTEXT or the
    docker config's current context decide, as for the docker CLI)."""
    global _selected
    _selected = name


def chosen() -> Chosen:
    """The named context (``--docker-context``, else DOCKER_CONTEXT unless DOCKER_HOST is
    set), else DOCKER_HOST, else the current docker context, else the default socket. The
    docker SDK alone would ignore contexts, while buildx honours them: both must reach one
    engine."""
    name = context_name(_selected, os.environ)
    if name == DEFAULT_CONTEXT:  # the CLI's own: DOCKER_HOST, else the socket; no config's
        return Chosen(os.environ["DOCKER_HOST"], "DOCKER_HOST") if os.environ.get(
            "DOCKER_HOST") else Chosen(DEFAULT_SOCKET, "the default socket")
    if name is not None:
        found = docker_context(name)
        return Chosen(found.host, f"docker context {name}", context_tls(found), name)
    if os.environ.get("DOCKER_HOST"):
        return Chosen(os.environ["DOCKER_HOST"], "DOCKER_HOST")
    try:
        context = ContextAPI.get_current_context()
    except Exception:  # an unreadable docker config: the default, as the CLI would warn
        context = None
    if context is not None and context.name != "default" and context.Host:
        return Chosen(context.Host, f"docker context {context.name}", context.TLSConfig)
    return Chosen(DEFAULT_SOCKET, "the default socket")


def docker_context(name: str) -> DockerContext:
    """The context ``name`` as `docker context inspect` reads it (the CLI's own store and
    rules: DOCKER_CONFIG, the default context); an unknown one is a usage error, before any
    work (see harness.core.failures.diagnosis, "context-unknown")."""
    if name in _contexts:
        return _contexts[name]
    command = ["docker", "context", "inspect", name]
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        raise EngineUnavailable(f"docker context {sinks.terminal(name, 80)}: `docker context "
                                f"inspect` could not run: {exc}",
                                "install the docker CLI (docker.io, docker-ce-cli)") from exc
    if out.returncode != 0:
        d = diagnose(Event(Stage.ENGINE, output=out.stderr, status=out.returncode,
                           command=" ".join(command), subject=name))
        raise from_diagnosis(d, EngineUnavailable)
    try:
        found = parse_context(out.stdout, name)
    except ValueError as exc:
        raise UsageError(f"docker context {sinks.terminal(name, 80)}: {exc}",
                         "fix it with `docker context update`, or name another from "
                         "`docker context ls`") from None
    _contexts[name] = found
    return found


def context_tls(found: DockerContext) -> docker.tls.TLSConfig | None:
    """The context's TLS material as the docker CLI uses it: a tcp:// endpoint with material
    (or SkipTLSVerify) speaks TLS, verified by its own CA; without either, plain HTTP."""
    if not found.host.startswith("tcp://") or not (found.tls_files or found.skip_tls_verify):
        return None
    cert, key = found.tls_file("cert.pem"), found.tls_file("key.pem")
    ca = None if found.skip_tls_verify else found.tls_file("ca.pem")
    return docker.tls.TLSConfig(client_cert=(cert, key) if cert and key else None,
                                ca_cert=ca, verify=not found.skip_tls_verify)


def client(timeout: int = 600, url: str | None = None) -> docker.DockerClient:
    """A client for the engine the user chose (see :func:`chosen`), or for the engine at
    ``url`` (``--engine PLATFORM=URL``: TLS from DOCKER_TLS_VERIFY and DOCKER_CERT_PATH as the
    docker CLI takes it)."""
    if url is not None:
        try:
            c = _client_at(url, timeout)
        except CLIENT_ERRORS as exc:
            _refused_tls(exc, url, "--engine")
            said = ssh.tunnel(url).last_error() if url.startswith("ssh://") else ""
            shown = sinks.redact(url)
            raise EngineUnavailable(f"no container engine answers at {shown} (--engine): "
                                    f"{said or _short(exc)}",
                                    f"start the engine at {shown}, or fix --engine / "
                                    "[tool.harness.engines]") from exc
        return c
    engine = chosen()
    try:
        # Made with the ping's timeout: the SDK asks the engine its API version as it is
        # made, and that first answer is bounded as the ping is.
        first = min(PING_TIMEOUT, timeout)
        if engine.source == "DOCKER_HOST" or not engine.by_user:
            c = docker.from_env(timeout=first)
        else:
            # ssh:// through the harness's own tunnel, as for --engine (see harness.containers
            # .ssh: the SDK's ssh transport loses the output of every exec).
            c = _speaking(lambda version: docker.DockerClient(
                base_url=ssh.local_url(engine.url), tls=engine.tls, version=version,
                timeout=first))
        c.ping()
        c.api.timeout = timeout
    except CLIENT_ERRORS as exc:
        _refused_tls(exc, engine.url, engine.source)
        fix = ENGINE_FIX if not engine.by_user else (
            f"start the engine at {engine.url}, or point {engine.source.split()[0]} elsewhere "
            "(unset DOCKER_HOST, or `docker context use default`, for the local engine)")
        raise EngineUnavailable(f"no container engine answers at {engine.describe()}: "
                                f"{_short(exc)}", fix) from exc
    return c


def _refused_tls(exc: Exception, url: str, source: str) -> None:
    """The engine and its TLS material disagree (a wrong CA, a client certificate it does not
    take): raised as the table says (harness.core.failures.diagnosis, "engine-tls"), not as an
    engine
    that is not there."""
    d = diagnose(Event(Stage.ENGINE, output=str(exc), host=url, subject=source))
    if d.cause == "engine-tls":
        raise from_diagnosis(d, EngineUnavailable) from exc


def _client_at(url: str, timeout: int) -> docker.DockerClient:
    """A client for ``url`` that speaks the engine's own API version. The SDK would ask for
    that version before :func:`pin_tls_ca` could act, so the asking is done here."""
    env = docker_env(url)
    c = _speaking(lambda version: docker.from_env(environment=env, version=version,
                                                  timeout=min(PING_TIMEOUT, timeout)))
    c.ping()
    c.api.timeout = timeout
    return c


def _speaking(make: Callable[[str], docker.DockerClient]) -> docker.DockerClient:
    """A client (``make(API version)``) that speaks the engine's own API version, its TLS CA
    pinned: the SDK would ask the version before :func:`pin_tls_ca` could act."""
    with contextlib.closing(pin_tls_ca(make(MINIMUM_API))) as probe:
        version = str(probe.version(api_version=False)["ApiVersion"])
    return pin_tls_ca(make(version))


def pin_tls_ca(c: docker.DockerClient) -> docker.DockerClient:
    """Verify a tcp:// engine with the CA its TLS settings name (DOCKER_CERT_PATH/ca.pem),
    as the docker CLI does, even where REQUESTS_CA_BUNDLE is set: requests would let that win
    (docker/docker-py#2433)."""
    if isinstance(c.api.verify, str):
        c.api.trust_env = False
        # ... which also drops the proxy settings of the environment: keep those.
        c.api.proxies = requests.utils.get_environ_proxies(c.api.base_url)
    return c



def docker_env(url: str) -> dict[str, str]:
    """The environment that points the docker CLI (buildx) and SDK at ``url`` (an ssh://
    engine through this process's tunnel to it). DOCKER_TLS_VERIFY and DOCKER_CERT_PATH are
    for tcp:// engines: the docker CLI would take them to mean https over a unix socket."""
    env = {**os.environ, "DOCKER_HOST": ssh.local_url(url)}
    if not url.startswith("tcp://"):
        for name in TLS_ENV:
            env.pop(name, None)
    return env


def cli_env(url: str | None) -> dict[str, str] | None:
    """The environment in which the docker CLI reaches the engine the SDK reaches for ``url``
    (None: the chosen engine). Unchosen, that is the default socket, which the CLI would
    trade for tcp://localhost:2376 when DOCKER_TLS_VERIFY is set."""
    if url is not None:
        return docker_env(url)
    engine = chosen()
    if engine.url.startswith("ssh://"):
        return docker_env(engine.url)  # the tunnel: its ssh command is the harness's
    if engine.context is not None:
        # The named context, as `docker --context NAME` takes it: over DOCKER_HOST too.
        return context_env(os.environ, engine.context)
    return None if engine.by_user else docker_env(engine.url)


def sdk_env(url: str | None) -> dict[str, str] | None:
    """The environment in which ``docker.from_env`` (testcontainers' own client) reaches the
    engine the harness's client reaches for ``url``; None where its own reading of the
    environment already does (DOCKER_HOST, the default socket). A named context's TLS
    directory holds ca.pem, cert.pem and key.pem: what DOCKER_CERT_PATH names."""
    if url is not None:
        return docker_env(url)
    engine = chosen()
    if engine.context is None:
        return None
    env = {k: v for k, v in os.environ.items() if k not in TLS_ENV}
    env["DOCKER_HOST"] = ssh.local_url(engine.url)
    if engine.tls is not None:
        found = docker_context(engine.context)
        env["DOCKER_CERT_PATH"] = found.tls_dir or ""
        if not found.skip_tls_verify:
            env["DOCKER_TLS_VERIFY"] = "1"
    return env


def on_this_host(url: str | None, host_name: str = "") -> bool:
    """Whether the engine at ``url`` (None: the chosen one) runs on this machine, so that its
    emulation is this machine's binfmt_misc handlers. ``host_name``, the engine's own (`docker
    info`), tells a socket forwarded from another machine (``ssh -L``) from a local one."""
    if host_name and host_name != socket.gethostname():
        return False
    if url is None:
        url = chosen().url
    if url.startswith("unix://"):
        return True
    host = url.partition("://")[2].split("/")[0].rsplit(":", 1)[0].strip("[]")
    return url.startswith("tcp://") and (host in ("localhost", "::1") or host.startswith("127."))


_builders: dict[tuple[str, str | None], BuildxBuilder] = {}


def _builders_context(url: str | None) -> str:
    """The docker context buildx runs under for the engine at ``url`` (None: the chosen one),
    which names that engine's own docker-driver builder: "default" under DOCKER_HOST."""
    env = cli_env(url) or os.environ
    if env.get("DOCKER_HOST"):
        return DEFAULT_CONTEXT
    if env.get("DOCKER_CONTEXT"):
        return env["DOCKER_CONTEXT"]
    source = chosen().source  # the docker config's current context, or the socket
    return source.removeprefix("docker context ") if source.startswith("docker context ") \
        else DEFAULT_CONTEXT


def named_builder(name: str, url: str | None = None) -> BuildxBuilder:
    """The buildx builder ``name`` (`docker buildx inspect NAME`, with the engine at ``url``,
    None: the chosen one, as buildx's own); an unknown one is a usage error (see
    harness.core.failures.diagnosis, "builder-unknown"), and so is a docker-driver builder of
    another
    engine than the one the platform is checked on: its --load would land there."""
    if (name, url) in _builders:
        return _builders[(name, url)]
    command = ["docker", "buildx", "inspect", name]
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False,
                             env=cli_env(url))
    except (OSError, subprocess.SubprocessError) as exc:
        raise EngineUnavailable(f"`docker buildx inspect {sinks.terminal(name, 80)}` could "
                                f"not run: {exc}", "install the docker-buildx plugin") from exc
    if out.returncode != 0:
        d = diagnose(Event(Stage.ENGINE, output=out.stderr, status=out.returncode,
                           command=" ".join(command), subject=name))
        raise from_diagnosis(d, EngineUnavailable)
    found = parse_builder(out.stdout, name)
    # A docker-driver builder is an engine's own BuildKit, named by its docker context.
    expected = _builders_context(url)
    if found.driver in ENGINE_DRIVERS and found.endpoints and found.endpoints[0] != expected:
        shown = sinks.terminal(found.endpoints[0], 80)
        raise UsageError(f"the buildx builder {sinks.terminal(name, 80)} is the BuildKit of "
                         f"the engine of docker context {shown}, not of the engine the run "
                         "checks on: what it loads would not be there",
                         f"pass --docker-context {shown}, or a builder of the run's engine "
                         "(`docker buildx ls`)")
    _builders[(name, url)] = found
    return found


REMOTE_HANDLER = "the engine host's binfmt_misc, as its BuildKit reports it"


def buildkit_platforms(url: str | None) -> set[tuple[str, str]] | None:
    """The (os, architecture) pairs the BuildKit of the engine at ``url`` can run (``docker
    buildx inspect``: the host's own and what its binfmt_misc handlers emulate); None when it
    cannot be asked (no buildx plugin, or no answer)."""
    if not shutil.which("docker"):
        return None
    try:
        out = subprocess.run(["docker", "buildx", "inspect"], capture_output=True, text=True,
                             timeout=60, check=False,
                             env=docker_env(url) if url else cli_env(None))
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    return runnable_architectures(out.stdout) or None


def run_mode_on(platform: Platform, arch: str, url: str | None, host_name: str = "") -> RunMode:
    """How ``platform`` runs on the host of the engine at ``url`` (None: the chosen engine):
    from this machine's binfmt_misc (and proofs) when the engine runs here, else natively for
    the host's own platforms, else from what that host's BuildKit can run."""
    if on_this_host(url, host_name):
        return run_mode(platform, arch, read_handlers())
    # No program can be run there from here: the host's own platforms are native, and a
    # 32-bit mode of its CPU (AArch32, i386) only once its BuildKit ran a binary of it.
    own = run_mode(platform, arch, [], proof=lambda _p: False)
    if own.can_run:
        return own
    runnable = buildkit_platforms(url)
    if runnable is None:
        return RunMode(RunKind.QEMU, "the engine host's (not known: no buildx to ask)")
    # One emulator runs every variant of its architecture (qemu-arm runs arm/v5 too, though
    # BuildKit lists only v6 and v7).
    if (platform.os, platform.architecture) in runnable:
        return RunMode(RunKind.NATIVE) if native.in_family(platform, arch) else \
            RunMode(RunKind.QEMU, REMOTE_HANDLER)
    return RunMode(RunKind.UNAVAILABLE)


def cannot_run(platform: Platform, arch: str, url: str | None,
               host_name: str = "") -> NoEmulation:
    """Why ``platform`` cannot run on the host of the engine at ``url``, with the fix for
    that host (this machine's, or another one's)."""
    if url is not None and not on_this_host(url, host_name):
        if native.needs_proof(platform, arch):
            return NoEmulation(
                f"{platform.name} cannot run on the {arch} host of {sinks.redact(url)}: its "
                "BuildKit lists it neither as native (that CPU or kernel has no 32-bit mode) "
                "nor as emulated", f"on that host, {native.why_not(platform, arch)[1]}")
        return NoEmulation(
            f"{platform.name} cannot run on the {arch} host of {sinks.redact(url)}: its BuildKit "
            "lists no emulator for it",
            "register QEMU's binfmt_misc handlers on that host (Debian: apt-get install "
            "qemu-user-static binfmt-support), or route the platform to an engine of its own "
            "architecture")
    if native.needs_proof(platform, arch):  # its CPU family, without the 32-bit mode
        return NoEmulation(*native.why_not(platform, arch))
    return NoEmulation(f"{platform.name} cannot run on this {arch} host: no QEMU handler is "
                       "registered for it", no_handler_fix(platform))


def local_bridge(c: docker.DockerClient) -> str | None:
    """The host interface of the engine's default bridge, when the engine is on this host
    (a unix socket); None when it cannot be told."""
    if not str(c.api.base_url).startswith("http+docker://localhost"):
        return None
    try:
        options = c.networks.get("bridge").attrs.get("Options") or {}
    except docker.errors.DockerException:
        return None
    name = options.get("com.docker.network.bridge.name")
    return str(name) if name else None


def answers(c: docker.DockerClient) -> bool:
    """Whether the engine answers a ping now (after a failure: did the engine go away?)."""
    before, c.api.timeout = c.api.timeout, 10  # a frozen engine must not hold us 10 minutes
    try:
        return bool(c.ping())
    except Exception:  # any failure to answer is the answer
        return False
    finally:
        c.api.timeout = before


def facts(c: docker.DockerClient) -> EngineFacts:
    try:
        version = c.version()
        info = c.info()
    except docker.errors.DockerException as exc:
        raise EngineUnavailable(f"the engine stopped answering: {_short(exc)}", ENGINE_FIX) from exc
    kind, own_version = kind_of(version)
    return EngineFacts(
        version=own_version,
        api_version=str(version.get("ApiVersion", "?")),
        # `uname -m`'s name: Podman says Go's (amd64, arm64) where Docker says x86_64.
        arch=native.kernel_arch(str(info.get("Architecture", "?"))),
        os=str(info.get("OSType", "linux")),
        # The docker CLI's buildx cannot build on an engine without BuildKit (Podman): every
        # builder choice then takes the classic path.
        buildx=None if classic_only(kind) else buildx_version(),
        kind=kind,
        name=str(info.get("Name", "")),
        containerd_store=any(isinstance(pair, list) and pair[-1:] == [SNAPSHOTTER]
                             for pair in info.get("DriverStatus") or []),
        runtime={"version": version.get("Version"), "kernel": version.get("KernelVersion"),
                 "components": version.get("Components"),
                 **{k: info.get(k) for k in ("DefaultRuntime", "Runtimes", "SecurityOptions",
                                             "CgroupVersion", "CgroupDriver", "Driver")}},
    )


_kinds: dict[str, EngineKind] = {}


def kind(c: docker.DockerClient) -> EngineKind:
    """Which engine ``c`` talks to (asked once per address)."""
    where = str(c.api.base_url)
    if where not in _kinds:
        try:
            _kinds[where] = kind_of(c.version())[0]
        except CLIENT_ERRORS:
            return EngineKind.DOCKER  # unknown now: the call that needs the engine says why
    return _kinds[where]


def ulimits(c: docker.DockerClient, given: list[docker.types.Ulimit]) -> list[Any]:
    """A container's own rlimits (``given``) as the engine of ``c`` must have them: Podman
    takes a container's rlimits in place of containers.conf's and adds its own defaults
    (nofile, nproc) for the rest, which a runtime under lower hard limits refuses ("error
    setting rlimit type 7"), so those two are given too, within this machine's limits."""
    if kind(c) is not EngineKind.PODMAN:
        return given
    named = {u.name for u in given}
    return [*given, *(docker.types.Ulimit(name=name, soft=value, hard=value)
                      for name, value in podman.container_rlimits().items()
                      if name not in named)]


def has_named_contexts(version: str) -> bool:
    """Whether the engine's BuildKit takes named build contexts (Docker 23 and later; the one
    in 20.10 says "unsupported frontend capability moby.buildkit.frontend.contexts")."""
    try:
        return int(version.split(".")[0]) >= 23
    except ValueError:
        return False


def buildx_version() -> str | None:
    """The buildx plugin's version if the docker CLI has it."""
    if not shutil.which("docker"):
        return None
    try:
        out = subprocess.run(["docker", "buildx", "version"], capture_output=True, text=True,
                             timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    parts = out.stdout.split()
    return parts[1] if len(parts) > 1 else out.stdout.strip()


def local_reaper_only() -> None:
    """Turn testcontainers' reaper (Ryuk) off unless its image comes from a local registry:
    Docker Hub's cannot be assumed reachable, and the harness removes its own containers."""
    if not testcontainers_config.ryuk_image.startswith(LOCAL_RYUK_PREFIXES):
        testcontainers_config.ryuk_disabled = True


def image_exists(c: docker.DockerClient, ref: str) -> bool:
    try:
        c.images.get(ref)
    except docker.errors.ImageNotFound:
        return False
    return True


def image_platform(c: docker.DockerClient, ref: str) -> tuple[str, str, str | None]:
    """os, architecture and variant from a local image's config."""
    return platform_of(c.images.get(ref).attrs)


def platform_of(attrs: JSON) -> tuple[str, str, str | None]:
    """os, architecture and variant from an image's inspect data."""
    return str(attrs.get("Os", "")), str(attrs.get("Architecture", "")), attrs.get("Variant")


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class Routing:
    """Which engine each platform is built and checked on: the chosen one (``DOCKER_HOST``,
    the docker context), or the platform's own (``--engine PLATFORM=URL``). One client and
    one set of facts per engine, made on first use."""

    def __init__(self, engines: dict[str, str]) -> None:
        self.engines = dict(engines)
        self._clients: dict[str | None, docker.DockerClient] = {}
        self._facts: dict[str | None, EngineFacts] = {}

    def url(self, platform: Platform | None) -> str | None:
        """The platform's own engine, or None for the chosen one."""
        return self.engines.get(platform.name) if platform is not None else None

    def client(self, platform: Platform | None = None) -> docker.DockerClient:
        url = self.url(platform)
        if url not in self._clients:
            self._clients[url] = client(url=url) if url else client()
        return self._clients[url]

    def facts(self, platform: Platform | None = None) -> EngineFacts:
        url = self.url(platform)
        if url not in self._facts:
            self._facts[url] = facts(self.client(platform))
        return self._facts[url]

    def mode(self, platform: Platform) -> RunMode:
        """How the platform runs on its engine's host: native or under that host's QEMU."""
        seen = self.facts(platform)
        return run_mode_on(platform, seen.arch, self.url(platform), seen.name)

    def local(self, platform: Platform) -> bool:
        """Whether the platform's engine runs on this machine (its files can be mounted)."""
        return on_this_host(self.url(platform), self.facts(platform).name)
