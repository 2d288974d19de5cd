"""Per-platform overrides: which platforms, what is skipped with which reason, what changes."""

from __future__ import annotations

from typing import Any

import pytest

from harness.core.answers import observation as obs
from harness.core.declared import service, structure, usercheck
from harness.core.failures.errors import UsageError
from harness.core.judging.verdicts import judge
from harness.core.outcomes import Kind, RunMode, Verdict
from harness.core.platforms.table import parse_platform
from harness.core.settings import overrides

ARM = parse_platform("linux/arm/v7")
AMD = parse_platform("linux/amd64")
CHECKS = usercheck.parse({"app": {"command": ["app", "-V"], "expect": "^app 1"},
                          "jit": {"command": "app --jit", "expect": "jit on"}})
SOURCES = ("uname", "hello", "check:app", "check:jit", "cst:t.yaml::Root",
           "cst:t.yaml::JIT warm-up", "service:8080/")


def parse(*tables: dict[str, Any]) -> tuple[overrides.Override, ...]:
    return overrides.parse(list(tables), CHECKS, SOURCES)


def test_an_override_applies_to_its_platforms_only_and_later_fields_win() -> None:
    found = parse({"platforms": ["linux/arm/v7", "linux/386"], "skip": ["check:jit", "cst:*::JIT*"],
                   "reason": "no JIT", "checks": {"app": {"expect": "^app 1 \\(slow\\)"}},
                   "service": {"timeout": 60}},
                  {"platforms": ["linux/arm/v7"], "service": {"timeout": 120}})
    here, there = overrides.for_platform(found, ARM), overrides.for_platform(found, AMD)
    assert there == overrides.Applied()
    assert here.skipped("cst:t.yaml::JIT warm-up") == "no JIT"
    assert here.skipped("check:app") is None
    [app] = here.declared(CHECKS)  # jit is skipped, app is changed
    assert app.expect == "^app 1 \\(slow\\)" and app.command == ("app", "-V")
    assert there.declared(CHECKS) == CHECKS
    [svc] = here.services((service.ServiceCheck(8080),))
    assert svc.timeout == 120.0


def test_skipped_sources_are_reported_with_their_reason_and_pass() -> None:
    [o] = parse({"platforms": ["linux/arm/v7"], "skip": ["check:jit", "hello"],
                 "reason": "no JIT"})
    applied = overrides.for_platform([o], ARM)
    found = applied.report([obs.absent("hello")], SOURCES, ARM)
    assert {f.source: f.error for f in found} == {
        "hello": "skipped on linux/arm/v7: no JIT", "check:jit": "skipped on linux/arm/v7: no JIT"}
    verdict = judge(ARM, found, "amd64", RunMode("qemu"))
    assert verdict.verdict == Verdict.PASS
    assert {f.kind for f in verdict.findings} == {Kind.SKIPPED}
    assert Kind.SKIPPED.exit_status == 0


@pytest.mark.parametrize(("table", "said"), [
    ({"platforms": "linux/arm/v7"}, "platforms must be a list of platform names"),
    ({"platforms": ["linux/sparc"]}, "sparc"),
    ({"platforms": ["linux/arm/v7"], "skip": ["check:jit"]}, "a skip needs its reason"),
    ({"platforms": ["linux/arm/v7"], "skip": ["check:jitt"], "reason": "x"},
     "skip 'check:jitt' names no check of this run"),
    ({"platforms": ["linux/arm/v7"], "checks": {"nope": {"expect": "x"}}},
     "checks.nope is not a declared check"),
    ({"platforms": ["linux/arm/v7"], "checks": {"app": {"expect": "("}}},
     "expect is not a regular expression"),
    ({"platforms": ["linux/arm/v7"], "service": {"timeout": "slow"}},
     "timeout must be a number"),
    ({"platforms": ["linux/arm/v7"], "selector": "x"}, "unknown key 'selector'"),
])
def test_a_bad_override_is_one_usage_error(table: dict[str, Any], said: str) -> None:
    with pytest.raises(UsageError) as err:
        parse(table)
    assert said in err.value.message and err.value.fix


def test_a_misspelt_skip_is_named_with_the_nearest_source() -> None:
    with pytest.raises(UsageError) as err:
        parse({"platforms": ["linux/arm/v7"], "skip": ["check:jitt"], "reason": "x"})
    assert err.value.fix == "did you mean 'check:jit'?"


def test_an_override_can_run_other_structure_test_files_on_its_platforms() -> None:
    run = structure.parse({"schemaVersion": "2.0.0", "fileExistenceTests": [
        {"name": "jit", "path": "/usr/lib/jit.so"}]}, "app.yaml")
    arm = structure.parse({"schemaVersion": "2.0.0", "fileExistenceTests": [
        {"name": "no jit", "path": "/usr/lib/jit.so", "shouldExist": False}]}, "app-arm.yaml")
    read = {"app-arm.yaml": arm}.__getitem__
    found = overrides.parse([{"platforms": ["linux/arm/v7"], "structure-tests": ["app-arm.yaml"],
                              "skip": ["cst:app-arm.yaml::no jit"], "reason": "later"}],
                            CHECKS, SOURCES, read)  # a skip may name the override's own tests
    assert overrides.for_platform(found, AMD).structure([run]) == (run,)
    [there] = overrides.for_platform(found, ARM).structure([run])
    assert there.shown == "app-arm.yaml" and there.tests == ()  # its one test skipped
    assert [f.shown for f in overrides.structure_files([run], found)] == ["app.yaml",
                                                                          "app-arm.yaml"]


def test_a_target_override_applies_to_every_platform_its_target_runs_on() -> None:
    # target with no platforms: all of them (the configuration of that target holds it);
    # with platforms, those only.
    [every, some] = parse({"target": "worker", "skip": ["check:jit"], "reason": "no JIT"},
                          {"target": "worker", "platforms": ["linux/arm/v7"],
                           "checks": {"app": {"expect": "^app 2"}}})
    assert (every.target, every.platforms, some.platforms) == ("worker", (), ("linux/arm/v7",))
    assert overrides.for_platform([every, some], AMD).skipped("check:jit") == "no JIT"
    assert overrides.for_platform([every, some], AMD).declared(CHECKS) == CHECKS[:1]
    [app] = overrides.for_platform([every, some], ARM).declared(CHECKS)
    assert app.expect == "^app 2"


@pytest.mark.parametrize(("table", "said"), [
    ({"target": "a b", "skip": []}, "target must be the name of a Bake target"),
    ({"target": 3}, "target must be the name of a Bake target"),
    ({"skip": []}, "platforms must be a list of platform names"),
])
def test_a_bad_target_override_is_one_usage_error(table: dict[str, Any], said: str) -> None:
    with pytest.raises(UsageError) as err:
        parse(table)
    assert said in err.value.message and err.value.fix
