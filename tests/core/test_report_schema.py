"""report.json's JSON Schema describes the typed report (harness.core.reporting.report): every
field of
each dataclass is in the schema and every property of the schema is a field, and any report
the types can hold is valid against the schema and reads back as it was written."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, get_type_hints

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.core.answers.observation import Observation
from harness.core.answers.origins import Step
from harness.core.clock import stamp
from harness.core.outcomes import Kind, RunKind, RunMode
from harness.core.platforms.engine_kind import EngineKind
from harness.core.reporting.report import Host, IndexReport, Report, RunSpan, build_report
from harness.core.reporting.report_schema import (
    FINDING,
    HOST,
    INDEX,
    OBSERVED,
    PHASE,
    PLATFORM,
    SCHEMA,
)
from harness.core.results.finding import Finding
from harness.core.results.platform_result import (
    BuildInfo,
    EngineInfo,
    ImageInfo,
    Phase,
    PlatformResult,
    ProbeTimes,
)

VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)
_PROPS: Mapping[str, Any] = PLATFORM["properties"]  # type: ignore[assignment]

# A field whose JSON name is not its own: PlatformResult's observations are report.json's
# "observed" (by source), its times three numbers.
RENAMED = {(PlatformResult, "observations"): ("observed",),
           (PlatformResult, "times"): tuple(ProbeTimes().to_dict())}
# Not in report.json: the source names its entry; output and the typed answer of a structure
# test or service check (judged in-process, its outcome written) stay in the process.
UNWRITTEN = {(Observation, "source"), (Observation, "output"), (Observation, "answer")}


def _json_names(cls: type) -> set[str]:
    names = (f.name for f in dataclasses.fields(cls)) if dataclasses.is_dataclass(cls) \
        else iter(get_type_hints(cls))
    found: set[str] = set()
    for name in names:
        if (cls, name) not in UNWRITTEN:
            found.update(RENAMED.get((cls, name), (name,)))
    return found


PAIRS: list[tuple[type, Mapping[str, Any]]] = [
    (Report, SCHEMA), (RunSpan, SCHEMA["properties"]["run"]), (Host, HOST),
    (IndexReport, INDEX), (PlatformResult, PLATFORM), (ImageInfo, _PROPS["image"]),
    (BuildInfo, _PROPS["build"]), (RunMode, _PROPS["run"]),
    (EngineInfo, _PROPS["engine"]["oneOf"][1]), (Phase, PHASE), (Finding, FINDING),
    (Step, FINDING["properties"]["steps"]["items"]), (Observation, OBSERVED),
]


@pytest.mark.parametrize(("cls", "schema"), PAIRS, ids=[c.__name__ for c, _s in PAIRS])
def test_every_field_is_in_the_schema_and_every_property_is_a_field(
        cls: type, schema: Mapping[str, Any]) -> None:
    assert _json_names(cls) == set(schema["properties"])


_text = st.text(max_size=12)
_maybe = st.none() | _text
_when = st.floats(0, 4e9).map(stamp)
_platforms = st.sampled_from(["linux/amd64", "linux/386", "linux/arm64", "linux/arm/v7",
                              "linux/riscv64", "linux/ppc64le", "linux/s390x"])
_step = st.builds(Step, _text, _text, _text, st.none() | st.integers(1, 999), _maybe)
_finding = st.builds(Finding, _text, st.sampled_from(list(Kind)), _text, _text,
                     st.lists(_step, max_size=2).map(tuple), _maybe)
_observation = st.builds(
    Observation, st.sampled_from(["config", "dpkg", "uname", "rustc", "check:v", "isa"]),
    _maybe, st.lists(_platforms, max_size=2).map(tuple), _maybe, _maybe,
    st.dictionaries(st.sampled_from(["reason", "path", "count"]), _text | st.integers(),
                    max_size=2),
    st.none() | st.sampled_from([*map(str, Kind), "skipped"]), _maybe, _maybe)
_phase = st.builds(Phase, st.sampled_from(["build", "step", "probe", "hello"]), _when, _when,
                   _maybe)
_strings = st.none() | st.dictionaries(_text, _text, max_size=2)
_result = st.builds(
    PlatformResult, _platforms, st.just(Kind.ERROR.verdict),
    st.lists(_finding, max_size=3), st.lists(_observation, max_size=4),
    st.none() | st.builds(ImageInfo, _maybe, _maybe, _maybe, _maybe, _maybe),
    st.none() | st.builds(BuildInfo, st.booleans(), _maybe, st.none() | st.floats(0, 1e4),
                          _maybe, _strings, _maybe, _maybe, _strings),
    st.none() | st.builds(RunMode, st.sampled_from(list(RunKind)), _maybe, _maybe, _maybe,
                          _maybe),
    st.builds(ProbeTimes, *[st.none() | st.floats(0, 1e4)] * 3), _maybe,
    st.none() | st.builds(EngineInfo, _text, _maybe, _maybe, st.sampled_from(list(EngineKind))),
    st.lists(_phase, max_size=3),
    st.none() | st.sampled_from(["app", "worker-1"]))
_host = st.fixed_dictionaries({}, optional={k: _maybe for k in get_type_hints(Host)})
_index = st.none() | st.builds(
    IndexReport, _text, _maybe, _maybe, st.dictionaries(_platforms, _text, max_size=2),
    st.lists(_finding, max_size=2).map(tuple),
    st.dictionaries(_platforms, st.fixed_dictionaries({"verdict": _maybe, "harness": _maybe}),
                    max_size=2))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(results=st.lists(_result, min_size=1, max_size=3, unique_by=lambda r: r.platform),
       host=_host, policy=st.sampled_from(["warn", "fail"]), index=_index,
       run=st.none() | st.tuples(st.floats(0, 2e9), st.floats(2e9, 4e9)),
       run_id=st.none() | st.text(min_size=1, max_size=8))
def test_any_typed_report_is_valid_against_the_schema_and_reads_back_as_written(
        results: list[PlatformResult], host: Host, policy: str, index: IndexReport | None,
        run: tuple[float, float] | None, run_id: str | None) -> None:
    data = build_report(results, host, policy, index, run, run_id).to_json()
    errors = [e.message for e in VALIDATOR.iter_errors(data)]
    assert errors == []
    assert Report.from_json(data).to_json() == data
