"""The image of a platform to check instead of building one (``--ref``): a registry
reference's platform manifest pulled by digest, or a local image. Engine work: the index
itself is read on the registry side (harness.distribution.check_ref).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import docker
import docker.errors

from harness.containers import engine
from harness.containers.engine import image_exists, image_platform
from harness.core.failures.diagnosis import Event, Stage, diagnose
from harness.core.failures.errors import CannotCheck, UsageError, from_diagnosis
from harness.core.oci.reference import is_registry_ref, parse_reference
from harness.core.platforms.engine_kind import EngineKind
from harness.core.platforms.table import Platform, find
from harness.distribution.registry import is_loopback


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
        failed = _pull(client, pinned, digest, platform, plain_http=is_loopback(parsed.host))
        image_id = None if failed else str(client.images.get(pinned).id)
    except docker.errors.APIError as exc:
        failed = str(exc.explanation or exc)
    if failed is not None or image_id is None:
        d = diagnose(Event(Stage.CHECK, output=failed or "", host=parsed.host,
                           command=f"pull {pinned}", platform=platform.name))
        raise from_diagnosis(d)
    return image_id


def _pull(client: docker.DockerClient, pinned: str, digest: str, platform: Platform,
          plain_http: bool) -> str | None:
    """Pull ``pinned``; the engine's error, or None. Its stream is read to the end: the
    engine's error is a line of it (the SDK's own pull reads past it, then finds no image).
    Podman's compatible pull asks for TLS on loopback too, where Docker speaks plain HTTP by
    default (a registry of this host's own): there, Podman's own endpoint, told the same."""
    if engine.kind(client) is EngineKind.PODMAN:
        api = client.api
        params = {"reference": pinned, "tlsVerify": str(not plain_http).lower(),
                  "OS": platform.os, "Arch": platform.architecture,
                  **({"Variant": platform.variant} if platform.variant else {})}
        lines: Iterable[Any] = api._stream_helper(  # the SDK has no call for it
            api._post(api._url("/libpod/images/pull"), params=params, stream=True),
            decode=True)
    else:
        lines = client.api.pull(pinned.partition("@")[0], tag=digest, platform=platform.name,
                                stream=True, decode=True)
    for line in lines:
        if isinstance(line, dict) and line.get("error"):
            return str(line["error"])
    return None


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
