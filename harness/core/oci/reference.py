"""Image references as the distribution grammar writes them (distribution/reference's
``reference.go``), checked before any work: a malformed one is bad input, one line. Pure.

    reference  := name [ ":" tag ] [ "@" digest ]
    name       := [ domain "/" ] path-component [ "/" path-component ]*
    domain     := a host with a dot or a port, or localhost ([::1]:5000 too)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.core.failures.errors import UsageError

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN = (r"(?:localhost|[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)+|\[[0-9a-fA-F:]+\]|[a-zA-Z0-9-]+(?=:))"
           r"(?::\d+)?")
# A repository name without tag or digest; a first component is a registry host only with a
# dot or a port, or as localhost.
IMAGE_NAME = re.compile(rf"(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*")
TAG = re.compile(r"[\w][\w.-]{0,127}")
DIGEST = re.compile(r"sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128}"
                    r"|[a-z][a-z0-9]*(?:[-_+.][a-z][a-z0-9]*)*:[0-9a-fA-F]{32,}")
REFERENCE = re.compile(rf"(?P<name>{IMAGE_NAME.pattern})(?::(?P<tag>{TAG.pattern}))?"
                       rf"(?:@(?P<digest>{DIGEST.pattern}))?")

EXAMPLE = "HOST[:PORT]/REPOSITORY[:TAG][@sha256:DIGEST], e.g. 127.0.0.1:5000/rust:latest"


def check(text: str, what: str = "reference") -> str:
    """``text`` stripped, if it is a reference; else a UsageError naming what is wrong."""
    ref = text.strip()
    if not ref:
        raise UsageError(f"the {what} is empty", f"name an image: {EXAMPLE}")
    if REFERENCE.fullmatch(ref):
        return ref
    if ref.lower() != ref and REFERENCE.fullmatch(_lower_path(ref)):
        reason = "repository names are lowercase"
    elif "@" in ref and not DIGEST.fullmatch(ref.rpartition("@")[2]):
        reason = "the digest is not ALGORITHM:HEX (sha256: and 64 hex digits)"
    else:
        reason = "it does not follow the reference grammar"
    raise UsageError(f"{_shown(ref)} is not an image {what}: {reason}", f"write {EXAMPLE}")


def _lower_path(ref: str) -> str:
    """``ref`` with the path after its domain lowercased (the domain may keep its case)."""
    head, sep, rest = ref.partition("/")
    if sep and _has_domain(head):
        name, tsep, tag = rest.partition(":")
        return f"{head}/{name.lower()}{tsep}{tag}"
    name, tsep, tag = ref.partition(":")
    return f"{name.lower()}{tsep}{tag}"


def _shown(ref: str) -> str:
    # The caller prints this on a terminal: shown as repr, bounded (sinks escape it again).
    return repr(ref if len(ref) <= 200 else ref[:199] + "…")


DOCKER_HUB = "registry-1.docker.io"  # where the docker CLI sends a name without a registry


def with_registry(ref: str) -> str:
    """``ref`` with its registry spelt out, as the docker CLI reads it: ``debian:bookworm``
    is ``registry-1.docker.io/library/debian:bookworm``, ``me/app`` is Docker Hub's too."""
    head, sep, rest = ref.partition("/")
    if sep and head in ("docker.io", "index.docker.io"):
        ref = rest
    elif sep and _has_domain(head):
        return ref
    return f"{DOCKER_HUB}/{ref}" if "/" in ref else f"{DOCKER_HUB}/library/{ref}"


def _has_domain(head: str) -> bool:
    """Whether a reference's first component names a registry host: a dot, a port, or
    localhost (as the docker CLI reads it)."""
    return "." in head or ":" in head or head == "localhost"


@dataclass(frozen=True)
class Reference:
    """``HOST[:PORT]/REPO[:TAG|@DIGEST]``: a reference with its registry spelt out."""

    host: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def reference(self) -> str:
        return self.digest or self.tag or "latest"

    def __str__(self) -> str:
        suffix = f"@{self.digest}" if self.digest else f":{self.tag}" if self.tag else ""
        return f"{self.host}/{self.repository}{suffix}"


def parse_reference(text: str) -> Reference:
    """A reference of the grammar above with an explicit registry host; UsageError else."""
    m = REFERENCE.fullmatch(text.strip())
    head, sep, repository = (m["name"] if m else "").partition("/")
    if not m or not sep or not _has_domain(head):
        raise UsageError(f"{_shown(text.strip())} is not a registry reference",
                         "write HOST[:PORT]/REPOSITORY[:TAG], e.g. 127.0.0.1:5000/rust:latest")
    return Reference(head, repository, m["tag"], m["digest"])


def is_registry_ref(ref: str) -> bool:
    try:
        parse_reference(ref)
    except UsageError:
        return False
    return True
