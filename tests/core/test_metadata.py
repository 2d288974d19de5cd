"""Tags from docker/metadata-action's templates and buildx's annotations
(harness.core.buildspec.metadata):
the tables of metadata-action's README, the levels of buildx's --annotation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.core.buildspec.metadata import (
    OCI,
    TAG,
    GitContext,
    annotate,
    parse_annotation,
    parse_template,
    render_tags,
    standard,
)
from harness.core.failures.errors import UsageError
from harness.core.platforms.table import parse_platform

SHA = "860c1904a1ce19322e91ac35af1ab07466440c37"
RELEASE = ["type=semver,pattern={{version}}", "type=semver,pattern={{major}}.{{minor}}",
           "type=semver,pattern={{major}}", "type=ref,event=branch", "type=ref,event=pr",
           "type=sha"]
AMD64, ARM64 = parse_platform("linux/amd64"), parse_platform("linux/arm64")


@pytest.mark.parametrize(("ref", "tags"), [
    # metadata-action's README, "Semver" and "Sha" examples
    ("refs/tags/v1.2.3", ["1.2.3", "1.2", "1", "sha-860c190", "latest"]),
    ("refs/tags/v2.0.8-beta.67", ["2.0.8-beta.67", "sha-860c190"]),  # no 2.0, 2, latest
    ("refs/heads/releases/v1", ["releases-v1", "sha-860c190"]),
    ("refs/pull/2/merge", ["pr-2", "sha-860c190"]),
    ("refs/tags/not-a-version", ["sha-860c190"]),
])
def test_release_templates_give_metadata_actions_tags(ref: str, tags: list[str]) -> None:
    rendered = render_tags(RELEASE, GitContext(ref, SHA, "main"))
    assert rendered.tags == tags
    assert rendered.version == tags[0]


def test_priority_orders_the_tags_and_the_first_is_the_version() -> None:
    ctx = GitContext("refs/heads/main", SHA, "main")
    rendered = render_tags(["type=sha,format=long", "edge", "type=edge",
                            "type=raw,value=stable,priority=950"], ctx)
    assert rendered.tags == ["stable", "edge", f"sha-{SHA}"]  # raw and type=edge: one tag
    assert rendered.version == "stable"


def test_enable_and_expressions_follow_the_default_branch() -> None:
    lines = ["type=raw,value=latest,enable={{is_default_branch}}",
             "type=raw,value={{branch}}-{{sha}}", "type=raw,value=nightly,prefix=x-,suffix=-y"]
    on_main = render_tags(lines, GitContext("refs/heads/main", SHA, "main"))
    assert on_main.tags == ["latest", "main-860c190", "x-nightly-y"]
    on_topic = render_tags(lines, GitContext("refs/heads/topic", SHA, "main"))
    assert on_topic.tags == ["topic-860c190", "x-nightly-y"]


def test_a_semver_value_and_match_read_other_text_than_the_ref() -> None:
    ctx = GitContext("refs/heads/main", SHA, "main")
    assert render_tags(["type=semver,pattern={{major}}.{{minor}},value=v3.4.5"], ctx).tags == \
        ["3.4", "latest"]
    tagged = GitContext("refs/tags/app-v1.2.3", SHA)
    assert render_tags([r"type=semver,pattern={{version}},match=app-v(\d.\d.\d)"], tagged
                       ).tags == ["1.2.3", "latest"]


def test_nothing_applies_gives_no_tag() -> None:
    assert render_tags(["type=semver,pattern={{version}}"],
                       GitContext("refs/heads/main", SHA)) .tags == []


@pytest.mark.parametrize(("line", "says"), [
    ("type=semver", "needs pattern="),
    ("type=ref", "needs event="),
    ("type=ref,event=push", "event 'push'"),
    ("type=schedule", "not one the harness writes"),
    ("type=semver,pattern={{minor}}.{{build}}", "unknown field {{build}}"),
    ("type=raw,value={{date 'YYYYMMDD'}}", "unknown expression"),
    ("type=sha,format=medium", "format 'medium'"),
    ("type=raw,value=x,priority=high", "priority 'high'"),
])
def test_a_bad_template_is_one_usage_error_naming_it(line: str, says: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_template(line)
    assert says in caught.value.message and line in caught.value.message


def test_a_template_that_gives_no_tag_text_is_refused() -> None:
    with pytest.raises(UsageError, match="not a tag"):
        render_tags(["type=raw,value=.hidden"], GitContext())


@given(st.text(min_size=1, max_size=300))
def test_any_branch_name_gives_a_valid_tag_or_none(branch: str) -> None:
    """Whatever a branch is called, the tag written is one a registry takes, or the run is
    refused before anything is pushed: never a tag the registry would reject half-way."""
    try:
        tags = render_tags(["type=ref,event=branch"],
                           GitContext(f"refs/heads/{branch}", SHA)).tags
    except UsageError:
        return
    assert all(TAG.fullmatch(t) for t in tags)


def test_annotations_go_to_their_levels_and_the_users_win() -> None:
    defaults = standard(GitContext("refs/tags/v1.0.0", SHA, "main", "https://github.com/o/r"),
                        "1.0.0", "2026-11-30T10:00:00.000Z")
    assert defaults == {OCI + "created": "2026-11-30T10:00:00.000Z", OCI + "revision": SHA,
                        OCI + "source": "https://github.com/o/r", OCI + "version": "1.0.0"}
    found = annotate(["index:org.opencontainers.image.title=app",
                      "manifest[linux/arm64]:dev.example.cpu=neoverse",
                      "org.opencontainers.image.version=custom",
                      "index,manifest-descriptor:dev.example.team=core"], [AMD64, ARM64], defaults)
    assert found.index[OCI + "title"] == "app" and found.index["dev.example.team"] == "core"
    assert found.index[OCI + "version"] == "1.0.0"  # the bare one is the manifests'
    assert found.of_manifest("linux/amd64")[OCI + "version"] == "custom"
    assert "dev.example.cpu" in found.of_manifest("linux/arm64")
    assert "dev.example.cpu" not in found.of_manifest("linux/amd64")
    assert found.of_descriptor("linux/amd64") == {"dev.example.team": "core"}


def test_unknown_context_gives_no_empty_annotation() -> None:
    assert standard(GitContext(), "", "2026-11-30T10:00:00.000Z") == \
        {OCI + "created": "2026-11-30T10:00:00.000Z"}


@pytest.mark.parametrize(("text", "says"), [
    ("org.opencontainers.image.title", "has no =VALUE"),
    ("layer:a=b", "unknown level 'layer'"),
    ("index[linux/amd64]:a=b", "of no one platform"),
    ("manifest[linux/sparc]:a=b", "manifest[linux/sparc]:a=b"),
    ("index: =b", "not an annotation key"),
])
def test_a_bad_annotation_is_one_usage_error(text: str, says: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_annotation(text)
    assert says in caught.value.message


def test_an_annotation_for_a_platform_not_published_is_refused() -> None:
    with pytest.raises(UsageError, match="not published"):
        annotate(["manifest[linux/arm64]:a=b"], [AMD64], {})
