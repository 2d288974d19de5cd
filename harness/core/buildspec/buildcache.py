"""Where each platform's build cache is kept, and the buildx flags that read and write it.

``--cache REF`` keeps every platform's cache in one repository: the build cache under the tag
``REF:PLATFORM-SLUG`` and each base the harness made (bootstrapped, so not the same bytes on
another machine) under ``REF:base-NAME-PLATFORM-SLUG``, so that a new machine's build finds
the same base and hits the cache. How the cache is written depends on the engine's BuildKit:

- with images in containerd's store, a registry cache of every stage (``mode=max``);
- with the classic store (the docker driver of Docker 20.10 to 23), only an inline cache: the
  cache's record in the image's own config, written by pushing the built image to the tag.

``--cache-from``/``--cache-to`` pass buildx's own syntax through, ``{platform}`` replaced by
the platform's slug. Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.core.failures.errors import UsageError
from harness.core.oci.reference import parse_reference
from harness.core.platforms.table import Platform

PLACEHOLDER = "{platform}"


@dataclass(frozen=True)
class CachePlan:
    """One platform's cache: buildx's flags, and where the built image goes for an inline
    cache (None: buildx writes it itself, or nothing is written)."""

    cache_from: tuple[str, ...] = ()
    cache_to: tuple[str, ...] = ()
    push_to: str | None = None  # HOST/REPO:TAG


def check_repository(ref: str) -> str:
    """``--cache HOST[:PORT]/REPO``: a repository, without tag or digest."""
    try:
        parsed = parse_reference(ref)
    except UsageError as exc:
        raise UsageError(f"--cache: {exc.message}",
                         "give HOST[:PORT]/REPO, e.g. ghcr.io/team/app-cache") from None
    if parsed.tag or parsed.digest or "/" not in ref:
        raise UsageError(f"--cache {ref!r} is not a repository of a registry",
                         "give HOST[:PORT]/REPO without a tag, e.g. ghcr.io/team/app-cache")
    return f"{parsed.host}/{parsed.repository}"


def plan(platform: Platform, cache: str | None, cache_from: tuple[str, ...],
         cache_to: tuple[str, ...], registry_export: bool) -> CachePlan:
    """The flags of one platform's build; ``registry_export``: the engine's BuildKit can
    export a registry cache (containerd's store)."""
    given_from = tuple(c.replace(PLACEHOLDER, platform.slug) for c in cache_from)
    given_to = tuple(c.replace(PLACEHOLDER, platform.slug) for c in cache_to)
    if cache is None:
        return CachePlan(given_from, given_to)
    tag = f"{cache}:{platform.slug}"
    if registry_export:
        return CachePlan((f"type=registry,ref={tag}", *given_from),
                         (f"type=registry,ref={tag},mode=max", *given_to))
    return CachePlan((f"type=registry,ref={tag}", *given_from), ("type=inline", *given_to),
                     tag)


def base_tag(cache: str, local_tag: str) -> str:
    """Where a made base travels with the cache: ``REF:base-NAME-SLUG``, from the base's
    local tag (``harness.invalid/base/debian:bookworm-slim-linux-arm64``)."""
    name = local_tag.rsplit("/", 1)[-1]
    return f"{cache}:base-" + re.sub(r"[^\w.-]+", "-", name)[:120]
