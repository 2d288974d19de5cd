"""Engine URLs as the docker CLI takes them: which schemes, and what an ssh:// URL names."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from harness.core import sinks
from harness.core.failures.errors import UsageError
from harness.core.platforms.table import UnknownPlatform, parse_platforms

ENGINE_SCHEMES = ("unix://", "tcp://", "ssh://")
SSH_COMMAND_ENV = "HARNESS_SSH_COMMAND"


# The docker CLI's TLS settings of the environment: a named context brings its own.
TLS_ENV = ("DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_TLS")


def context_env(env: Mapping[str, str], context: str) -> dict[str, str]:
    """``env`` for the docker CLI to reach the named context, as `docker --context NAME`
    does: DOCKER_CONTEXT set, and DOCKER_HOST and the TLS settings, which would win over it,
    dropped."""
    return {**{k: v for k, v in env.items() if k not in ("DOCKER_HOST", *TLS_ENV)},
            "DOCKER_CONTEXT": context}


@dataclass(frozen=True)
class SshTarget:
    """``ssh://[USER@]HOST[:PORT]``, as `docker -H` takes it."""

    host: str
    user: str | None = None
    port: int | None = None

    @classmethod
    def parse(cls, url: str) -> SshTarget:
        """The target of an ssh:// URL; ValueError with what is wrong."""
        parts = urlsplit(url)
        if parts.scheme != "ssh" or not parts.hostname:
            raise ValueError("write ssh://[USER@]HOST[:PORT]")
        if parts.password is not None:
            raise ValueError("ssh:// takes no password: use a key (ssh-agent, or "
                             f"{SSH_COMMAND_ENV}='ssh -i KEY')")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError("ssh:// takes no path: the far host's docker CLI chooses its "
                             "engine (its DOCKER_HOST or docker context)")
        try:
            port = parts.port
        except ValueError:
            raise ValueError("the port is not a number") from None
        return cls(parts.hostname, parts.username, port)

    @property
    def destination(self) -> str:
        return f"{self.user}@{self.host}" if self.user else self.host

    def argv(self, ssh: list[str], *options: str) -> list[str]:
        """``ssh ... docker system dial-stdio``: the command that joins a process to the far
        engine's API, as the docker CLI's ssh connection helper runs it."""
        port = ["-p", str(self.port)] if self.port else []
        return [*ssh, "-o", "BatchMode=yes", *options, *port, "--", self.destination,
                "docker", "system", "dial-stdio"]



# ``--engine podman``: this machine's Podman (its socket is the machine's to say, see
# harness.machine.podman), for one platform or, given alone, for every platform.
PODMAN = "podman"
EVERY_PLATFORM = "*"


def parse_engines(given: dict[str, str]) -> dict[str, str]:
    """``--engine PLATFORM=URL``: by canonical platform name, each URL of a known scheme (or
    ``podman``); ``--engine podman`` alone is every platform's (:data:`EVERY_PLATFORM`)."""
    engines = {}
    for name, url in given.items():
        if name == EVERY_PLATFORM:
            if url != PODMAN:
                raise UsageError(f"--engine {sinks.redact(url)}: an engine for every platform "
                                 "is `podman`", "write --engine podman, --engine "
                                 "PLATFORM=URL, or DOCKER_HOST=URL for every platform")
            engines[name] = url
            continue
        try:
            platform = parse_platforms([name])[0]
        except (UnknownPlatform, IndexError) as exc:
            raise UsageError(f"--engine {name}={sinks.redact(url)}: {exc}",
                             "write --engine os/arch[/variant]=URL") from None
        if not url.startswith(ENGINE_SCHEMES) and url != PODMAN:
            raise UsageError(f"--engine {platform.name}={sinks.redact(url)}: not an engine URL",
                             "use unix:///path/docker.sock, tcp://HOST:PORT, "
                             "ssh://[USER@]HOST[:PORT] or podman")
        if url.startswith("ssh://"):
            try:
                SshTarget.parse(url)
            except ValueError as exc:
                raise UsageError(f"--engine {platform.name}={sinks.redact(url)}: not an ssh:// "
                                 "engine URL", str(exc)) from None
        engines[platform.name] = url
    return engines


# -- docker contexts --------------------------------------------------------------------------

# As the docker CLI names them (cli/context/store: a letter or digit, then letters, digits and
# ._+-); "default" is the CLI's own, DOCKER_HOST or the default socket.
CONTEXT_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.+-]*")
DEFAULT_CONTEXT = "default"
TLS_FILES = ("ca.pem", "cert.pem", "key.pem")


def context_name(flag: str | None, env: Mapping[str, str]) -> str | None:
    """The docker context a run uses, as the docker CLI chooses it: ``--docker-context``, which
    wins over DOCKER_HOST as the CLI's ``--context`` does; else none when DOCKER_HOST is set;
    else DOCKER_CONTEXT. None: no context was named (DOCKER_HOST, or the current context of
    the docker config, decides)."""
    if flag:
        return flag
    if env.get("DOCKER_HOST"):
        return None
    return env.get("DOCKER_CONTEXT") or None


@dataclass(frozen=True)
class DockerContext:
    """A docker context's engine endpoint, from `docker context inspect NAME`."""

    name: str
    host: str
    skip_tls_verify: bool = False
    tls_dir: str | None = None  # the directory of its ca.pem, cert.pem, key.pem (those it has)
    tls_files: tuple[str, ...] = ()

    def tls_file(self, name: str) -> str | None:
        return f"{self.tls_dir}/{name}" if self.tls_dir and name in self.tls_files else None


def parse_context(text: str, name: str) -> DockerContext:
    """The docker endpoint of `docker context inspect NAME`'s JSON; ValueError with what is
    missing (a context made for another orchestrator has no docker endpoint)."""
    try:
        data = json.loads(text)
    except ValueError:
        raise ValueError("`docker context inspect` answered no JSON") from None
    entry = data[0] if isinstance(data, list) and data else data
    if not isinstance(entry, dict):
        raise ValueError("`docker context inspect` answered no context")
    endpoint = (entry.get("Endpoints") or {}).get("docker")
    if not isinstance(endpoint, dict) or not isinstance(endpoint.get("Host"), str) \
            or not endpoint["Host"]:
        raise ValueError(f"the context {name} has no docker endpoint")
    host = endpoint["Host"]
    if not host.startswith(ENGINE_SCHEMES):
        raise ValueError(f"the context {name}'s endpoint is not an engine URL (unix://, "
                         "tcp://, ssh://)")
    material = (entry.get("TLSMaterial") or {}).get("docker") or []
    files = tuple(f for f in TLS_FILES if isinstance(material, list) and f in material)
    tls_path = (entry.get("Storage") or {}).get("TLSPath")
    tls_dir = f"{tls_path}/docker" if files and isinstance(tls_path, str) and tls_path else None
    return DockerContext(str(entry.get("Name") or name), host,
                         bool(endpoint.get("SkipTLSVerify")), tls_dir, files if tls_dir else ())


# -- buildx builders by name ------------------------------------------------------------------

BUILDER_KINDS = ("auto", "buildx", "classic")  # --builder's own words; any other is a name
BUILDER_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.+-]*")  # buildx's (and contexts') names
# Drivers whose BuildKit is the engine's own: --load lands in that engine alone.
ENGINE_DRIVERS = ("docker",)


@dataclass(frozen=True)
class BuildxBuilder:
    """A builder as `docker buildx inspect NAME` shows it."""

    name: str
    driver: str
    endpoints: tuple[str, ...]  # its nodes' endpoints: a docker context's name, or a URL
    platforms: frozenset[str]  # what its nodes list (linux/arm/v7; the user-set mark dropped)


def parse_builder(text: str, name: str) -> BuildxBuilder:
    """The driver, nodes' endpoints and platforms of `docker buildx inspect NAME`'s text."""
    driver, endpoints, platforms = "", [], set()
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if not sep:
            continue
        key, value = key.strip(), value.strip()
        if key == "Driver" and not driver:
            driver = value
        elif key == "Endpoint":
            endpoints.append(value)
        elif key == "Platforms":
            platforms |= {p.strip().rstrip("*") for p in value.split(",") if p.strip()}
    return BuildxBuilder(name, driver, tuple(endpoints), frozenset(platforms))


def builder_name(value: str) -> str | None:
    """The buildx builder ``--builder`` names; None for auto, buildx and classic. ValueError
    for what cannot be a builder's name."""
    if value in BUILDER_KINDS:
        return None
    if not BUILDER_NAME.fullmatch(value):
        raise ValueError(f"{value!r} is neither auto, buildx, classic nor a buildx builder's "
                         "name")
    return value
