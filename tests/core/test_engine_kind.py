"""Which engine answers: Podman names itself in /version's Components, Docker does not."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.core.platforms.engine_kind import VERSION_LENGTH, EngineKind, classic_only, kind_of

# Podman 4.3.1's compatible /version (Debian bookworm), as the service answers it.
PODMAN_4_3 = {
    "Platform": {"Name": "linux/amd64/debian-12"},
    "Components": [{"Name": "Podman Engine", "Version": "4.3.1",
                    "Details": {"APIVersion": "4.3.1", "Arch": "amd64", "MinAPIVersion": "4.0.0",
                                "Os": "linux"}},
                   {"Name": "Conmon", "Version": "conmon version 2.1.6"}],
    "Version": "4.3.1", "ApiVersion": "1.41", "MinAPIVersion": "1.24", "Os": "linux",
    "Arch": "amd64"}
DOCKER_20 = {"Components": [{"Name": "Engine", "Version": "20.10.24+dfsg1"},
                            {"Name": "containerd", "Version": "1.6.20"}],
             "Version": "20.10.24+dfsg1", "ApiVersion": "1.41"}


def test_podman_is_told_by_its_component_and_gives_its_own_version() -> None:
    assert kind_of(PODMAN_4_3) == (EngineKind.PODMAN, "4.3.1")
    assert classic_only(EngineKind.PODMAN)


def test_docker_is_docker_with_its_version() -> None:
    assert kind_of(DOCKER_20) == (EngineKind.DOCKER, "20.10.24+dfsg1")
    assert not classic_only(EngineKind.DOCKER)


def test_a_version_that_only_says_podman_elsewhere_is_not_podman() -> None:
    # Only the component says which engine serves the API: a version string may say anything.
    said = {**DOCKER_20, "Version": "Podman Engine 9", "Platform": {"Name": "Podman Engine"}}
    assert kind_of(said)[0] is EngineKind.DOCKER


@settings(deadline=2000, database=None)  # a loaded shared machine
@given(st.dictionaries(st.sampled_from(["Components", "Version", "ApiVersion"]),
                       st.one_of(st.none(), st.text(), st.integers(),
                                 st.lists(st.one_of(st.text(), st.dictionaries(
                                     st.sampled_from(["Name", "Version"]),
                                     st.one_of(st.text(), st.integers())))))))
def test_any_answer_gives_a_kind_and_a_bounded_version(answer: dict[str, Any]) -> None:
    kind, version = kind_of(answer)
    assert kind in EngineKind and 0 < len(version) <= VERSION_LENGTH
