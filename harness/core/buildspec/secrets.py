"""BuildKit build secrets, as ``docker buildx build --secret`` takes them.

A secret is named by where it comes from (a file, an environment variable), never by its
value: the harness passes the same spec to buildx, so the value goes from the file or
variable to BuildKit and to no log, report or provenance of the harness.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.core import sinks
from harness.core.failures.errors import UsageError

FORM = "id=NAME,src=PATH or id=NAME,env=VARIABLE"


@dataclass(frozen=True)
class Secret:
    id: str
    src: str = ""  # a file on this machine
    env: str = ""  # or an environment variable of the harness's

    def flag(self) -> str:
        """buildx's ``--secret`` value."""
        return f"id={self.id},src={self.src}" if self.src else f"id={self.id},env={self.env}"


def parse_secret(text: str) -> Secret:
    """``id=NAME,src=PATH``, ``id=NAME,env=VAR`` or ``type=env,id=NAME`` (buildx's forms);
    a usage error naming the fix otherwise."""
    fields: dict[str, str] = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or key not in ("id", "src", "source", "env", "type") or key in fields:
            raise UsageError(f"--secret {text!r} is not of the form {FORM}",
                             f"write --secret {FORM}")
        fields["src" if key == "source" else key] = value.strip()
    kind = fields.get("type", "")
    if kind not in ("", "file", "env"):
        raise UsageError(f"--secret {text!r}: type {kind!r} is neither file nor env",
                         f"write --secret {FORM}")
    name = fields.get("id", "")
    if not name:
        raise UsageError(f"--secret {text!r} has no id", f"write --secret {FORM}")
    if kind == "env" and not fields.get("env"):
        fields["env"] = name
    if bool(fields.get("src")) == bool(fields.get("env")):
        raise UsageError(f"--secret {text!r} must name one file (src=) or one variable (env=)",
                         f"write --secret {FORM}")
    return Secret(name, fields.get("src", ""), fields.get("env", ""))


SSH_FORM = "default, ID, or ID=PATH[,PATH] (an agent's socket or key files)"


@dataclass(frozen=True)
class SshForward:
    """An ssh agent or keys a RUN --mount=type=ssh step may use (buildx's ``--ssh``): named by
    where they are, never by a key's content."""

    id: str
    paths: tuple[str, ...] = ()  # none: the agent at SSH_AUTH_SOCK

    def flag(self) -> str:
        """buildx's ``--ssh`` value."""
        return f"{self.id}={','.join(self.paths)}" if self.paths else self.id


def parse_ssh(text: str) -> SshForward:
    """``default``, ``ID`` or ``ID=PATH[,PATH]`` as buildx reads it (buildflags.ParseSSHSpecs);
    an empty id is buildx's ``default``."""
    name, sep, rest = text.strip().partition("=")
    paths = tuple(p.strip() for p in rest.split(",")) if sep else ()
    if any(c in name for c in ", \t\n") or (sep and not all(paths)):
        raise UsageError(f"--ssh {sinks.terminal(repr(text), 200)} is not of the form {SSH_FORM}",
                         f"write --ssh {SSH_FORM}")
    return SshForward(name or "default", paths)
