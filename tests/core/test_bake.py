"""A Bake or Compose definition as `docker buildx bake --print` prints it
(harness.core.buildspec.bake).

The prints in tests/fixtures/bake/ were captured from the real buildx on this machine, from
the definitions beside them (tests/machine/test_bake_print.py prints them again and compares).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.core.buildspec import bake
from harness.core.failures.errors import UsageError
from harness.core.platforms.table import DEFAULT_PLATFORMS, parse_platform
from harness.core.platforms.unit import Unit, listing
from harness.core.settings.options import BY_KEY

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bake"


def printed(name: str) -> Any:
    return json.loads((FIXTURES / f"print-{name}.json").read_text())


def test_the_default_group_expands_through_groups_and_matrix_names() -> None:
    found = bake.read_print(printed("default"))
    # app, then the group tools (a matrix: tools-a, tools-b); deps is printed only because
    # app links it with target:deps, so it is not asked for.
    assert found.names == ("app", "tools-a", "tools-b")
    assert [t.name for t in found.linked] == ["deps"]
    assert found.groups["tools"] == ("tools-a", "tools-b")


def test_a_target_inheriting_an_empty_metadata_target_has_every_attribute() -> None:
    app = bake.read_print(printed("app")).targets[0]
    assert app == bake.BakeTarget(
        name="app", context=".", dockerfile="Dockerfile", target="final",
        platforms=("linux/amd64", "linux/arm64"),
        args={"EMPTY": "", "GREETING": "hello"}, labels={"org.example.team": "core"},
        contexts={"alpine": "docker-image://alpine:3.19", "deps": "target:deps"},
        secrets=("id=token,env=TOKEN", "id=npmrc,src=./npmrc"), ssh=("default=./sshkey",),
        cache_from=("type=registry,ref=example/cache:app",), cache_to=("type=inline",),
        tags=("example/app:1.0",), annotations=("index:org.opencontainers.image.title=app",),
        attest=("type=sbom", "type=provenance,mode=max"), output=("type=image,push=false",),
        pull=True, no_cache=True)
    assert app.linked_targets == ("deps",)


def test_a_group_asked_for_gives_its_matrix_targets_with_their_own_args() -> None:
    found = bake.read_print(printed("tools"))
    assert found.names == ("tools-a", "tools-b")
    assert [t.args["VARIANT"] for t in found.targets] == ["a", "b"]
    # linux/armhf, linux/i386, linux/aarch64 as written in the definition
    assert found.targets[0].platforms == ("linux/arm/v7", "linux/386", "linux/arm64")


def test_a_compose_service_with_build_and_x_bake() -> None:
    found = bake.read_print(printed("compose"))
    assert found.names == ("web",)  # db has no build: section, so no target
    web = found.targets[0]
    assert (web.context, web.dockerfile, web.target) == ("app", "Dockerfile.app", "runtime")
    assert web.args == {"VERSION": "2.0"}  # FLAG: (no value) is the environment's: left out
    assert web.platforms == ("linux/amd64", "linux/arm64")  # x-bake's, aliases normalised
    assert web.tags == ("example/web:latest",)
    assert bake.settings(web) == {
        "dockerfile": "app/Dockerfile.app", "context": "app", "build_args": {"VERSION": "2.0"},
        "labels": {"org.example.role": "web"}, "platforms": ["linux/amd64", "linux/arm64"],
        "target": "runtime", "cache_from": ["type=registry,ref=example/cache:web"]}


def test_settings_are_what_each_option_would_have_converted() -> None:
    linked = bake.read_print(printed("app")).targets[0]
    app = dataclasses.replace(linked, contexts={"alpine": "docker-image://alpine:3.19"})
    found = bake.settings(app)
    assert found["build_contexts"] == {"alpine": "docker-image://alpine:3.19"}
    assert found["ssh"] == ["default=./sshkey"]
    assert found["refresh_bases"] is True  # pull = true: the bases are made anew
    assert "refresh_bases" not in bake.settings(dataclasses.replace(app, pull=False))
    assert found["no_cache"] is True and found["secrets"] == list(app.secrets)
    for key, value in found.items():  # the same values the option's own reader makes
        assert BY_KEY[key].convert(value, "pyproject.toml") == value, key


def test_what_the_run_does_not_apply_yet_is_named() -> None:
    app = bake.read_print(printed("app")).targets[0]
    notes = bake.not_honoured(app)
    # named contexts (--build-context), ssh (--ssh) and pull (--refresh-bases) are applied:
    # what is left is the publishing's
    assert [n.split()[0] for n in notes] == ["annotations", "attestations", "outputs", "tags"]
    tools = bake.read_print(printed("tools")).targets[0]
    assert bake.not_honoured(tools) == []


AMD64 = parse_platform("linux/amd64")


def test_several_targets_are_all_built_in_the_definitions_order() -> None:
    # Was a usage error ("this version builds one target per run"): now one unit of work
    # each, in one run (harness.core.platforms.unit).
    assert [t.name for t in bake.asked_targets(bake.read_print(printed("default")))] == [
        "app", "tools-a", "tools-b"]
    with pytest.raises(UsageError, match="no target") as caught:
        bake.asked_targets(bake.Definition(()))
    assert caught.value.fix == "name a target: --bake FILE TARGET"


def test_buildx_023s_objects_and_escapes_are_read_back() -> None:
    # The shape of buildx 0.23+'s print (util/buildflags MarshalJSON: objects with "type";
    # bake.Target.MarshalJSON: ${ printed as $${), which this machine's 0.13 cannot print.
    doc = {"group": {"default": {"targets": ["x"]}}, "target": {"x": {
        "cache-from": [{"type": "registry", "ref": "r/c:x", "mode": "max"}],
        "cache-to": [{"type": "local", "dest": "/tmp/a,b"}],
        "secret": [{"id": "token", "env": "TOKEN"}],
        "ssh": [{"id": "default", "paths": ["/k1", "/k2"]}],
        "attest": [{"type": "sbom", "disabled": True}],
        "args": {"A": "$${B}", "N": None}, "labels": {"l": "%%{x}"},
        "dockerfile-inline": "RUN echo $${X}", "call": "check", "network": "host"}}}
    x = bake.read_print(doc, escaped=True).targets[0]
    assert x.cache_from == ("type=registry,mode=max,ref=r/c:x",)
    assert x.cache_to == ('type=local,"dest=/tmp/a,b"',)
    assert x.secrets == ("id=token,env=TOKEN",)
    assert x.ssh == ("default=/k1,/k2",)
    assert x.attest == ("type=sbom,disabled=true",)
    assert (x.args, x.labels) == ({"A": "${B}"}, {"l": "%{x}"})
    assert x.dockerfile_inline == "RUN echo ${X}"
    assert x.unread == ("call", "network")  # tolerated, kept by name
    assert bake.read_print(doc).targets[0].args == {"A": "$${B}"}  # 0.13 escapes nothing
    with pytest.raises(UsageError, match="inline Dockerfile"):
        bake.settings(x)


@pytest.mark.parametrize("doc", [
    [], {"target": []}, {"group": [], "target": {}}, {"target": {"x": "y"}},
    {"target": {"x": {"platforms": "linux/amd64"}}}, {"target": {"x": {"args": ["A=1"]}}},
    {"target": {"x": {"pull": "yes"}}}, {"target": {"x": {"tags": [{"a": {"b": 1}}]}}},
    {"target": {"x": {"context": 3}}},
])
def test_a_print_of_the_wrong_shape_is_bad_input(doc: Any) -> None:
    with pytest.raises(bake.BadDefinition):
        bake.read_print(doc)


def test_hostile_values_are_bounded_and_inert_when_shown() -> None:
    name = "\x1b]0;owned\x07" + "x" * 10_000
    with pytest.raises(UsageError) as caught:
        bake.read_print({"target": {name: {"context": ["\x1b[2J"]}}})
    message = caught.value.message
    assert "\x1b" not in message and "\x07" not in message
    assert len(message) < 2 * bake.SHOWN + 100
    many = bake.Definition(tuple(bake.BakeTarget(f"t{i}" + "\x1b" * 300) for i in range(50)))
    said = listing(Unit(t.name, AMD64) for t in bake.asked_targets(many))
    assert "\x1b" not in said and len(said) < 6000 and said.endswith("and 38 more")


def test_a_group_that_holds_itself_is_read_once() -> None:
    doc = {"group": {"default": {"targets": ["g"]}, "g": {"targets": ["g", "a", "a"]}},
           "target": {"a": {}}}
    assert bake.read_print(doc).names == ("a",)


def test_files_and_target_names_are_told_apart_as_buildx_names_them() -> None:
    there = {"Bakefile", "ci/docker-bake.hcl"}
    assert bake.split_items(["Bakefile", "ci/docker-bake.hcl", "compose.yaml", "app",
                             "tools-a", "my_group"], there.__contains__) == (
        ["Bakefile", "ci/docker-bake.hcl", "compose.yaml"], ["app", "tools-a", "my_group"])


# -- platforms, as containerd normalises them (containerd/platforms database.go) ---------

@pytest.mark.parametrize(("written", "normal"), [
    ("linux/arm64/v8", "linux/arm64"), ("linux/aarch64", "linux/arm64"),
    ("linux/arm64/8", "linux/arm64"), ("linux/arm64/v9.0", "linux/arm64/v9"),
    ("linux/x86_64", "linux/amd64"), ("linux/x86-64", "linux/amd64"),
    ("linux/amd64/v1", "linux/amd64"), ("linux/amd64/v3", "linux/amd64/v3"),
    ("linux/armhf", "linux/arm/v7"), ("linux/arm", "linux/arm/v7"),
    ("linux/arm/7", "linux/arm/v7"), ("linux/armel", "linux/arm/v6"),
    ("linux/arm/6", "linux/arm/v6"), ("linux/i386", "linux/386"), ("LINUX/X86_64", "linux/amd64"),
    ("macos/arm64", "darwin/arm64"), ("arm64", "linux/arm64"), ("linux", "linux"),
    ("linux/riscv64", "linux/riscv64"), ("linux/ppc64le", "linux/ppc64le"),
    ("linux//arm64", "linux//arm64"), ("a/b/c/d", "a/b/c/d"),
])
def test_platform_aliases_are_containerds(written: str, normal: str) -> None:
    assert bake.normalise_platform(written) == normal


WORDS = ["linux", "i386", "x86_64", "x86-64", "amd64", "aarch64", "arm64", "armhf", "armel",
         "arm", "riscv64", "v1", "v7", "v8", "8", "7", "6", "v9.0", "macos", "LINUX", "ARM64"]


@given(st.lists(st.sampled_from(WORDS) | st.text(max_size=8), min_size=1, max_size=4))
def test_normalising_is_idempotent_and_names_a_known_platform_by_its_name(
        parts: list[str]) -> None:
    text = "/".join(parts)
    once = bake.normalise_platform(text)
    assert bake.normalise_platform(once) == once
    known = {p.name for p in map(parse_platform, DEFAULT_PLATFORMS)}
    if once in known:  # whatever alias was written, the table's own name comes out
        assert parse_platform(once).name == once


ALIASES = st.sampled_from(["x86_64", "x86-64", "amd64", "i386", "armhf"]).map(
    lambda a: f"linux/{a}") | st.sampled_from(["aarch64", "arm64"]).flatmap(
    lambda a: st.sampled_from([f"linux/{a}", f"linux/{a}/v8", f"linux/{a}/8"]))


@given(ALIASES)
def test_every_alias_of_a_default_platform_is_one_the_harness_knows(written: str) -> None:
    assert bake.normalise_platform(written) in {p.name for p in
                                                map(parse_platform, DEFAULT_PLATFORMS)}


def test_buildx_versions() -> None:
    assert bake.parse_buildx_version("github.com/docker/buildx 0.13.1+ds1 0.13.1+ds1-3") == (
        0, 13, 1)
    assert bake.parse_buildx_version("github.com/docker/buildx v0.23.0 28c90ea") == (0, 23, 0)
    assert bake.parse_buildx_version("no buildx") == ()
    assert not bake.escapes_print((0, 22, 9)) and bake.escapes_print((0, 23, 0))


def test_a_target_without_platforms_leaves_the_runs_and_a_remote_context_is_refused() -> None:
    assert bake.settings(bake.BakeTarget("x")) == {
        "dockerfile": "./Dockerfile", "context": ".", "build_args": {}, "labels": {}}
    for context in ("https://github.com/o/r.git#main", "git@github.com:o/r.git"):
        with pytest.raises(UsageError, match="remote context"):
            bake.settings(bake.BakeTarget("x", context=context))
    assert bake.settings(bake.BakeTarget("x", dockerfile="/abs/Dockerfile"))["dockerfile"] \
        == "/abs/Dockerfile"


def test_a_targets_contexts_are_the_runs_build_contexts_and_a_target_link_is_refused() -> None:
    app = bake.BakeTarget("app", contexts={"files": "files", "base": "docker-image://a:1"})
    found = bake.settings(app)["build_contexts"]
    assert found == {"files": "files", "base": "docker-image://a:1"}
    assert BY_KEY["build_contexts"].typed(found)["files"].kind == "local"  # checked as the flag
    with pytest.raises(UsageError) as caught:
        bake.settings(bake.read_print(printed("app")).targets[0])  # deps = "target:deps"
    assert caught.value.message == ("--bake: target app's context deps is target deps of the "
                                    "definition, which this version does not build first")
    assert caught.value.fix == ('build that target, and give its image in the target\'s '
                                'contexts: deps = "docker-image://IMAGE"')
