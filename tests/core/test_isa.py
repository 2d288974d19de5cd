"""The CPU level a file needs against its platform's variant (harness.core.answers.isa)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.core.answers.elf import TAG_CPU_ARCH, _aeabi
from harness.core.answers.isa import ALLOWED, X86_ALLOWED, X86_NEEDED, Isa, judge_file
from harness.core.platforms.table import parse_platform

V5, V6, V7 = (parse_platform(f"linux/arm/v{n}") for n in (5, 6, 7))


def test_each_variant_takes_what_its_cpus_execute() -> None:
    assert judge_file(V6, {TAG_CPU_ARCH: 7}) is None  # ARMv6KZ: the ARM1176 itself
    assert judge_file(V6, {TAG_CPU_ARCH: 10}) == \
        "built for ARMv7, more than linux/arm/v6 offers (ARMv6KZ (ARM1176))"
    assert judge_file(V6, {TAG_CPU_ARCH: 8}) is not None  # v6T2: Thumb-2, not on ARM1176
    assert judge_file(V7, {TAG_CPU_ARCH: 10}) is None
    assert judge_file(V7, {TAG_CPU_ARCH: 14}) is not None  # ARMv8-A
    assert judge_file(V5, {TAG_CPU_ARCH: 6}) is not None
    assert judge_file(V7, {}) is None  # no attribute: nothing to judge
    assert judge_file(parse_platform("linux/arm64"), {TAG_CPU_ARCH: 14}) is None


def test_programs_are_judged_and_libraries_listed() -> None:
    """Debian armhf's libgcrypt says ARMv8-A for code it runs only after asking the CPU."""
    seen = Isa()
    seen.add(V7, "/usr/lib/arm-linux-gnueabihf/libgcrypt.so.20", {TAG_CPU_ARCH: 14},
             program=False)
    seen.add(V7, "/usr/bin/app", {TAG_CPU_ARCH: 10}, program=True)
    assert (seen.count, seen.needs) == (0, [])
    assert seen.libraries == ["/usr/lib/arm-linux-gnueabihf/libgcrypt.so.20: built for "
                              "ARMv8-A, more than linux/arm/v7 offers (ARMv7-A)"]
    seen.add(V7, "/usr/local/bin/fast", {TAG_CPU_ARCH: 14}, program=True)
    assert seen.count == 1 and seen.seen == {"ARMv8-A": 2, "ARMv7": 1}


def test_the_aeabi_subsection_is_read_past_string_attributes() -> None:
    """`readelf -A` of an armhf program: CPU_name "7-A" (a string) before Tag_CPU_arch."""
    attrs = b"\x05" + b"7-A\0" + b"\x06\x0a" + b"\x07\x41" + b"\x0a\x03" + b"\x0c\x01"
    sub = b"\x01" + (5 + len(attrs)).to_bytes(4, "little") + attrs
    vendor = b"aeabi\0" + sub
    section = b"A" + (4 + len(vendor)).to_bytes(4, "little") + vendor
    assert _aeabi(section, "<") == {6: 10, 7: 0x41, 10: 3, 12: 1}


def test_plain_amd64_promises_the_x86_64_baseline() -> None:
    from harness.core.answers.isa import X86_NEEDED

    amd64 = parse_platform("linux/amd64")
    assert judge_file(amd64, {X86_NEEDED: 1}) is None
    assert judge_file(amd64, {X86_NEEDED: 1 | 4}) == \
        "built for x86-64-v3, more than linux/amd64 offers (x86-64-baseline)"
    seen = Isa()
    seen.add(amd64, "/usr/lib/x86_64-linux-gnu/glibc-hwcaps/x86-64-v3/libfoo.so",
             {X86_NEEDED: 5}, program=False)  # glibc's hwcaps libraries: chosen at run time
    assert seen.count == 0 and seen.seen == {"x86-64-v3": 1}



@pytest.mark.parametrize(("platform", "passes", "fails", "offers"), [
    ("linux/amd64/v2", 1 | 2, (1 | 4, "x86-64-v3"), "x86-64-v2"),
    ("linux/amd64/v3", 1 | 2 | 4, (8, "x86-64-v4"), "x86-64-v3"),
    ("linux/amd64/v4", 1 | 2 | 4 | 8, None, "x86-64-v4"),
])
def test_each_amd64_variant_offers_its_level_and_those_below(
        platform: str, passes: int, fails: tuple[int, str] | None, offers: str) -> None:
    from harness.core.answers.isa import X86_NEEDED
    row = parse_platform(platform)
    assert judge_file(row, {X86_NEEDED: passes}) is None
    if fails is not None:
        mask, needed = fails
        assert judge_file(row, {X86_NEEDED: mask}) == \
            f"built for {needed}, more than {platform} offers ({offers})"


def test_amd64_v1_is_plain_amd64_as_containerd_normalises_it() -> None:
    assert parse_platform("linux/amd64/v1").name == "linux/amd64"
    assert parse_platform("linux/amd64/v3").name == "linux/amd64/v3"


@settings(max_examples=200, deadline=2000, database=None)
@given(st.sampled_from(sorted({*ALLOWED, *X86_ALLOWED, "linux/arm64"})),
       st.dictionaries(st.sampled_from([TAG_CPU_ARCH, 10, 12, 67, X86_NEEDED]),
                       st.integers(min_value=0, max_value=2**70), max_size=4),
       st.booleans(), st.binary(max_size=200))
def test_any_attributes_are_judged_without_error(name: str, attributes: dict[int, int],
                                                 program: bool, section: bytes) -> None:
    """What any file's attributes say (parsed from any bytes, or any numbers: a ULEB128 is
    of any size) is judged, and listed within its bounds."""
    platform = parse_platform(name)
    seen = Isa()
    for found in (attributes, _aeabi(b"A" + section, "<")):
        why = judge_file(platform, found)
        assert why is None or platform.name in why
        seen.add(platform, "/x", found, program)
    assert seen.files == 2 and len(seen.needs) <= seen.count <= 2
