"""The image of a platform to check instead of building one (``--ref``): a registry
reference's platform manifest pulled by digest, or a local image. Engine work: the index
itself is read on the registry side (harness.distribution.check_ref).
"""

from __future__ import annotations

import docker
import docker.errors

from harness.containers.engine import image_exists, image_platform
from harness.core.failures.diagnosis import Event, Stage, diagnose
from harness.core.failures.errors import CannotCheck, UsageError, from_diagnosis
from harness.core.oci.reference import is_registry_ref, parse_reference
from harness.core.platforms.table import Platform, find


def fetch(client: docker.DockerClient, ref: str, platform: Platform,
          entries: dict[str, str]) -> str:
    """A local reference to ``platform``'s image of ``ref``, pulled by manifest digest
    (``entries``: platform -> digest, from the index)."""
    if not is_registry_ref(ref):
        local_platform(client, ref)  # there, and of a known platform
        return ref
    digest = entries.get(platform.name)
    if digest is None:
        raise CannotCheck(f"{platform.name} is not in {ref}", "publish it and merge again")
    parsed = parse_reference(ref)
    pinned = f"{parsed.host}/{parsed.repository}@{digest}"
    try:
        # By the platform's own manifest digest: the classic image store cannot hold two
        # platforms of one index digest.
        image = client.images.pull(pinned, platform=platform.name)
    except docker.errors.APIError as exc:
        d = diagnose(Event(Stage.CHECK, output=str(exc.explanation or exc), host=parsed.host,
                           command=f"pull {pinned}", platform=platform.name))
        raise from_diagnosis(d) from exc
    return str(image.id)


def local_platform(client: docker.DockerClient, ref: str) -> Platform:
    """The platform of a local image to check; UsageError if there is none or it is unknown."""
    if not image_exists(client, ref):
        raise UsageError(f"no local image {ref} and it is not a registry reference",
                         "pass HOST[:PORT]/REPO:TAG or a local image")
    os_, arch, variant = image_platform(client, ref)
    platform = find(arch, variant, os=os_)
    if platform is None:
        raise UsageError(f"{ref} is {os_}/{arch}, a platform the harness does not know",
                         "check an image of a platform listed by --help")
    return platform
