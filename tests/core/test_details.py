"""Each source's typed detail (harness.core.answers.details): written into report.json's
``detail`` as the constructors wrote it before (keys, order, values), and read back from it
whole, whatever a report handed in holds there."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from harness.core.answers import details as d
from harness.core.answers import observation as obs
from harness.core.answers.audit import Audit
from harness.core.answers.isa import Isa
from harness.core.answers.linkage import Linkage
from harness.core.answers.origins import Step
from harness.core.declared import sameness
from harness.core.declared.usercheck import DeclaredCheck
from harness.core.platforms.table import parse_platform

_text = st.text(max_size=20)
_texts = st.lists(_text, max_size=4).map(tuple)
_count = st.integers(min_value=0, max_value=10**6)


def _written(detail: dict[str, Any]) -> str:
    return json.dumps(detail)  # as report.json writes it: order and all


def test_the_audit_detail_is_written_as_before() -> None:
    seen = obs.elf_audit("linux/amd64", Audit(files=3, allowed=1, count=0), 1.234)
    assert _written(seen.detail) == (
        '{"files": 3, "count": 0, "allowed": 1, "seconds": 1.23, "foreign": [], '
        '"malformed": [], "malformed_count": 0, "internal": [], "internal_count": 0}')


def test_the_linkage_detail_is_written_as_before() -> None:
    seen = obs.linkage(Linkage(programs=2, broken=["/bin/x: libfoo.so"], broken_count=1,
                               libraries_unmet=["/lib/y: needs z"], libraries_unmet_count=1,
                               unreadable=0, exhausted=["budget"]))
    assert _written(seen.detail) == (
        '{"programs": 2, "count": 1, "broken": ["/bin/x: libfoo.so"], '
        '"libraries_unmet_count": 1, "libraries_unmet": ["/lib/y: needs z"], '
        '"unreadable": 0, "exhausted": ["budget"]}')


def test_the_isa_detail_is_written_as_before() -> None:
    seen = obs.isa(Isa(files=2, count=1, needs=["/bin/x: v3"], libraries=[],
                       seen={"v7": 2}))
    assert _written(seen.detail) == (
        '{"files": 2, "count": 1, "needs": ["/bin/x: v3"], "libraries": [], '
        '"seen": {"v7": 2}}')


def test_the_baseline_detail_is_written_as_before() -> None:
    seen = obs.baseline_cpu("pentium2", "a Pentium II", [("uname -m", 0, False),
                                                         ("sh -c x", 132, True)], "i686")
    assert _written(seen.detail) == (
        '{"cpu": "pentium2", "about": "a Pentium II", "uname": "i686", "ran": '
        '[{"command": "uname -m", "status": 0, "illegal": false}, {"command": "sh -c x", '
        '"status": 132, "illegal": true}], "illegal": ["sh -c x"]}')


def test_the_packages_detail_is_written_as_before() -> None:
    seen = obs.packages("apk", "musl-1.2.4-r2 x86_64 {musl} (MIT) [installed]\n")
    assert list(seen.detail) == ["manager", "packages", "architectures", "manual"]
    assert seen.detail["manual"] is None and seen.detail["manager"] == "apk"


def test_a_declared_check_detail_is_written_as_before() -> None:
    check = DeclaredCheck("arch", ["uname", "-m"], expect="{uname}", same=True)
    seen = obs.declared(check, "x86_64\n", parse_platform("linux/amd64"))
    answer = sameness.Answer.of("x86_64\n", parse_platform("linux/amd64"))
    assert seen.detail == {"command": check.shown, "expect": "{uname}",
                           "same": {"digest": answer.digest, "shown": answer.shown}}
    assert list(seen.detail) == ["command", "expect", "same"]
    read = d.DeclaredDetail.of(seen.detail)
    assert read.same == answer and read.compared and read.command == check.shown


def test_the_not_applicable_reason_reads_back() -> None:
    [seen] = [o for o in obs.not_applicable(parse_platform("linux/s390x"))
              if o.source == "isa"]
    assert d.NotApplicable.of(seen.detail).reason.startswith("not applicable to linux/s390x")


@given(st.builds(d.AuditDetail, _count, _count, _count,
                 st.floats(0, 10**4).map(lambda s: round(s, 2)), _texts, _texts, _count,
                 _texts, _count))
def test_an_audit_detail_reads_back_whole(record: d.AuditDetail) -> None:
    assert d.AuditDetail.of(record.to_json()) == record


@given(st.builds(d.LinkageDetail, _count, _count, _texts, _count, _texts, _count, _texts))
def test_a_linkage_detail_reads_back_whole(record: d.LinkageDetail) -> None:
    assert d.LinkageDetail.of(record.to_json()) == record


@given(st.builds(d.IsaDetail, _count, _count, _texts, _texts,
                 st.dictionaries(_text, _count, max_size=3)))
def test_an_isa_detail_reads_back_whole(record: d.IsaDetail) -> None:
    assert d.IsaDetail.of(record.to_json()) == record


@given(st.builds(d.BaselineDetail, _text, _text, st.none() | _text,
                 st.lists(st.builds(d.Ran, _text, st.integers(-1, 255), st.booleans()),
                          max_size=3).map(tuple), _texts))
def test_a_baseline_detail_reads_back_whole(record: d.BaselineDetail) -> None:
    assert d.BaselineDetail.of(record.to_json()) == record


@given(st.builds(d.PackagesDetail, _text, st.dictionaries(_text, _text, max_size=3),
                 st.dictionaries(_text, _text, max_size=3), st.none() | _texts))
def test_a_packages_detail_reads_back_whole(record: d.PackagesDetail) -> None:
    assert d.PackagesDetail.of(record.to_json()) == record


def test_what_the_engine_side_adds_reads_back() -> None:
    detail = obs.elf_audit("linux/amd64", Audit(files=1), 0.5).detail
    step = Step("/bin/x", "sha256:" + "a" * 64, "COPY x /bin/x", 3, "Dockerfile")
    detail["unowned"], detail["unowned_count"] = ["/bin/x"], 4
    detail["steps"] = [step.to_dict()]
    read = d.AuditDetail.of(detail)
    assert read.unowned == ("/bin/x",) and read.unowned_count == 4 and read.steps == (step,)
    assert d.AuditDetail.of({"unowned_error": "budget"}).unowned is None


@given(st.dictionaries(st.sampled_from(["files", "count", "foreign", "steps", "unowned",
                                        "seconds", "ran", "same", "packages", "seen",
                                        "manual", "illegal", "cpu", "uname"]),
                       st.none() | st.integers() | _text | st.lists(_text, max_size=2)
                       | st.dictionaries(_text, _text, max_size=2), max_size=6))
def test_any_detail_a_report_holds_reads_back_without_raising(detail: dict[str, Any]) -> None:
    for record in (d.AuditDetail, d.LinkageDetail, d.IsaDetail, d.BaselineDetail,
                   d.PackagesDetail, d.DeclaredDetail, d.NotApplicable):
        record.of(detail)


def test_the_native_modules_detail_is_written_as_before_and_reads_back_whole() -> None:
    from harness.core.answers import module_notes
    from harness.core.answers.extensions import Module
    from harness.core.answers.module_loaders import Load
    later = module_notes.Outcome(Module("/v/_s.so", "s._s", "/v", "/v/python", "s", "1"),
                                 Load("ok"), Load("illegal", "SIGILL"), "linux/amd64/v3")
    record = module_notes.detail([later], "qemu64", 1, 0.123, ["skip\x1bme"])
    written = record.to_json()
    assert list(written) == ["count", "loaded", "interpreters", "cpu", "seconds",
                             "cannot_load", "cannot_load_count", "needs_later",
                             "needs_later_count", "warnings", "warnings_count", "slow",
                             "slow_count", "raised_then_illegal", "skipped"]
    assert written["seconds"] == 0.12 and written["needs_later"] == [later.to_dict()]
    assert "\x1b" not in written["skipped"][0]
    assert module_notes.NativeModules.of(written) == module_notes.NativeModules(
        **{**record.__dict__, "seconds": 0.12})
    assert module_notes.NativeModules.off(7).to_json() == {"mode": "off", "count": 7}


def test_a_span_stamped_into_a_detail_keeps_the_sources_keys_first_and_reads_back() -> None:
    detail = obs.elf_audit("linux/amd64", Audit(files=1), 0.5).detail
    d.Timing(0.5, 1700000000.25, "kept").stamp(detail)
    assert list(detail)[3] == "seconds" and list(detail)[-2:] == ["started", "read"]
    assert d.Timing.of(detail) == d.Timing(0.5, 1700000000.25, "kept")
    assert d.Timing.of({}) == d.Timing()


def test_the_files_each_source_names_are_its_listed_findings() -> None:
    audit = d.AuditDetail(count=1, foreign=("/bin/x: ELF 64-bit ARM",),
                          malformed=("/bin/y: cut",), malformed_count=1).to_json()
    assert d.files_named("elf-audit", audit) == ("/bin/x: ELF 64-bit ARM",)
    assert d.files_named("linkage", d.LinkageDetail(broken=("/bin/z: libq",)).to_json()) == \
        ("/bin/z: libq",)
    assert d.files_named("isa", d.IsaDetail(needs=("/bin/v: v3",)).to_json()) == ("/bin/v: v3",)
    assert d.files_named("packages", audit) == ()
