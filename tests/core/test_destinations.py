"""Where publish writes each Bake target's index (harness.core.buildspec.destinations)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.core.buildspec.destinations import Destination, of_target
from harness.core.failures.errors import UsageError

REG = [("127.0.0.1:5000", "team")]


def test_a_target_with_tags_goes_under_its_own_one_index_per_repository() -> None:
    found = of_target("app", ["ghcr.io/o/app:1.2", "ghcr.io/o/app:latest",
                              "127.0.0.1:5000/mirror/app:1.2"], REG, ["7"])
    assert found == (Destination("ghcr.io", "o/app", ("1.2", "latest")),
                     Destination("127.0.0.1:5000", "mirror/app", ("1.2",)))


def test_a_tag_without_a_tag_part_is_latest_and_each_tag_is_written_once() -> None:
    assert of_target("app", ["ghcr.io/o/app", "ghcr.io/o/app:latest"], [], []) == (
        Destination("ghcr.io", "o/app", ("latest",)),)


def test_a_target_without_tags_goes_under_each_registry_with_its_name_appended() -> None:
    found = of_target("Worker", [], [*REG, ("ghcr.io", "o")], ["7", "latest"])
    assert found == (Destination("127.0.0.1:5000", "team/worker", ("7", "latest")),
                     Destination("ghcr.io", "o/worker", ("7", "latest")))
    assert found[0].name == "127.0.0.1:5000/team/worker"


@pytest.mark.parametrize(("tags", "registries", "says"), [
    (["app:1.2"], REG, "names no registry host"),
    (["ghcr.io/o/app@sha256:" + "a" * 64], REG, "names a digest"),
    ([], [], "has no tags in its definition and no --registry"),
])
def test_a_target_with_nowhere_to_go_is_one_line_of_bad_input(
        tags: list[str], registries: list[tuple[str, str]], says: str) -> None:
    with pytest.raises(UsageError) as caught:
        of_target("app", tags, registries, ["1"])
    assert says in caught.value.message and "\n" not in caught.value.message


def test_a_target_name_that_makes_no_repository_is_refused() -> None:
    with pytest.raises(UsageError, match="makes no repository name"):
        of_target("app_", [], REG, ["1"])


@given(st.text(min_size=1, max_size=300))
def test_any_definition_tag_gives_a_destination_or_one_bounded_line(text: str) -> None:
    try:
        found = of_target("app", [text], REG, ["1"])
    except UsageError as exc:
        assert "\n" not in exc.message and len(exc.message) < 400
    else:
        assert len(found) == 1 and found[0].tags
