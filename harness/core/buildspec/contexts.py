"""Named build contexts, as ``docker buildx build --build-context NAME=VALUE`` takes them.

The name is what a Dockerfile's ``FROM NAME`` or ``COPY --from=NAME`` refers to, checked as
buildx checks it (``reference.ParseNormalizedNamed``: an image name, a tag allowed). The value
is one of buildx's kinds (build/opt.go): an image (``docker-image://REF``), an OCI layout
(``oci-layout://PATH[:TAG][@DIGEST]``), a remote URL (git or an HTTP tarball), or a local
directory. ``target:NAME``, bake's link to another target of the same definition, is refused:
this version does not build the linked target first. Pure:
whether a directory is there is the machine's (harness.machine.config).
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.core import sinks
from harness.core.failures.errors import UsageError
from harness.core.oci.reference import DIGEST, REFERENCE, TAG

FORM = "NAME=DIR, NAME=docker-image://REF, NAME=oci-layout://DIR[:TAG][@DIGEST] or NAME=URL"
IMAGE = "docker-image://"
LAYOUT = "oci-layout://"
LINK = "target:"
CWD = "cwd://"
# buildx's IsRemoteURL (build/url.go): HTTP(S) URLs and git's forms.
REMOTE = ("http://", "https://", "git://", "git@", "ssh://", "github.com/")


@dataclass(frozen=True)
class NamedContext:
    name: str
    value: str  # as buildx takes it; a local directory as written (the machine resolves it)
    kind: str  # "image", "layout", "remote" or "local"

    @property
    def path(self) -> str:
        """The directory on this machine a local context or an OCI layout names."""
        if self.kind == "layout":
            rest = self.value.removeprefix(LAYOUT).partition("@")[0]
            head, sep, tag = rest.rpartition(":")
            return head if sep and "/" not in tag and TAG.fullmatch(tag) else rest
        return self.value


def _shown(text: str) -> str:
    return sinks.terminal(text, 200)


def parse(name: str, value: str) -> NamedContext:
    """One named context; a usage error naming the fix where buildx would refuse it."""
    if not REFERENCE.fullmatch(name) or "@" in name:
        raise UsageError(f"--build-context {_shown(name)!r}: not a context name (buildx takes "
                         "an image name: lowercase letters, digits, . _ - and /)",
                         f"write --build-context {FORM}, NAME as the Dockerfile's FROM or "
                         "COPY --from names it")
    bad = UsageError(f"--build-context {_shown(name)}={_shown(value)!r} is not a build context",
                     f"write --build-context {FORM}")
    if not value.strip():
        raise bad
    if value.startswith(IMAGE):
        ref = value.removeprefix(IMAGE)
        if not REFERENCE.fullmatch(ref):
            raise UsageError(f"--build-context {_shown(name)}: {_shown(ref)!r} is not an image "
                             "reference", "write NAME=docker-image://REPOSITORY[:TAG][@DIGEST]")
        return NamedContext(name, value, "image")
    if value.startswith(LAYOUT):
        context = NamedContext(name, value, "layout")
        digest = value.partition("@")[2]
        if not context.path or ("@" in value and not DIGEST.fullmatch(digest)):
            raise UsageError(f"--build-context {_shown(name)}: {_shown(value)!r} is not an "
                             "OCI layout", "write NAME=oci-layout://DIR[:TAG][@sha256:DIGEST]")
        return context
    if value.startswith(LINK):  # bake's: built first by bake, not by a build of one target
        raise UsageError(f"--build-context {_shown(name)}: {_shown(value)!r} links another "
                         "bake target, which this version does not build first",
                         f"build that target, and give its image: {_shown(name)}="
                         "docker-image://IMAGE")
    if value.startswith(CWD):  # bake's: a directory from where bake runs (the project's root)
        return parse(name, value.removeprefix(CWD)) if value != CWD else \
            NamedContext(name, ".", "local")
    if value.startswith(REMOTE):
        return NamedContext(name, value, "remote")
    if "://" in value:  # docker-imag://, s3://: a kind buildx has not
        raise bad
    return NamedContext(name, value, "local")


def parse_all(given: dict[str, str]) -> dict[str, NamedContext]:
    """``--build-context`` items (or ``build-contexts`` of [tool.harness]), by name."""
    return {name: parse(name, value) for name, value in given.items()}
