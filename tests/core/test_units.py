"""The key of a unit of work (a target's platform) and how it is named."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from harness.core.platforms.table import PLATFORMS, parse_platform
from harness.core.platforms.unit import Unit, listing, unit_of, units_of

AMD64 = parse_platform("linux/amd64")
ARM64 = parse_platform("linux/arm64")

# Target names as a Bake definition allows them (harness.core.buildspec.bake.NAME).
TARGETS = st.from_regex(r"[a-zA-Z0-9_-]{1,12}", fullmatch=True)


def test_without_a_target_a_unit_is_named_as_its_platform() -> None:
    unit = Unit(None, parse_platform("linux/arm/v7"))
    assert (unit.name, unit.slug, str(unit)) == ("linux/arm/v7", "linux-arm-v7", "linux/arm/v7")


def test_a_target_unit_is_named_target_then_platform() -> None:
    unit = Unit("app", ARM64)
    assert (unit.name, unit.slug) == ("app-linux/arm64", "app-linux-arm64")


@given(st.lists(st.tuples(st.one_of(st.none(), TARGETS), st.sampled_from(PLATFORMS)),
                min_size=2, max_size=12, unique=True))
def test_no_two_units_share_a_slug_or_a_name(pairs: list[tuple[str | None, object]]) -> None:
    units = [Unit(t, p) for t, p in pairs]  # type: ignore[arg-type]
    assert len({u.slug for u in units}) == len(units)
    assert len({u.name for u in units}) == len(units)


@given(st.lists(TARGETS, min_size=1, max_size=5, unique=True),
       st.lists(st.sampled_from(PLATFORMS), min_size=1, max_size=4, unique=True))
def test_a_test_id_tells_its_unit_never_a_shorter_one(targets: list[str],
                                                      platforms: list[object]) -> None:
    units = units_of([(t, platforms) for t in targets])  # type: ignore[misc]
    for unit in units:
        assert unit_of(f"checks.py::test_builds[{unit.name}]", units) == unit
        assert unit_of(f"checks.py::test_x[case-{unit.name}]", units) == unit


def test_units_go_target_by_target_each_once() -> None:
    units = units_of([("app", [AMD64, ARM64]), ("worker", [AMD64]), ("app", [AMD64])])
    assert [u.name for u in units] == ["app-linux/amd64", "app-linux/arm64",
                                       "worker-linux/amd64"]
    assert unit_of("test_builds[linux/amd64]", units) is None


def test_the_first_line_lists_the_units() -> None:
    units = units_of([("app", [AMD64, ARM64]), ("worker", [AMD64])])
    assert listing(units) == ("--bake: 3 units of work (2 targets by platform): "
                              "app-linux/amd64, app-linux/arm64, worker-linux/amd64")
