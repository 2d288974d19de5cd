"""Engine URLs as the docker CLI takes them: which schemes, and what an ssh:// URL names."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from harness.core import sinks
from harness.core.errors import UsageError
from harness.core.platforms import UnknownPlatform, parse_platforms

ENGINE_SCHEMES = ("unix://", "tcp://", "ssh://")
SSH_COMMAND_ENV = "HARNESS_SSH_COMMAND"


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



def parse_engines(given: dict[str, str]) -> dict[str, str]:
    """``--engine PLATFORM=URL``: by canonical platform name, each URL of a known scheme."""
    engines = {}
    for name, url in given.items():
        try:
            platform = parse_platforms([name])[0]
        except (UnknownPlatform, IndexError) as exc:
            raise UsageError(f"--engine {name}={sinks.redact(url)}: {exc}",
                             "write --engine os/arch[/variant]=URL") from None
        if not url.startswith(ENGINE_SCHEMES):
            raise UsageError(f"--engine {platform.name}={sinks.redact(url)}: not an engine URL",
                             "use unix:///path/docker.sock, tcp://HOST:PORT or "
                             "ssh://[USER@]HOST[:PORT]")
        if url.startswith("ssh://"):
            try:
                SshTarget.parse(url)
            except ValueError as exc:
                raise UsageError(f"--engine {platform.name}={sinks.redact(url)}: not an ssh:// "
                                 "engine URL", str(exc)) from None
        engines[platform.name] = url
    return engines
