"""Named build contexts (harness.core.buildspec.contexts): each of buildx's kinds read, and
what buildx would refuse is one line naming the fix."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from harness.core.buildspec import contexts
from harness.core.failures.errors import UsageError
from harness.core.settings.options import BY_KEY


@pytest.mark.parametrize(("value", "kind"), [
    ("files", "local"), ("./a/b", "local"), ("/abs/dir", "local"),
    ("docker-image://alpine:3.19", "image"),
    ("docker-image://127.0.0.1:5000/base@sha256:" + "a" * 64, "image"),
    ("oci-layout://./layout:v1", "layout"), ("https://example.com/ctx.tar.gz", "remote"),
    ("git@github.com:o/r.git", "remote"), ("https://github.com/o/r.git#main", "remote"),
])
def test_each_kind_buildx_takes_is_read(value: str, kind: str) -> None:
    found = contexts.parse("base", value)
    assert (found.name, found.value, found.kind) == ("base", value, kind)


def test_bakes_cwd_prefix_is_a_local_directory_from_where_bake_runs() -> None:
    assert contexts.parse("f", "cwd://files") == contexts.NamedContext("f", "files", "local")
    assert contexts.parse("f", "cwd://") == contexts.NamedContext("f", ".", "local")


def test_an_oci_layouts_directory_is_told_from_its_tag_and_digest() -> None:
    assert contexts.parse("l", "oci-layout://./layout:v1").path == "./layout"
    assert contexts.parse("l", "oci-layout://lay@sha256:" + "b" * 64).path == "lay"
    assert contexts.parse("l", "oci-layout:///srv/lay").path == "/srv/lay"


@pytest.mark.parametrize(("name", "value", "says"), [
    ("Files", "files", "not a context name"),
    ("a b", "files", "not a context name"),
    ("base", "", "is not a build context"),
    ("base", "docker-imag://alpine", "is not a build context"),
    ("base", "s3://bucket/x", "is not a build context"),
    ("base", "docker-image://Alpine", "not an image reference"),
    ("base", "docker-image://", "not an image reference"),
    ("base", "oci-layout://", "not an OCI layout"),
    ("base", "oci-layout://lay@sha256:abc", "not an OCI layout"),
    ("base", "target:deps", "links another bake target"),
])
def test_what_buildx_would_refuse_is_one_line(name: str, value: str, says: str) -> None:
    with pytest.raises(UsageError, match=says) as caught:
        contexts.parse(name, value)
    assert "\n" not in caught.value.message and caught.value.fix


def test_the_option_is_declared_once_and_converts_flag_and_table_alike() -> None:
    option = BY_KEY["build_contexts"]
    assert option.flag == "--build-context" and option.toml_key == "build-contexts"
    flag = option.typed(option.convert(["files=./files", "base=docker-image://a:1"],
                                       "command line"))
    table = option.typed(option.convert({"files": "./files", "base": "docker-image://a:1"},
                                        "pyproject.toml"))
    assert flag == table == {"files": contexts.NamedContext("files", "./files", "local"),
                             "base": contexts.NamedContext("base", "docker-image://a:1",
                                                           "image")}
    with pytest.raises(UsageError, match="NAME=VALUE"):
        option.convert(["files"], "command line")


@given(st.text(max_size=300), st.text(max_size=2000))
@example("base", "s3://" + "x" * 2000)
@example("A" * 300, "files")
@example("base", "docker-image://\x1b[2J")
def test_any_name_and_value_are_read_or_refused_in_one_bounded_line(name: str,
                                                                    value: str) -> None:
    try:
        found = contexts.parse(name, value)
    except UsageError as exc:
        assert "\n" not in exc.message and "\x1b" not in exc.message
        assert len(exc.message) < 700
    else:
        assert found.name == name and found.kind in ("local", "image", "layout", "remote")
        assert found.value == value or value.startswith(contexts.CWD)
