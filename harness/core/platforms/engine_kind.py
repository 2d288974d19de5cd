"""Which engine answers the Docker API: Docker's own, or Podman's compatible service.

Pure: read from the engine's ``/version`` answer (data from outside: only its shape is
trusted). Podman names itself in the answer's ``Components`` ("Podman Engine"); Docker names
"Engine" there. What differs for the harness: Podman has no BuildKit (builds take the classic
path), and one tag of it holds one platform's image (each platform is addressed by ID).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

PODMAN_COMPONENT = "Podman Engine"
VERSION_LENGTH = 40  # a version shown is bounded: the engine's words are data


class EngineKind(StrEnum):
    DOCKER = "Docker"
    PODMAN = "Podman"


def kind_name(kind: EngineKind) -> str:
    """The kind as report.json spells it: ``docker`` or ``podman``."""
    return kind.name.lower()


def kind_named(name: str) -> EngineKind:
    """The kind report.json's ``name`` spells (its schema allows only those)."""
    return EngineKind[name.upper()]


KIND_NAMES = tuple(kind_name(k) for k in EngineKind)


def kind_of(version: Mapping[str, Any]) -> tuple[EngineKind, str]:
    """The engine's kind and its own version (Podman's, from its component), from the
    ``/version`` answer; anything that does not name Podman is Docker's API as it says."""
    components = version.get("Components")
    for component in components if isinstance(components, list) else []:
        if isinstance(component, dict) and component.get("Name") == PODMAN_COMPONENT:
            own = component.get("Version")
            return EngineKind.PODMAN, _bounded(own if isinstance(own, str) else
                                               version.get("Version"))
    return EngineKind.DOCKER, _bounded(version.get("Version"))


def _bounded(value: Any) -> str:
    text = str(value) if isinstance(value, str) and value else "?"
    return text[:VERSION_LENGTH]


def classic_only(kind: EngineKind) -> bool:
    """Whether the engine builds only with the classic builder: Podman serves no BuildKit
    session, so buildx's docker driver cannot build on it."""
    return kind is EngineKind.PODMAN
