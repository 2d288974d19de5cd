"""Platforms compared with each other: the package databases side by side."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from harness.core.answers import observation as obs
from harness.core.answers.parity import architectures, compare, lines, manual, parse, summary
from harness.core.reporting.render import render_console, render_markdown
from harness.core.reporting.report import build_report
from tests.factories import HOST, result

DPKG = "libc6\t2.36-9+deb12u9\nrustc\t1.63.0+dfsg1-2\nzlib1g\t1:1.2.13.dfsg-1\n"


def test_a_platform_shipping_another_release_is_named() -> None:
    """dolthub/doltgresql#3034: one platform shipped last release's binary."""
    packages = {"linux/amd64": parse("dpkg", DPKG),
                "linux/arm64": parse("dpkg", DPKG.replace("1.63.0+dfsg1-2", "1.62.1+dfsg1-1"))}
    found = compare(packages)
    assert found is not None and found["versions_count"] == 1
    assert lines(found) == ["rustc: linux/amd64 1.63.0+dfsg1-2, linux/arm64 1.62.1+dfsg1-1"]
    assert summary(found).startswith("1 packages differ in version")


def test_binnmus_and_arch_qualifiers_are_no_difference_and_missing_ones_are() -> None:
    amd = parse("dpkg", DPKG + "libgcc-s1:amd64\t12.2.0-14\n")
    arm = parse("dpkg", DPKG.replace("2.36-9+deb12u9", "2.36-9+deb12u9+b1")
                + "libgcc-s1\t12.2.0-14\nlibatomic1\t12.2.0-14\n")
    found = compare({"linux/amd64": amd, "linux/arm/v7": arm})
    assert found is not None and found["versions_count"] == 0
    assert found["missing"] == [{"package": "libatomic1", "on": ["linux/arm/v7"]}]
    assert compare({"linux/amd64": amd}) is None  # nothing to compare with


def test_apk_and_rpm_listings_are_read() -> None:
    assert parse("apk", "musl-1.2.4-r2\nca-certificates-bundle-20230506-r0\n") == {
        "musl": "1.2.4-r2", "ca-certificates-bundle": "20230506-r0"}
    assert parse("rpm", "bash\t5.2.15-3.fc38\n") == {"bash": "5.2.15-3.fc38"}


def test_every_report_has_the_parity_section_as_a_warning() -> None:
    amd, arm = result("linux/amd64", "pass"), result("linux/arm64", "pass")
    amd.observations.append(obs.packages("dpkg", DPKG))
    arm.observations.append(obs.packages("dpkg", DPKG.replace("2.36-9", "2.35-1")))
    report = build_report([amd, arm], HOST, "warn")
    assert report.verdict == "pass" and report.exit_status == 0  # a warning only
    assert report.to_json()["parity"]["versions"][0]["package"] == "libc6"
    assert "#### Parity across platforms" in render_markdown(report)
    assert any(line.startswith("parity (warning): 1 packages differ")
               for line in render_console(report))


def test_the_listing_as_probed_now_names_each_package_architecture_apart_from_its_version() -> None:
    listed = "libc6\t2.36-9+deb12u9\tarmhf\nca-certificates\t20230311\tall\nold\t1.0\n"
    assert parse("dpkg", listed) == {"libc6": "2.36-9+deb12u9", "ca-certificates": "20230311",
                                     "old": "1.0"}
    assert architectures("dpkg", listed) == {"libc6": "armhf", "ca-certificates": "all"}
    assert architectures("apk", "musl-1.2.4-r2\n") == {}


# -- what the user asked for: the packages installed by hand ------------------------------

# The flagship's userland, as bookworm's gcc, rustc and cargo pull it in on each platform:
# the same packages asked for everywhere, and the distribution's own per-architecture
# dependencies (binutils named by target triple, sanitizer libraries of some architectures).
BY_HAND = ("base-files", "bash", "coreutils", "dpkg", "apt", "ca-certificates", "git", "gcc",
           "libc6-dev", "pkg-config", "make", "rustc", "cargo")
PULLED_IN = ("binutils", "cpp-12", "gcc-12", "libc6", "libgcc-12-dev", "libstd-rust-1.63",
             "libgit2-1.5", "libcurl3-gnutls", "libgomp1", "libatomic1")
PER_ARCH = {
    "linux/amd64": ("amd64", ("binutils-x86-64-linux-gnu", "libasan8", "liblsan0", "libtsan2",
                              "libubsan1", "libquadmath0", "libitm1")),
    "linux/386": ("i386", ("binutils-i686-linux-gnu", "libasan8", "libubsan1", "libquadmath0",
                           "libitm1")),
    "linux/arm64": ("arm64", ("binutils-aarch64-linux-gnu", "libasan8", "liblsan0", "libtsan2",
                              "libubsan1", "libhwasan0", "libitm1")),
    "linux/arm/v7": ("armhf", ("binutils-arm-linux-gnueabihf", "libubsan1")),
}


def listing(arch: str, names: tuple[str, ...]) -> str:
    """``dpkg-query -W`` as the probe asks it: name, version and architecture."""
    return "".join(f"{n}\t1.0-{len(n)}\t{arch}\n" for n in names)


def extended_states(arch: str, auto: tuple[str, ...]) -> str:
    """apt's /var/lib/apt/extended_states: the packages it installed as dependencies."""
    return "".join(f"Package: {n}\nArchitecture: {arch}\nAuto-Installed: 1\n\n" for n in auto)


def flagship(extra: dict[str, tuple[str, ...]] | None = None,
             unmarked: tuple[str, ...] = ()) -> dict[str, object]:
    """The flagship's report; ``extra``: packages installed by hand on some platforms;
    ``unmarked``: platforms whose image has no manual marks (apt never ran there)."""
    results = []
    for platform, (arch, own) in PER_ARCH.items():
        auto = PULLED_IN + own
        names = BY_HAND + (extra or {}).get(platform, ()) + auto
        marks = None if platform in unmarked else extended_states(arch, auto)
        r = result(platform, "quirk" if platform == "linux/386" else "pass")
        r.observations.append(obs.packages("dpkg", listing(arch, names), marks))
        results.append(r)
    return build_report(results, HOST, "warn")


def test_the_distributions_per_architecture_packages_are_detail_not_a_difference() -> None:
    """The flagship's parity warning listed 10 packages none of which the user asked for:
    cross binutils by target triple, sanitizer libraries of some architectures only."""
    report = flagship()
    found = report.to_json()["parity"]
    assert [p.verdict for p in report.platforms] == ["quirk", "pass", "pass", "pass"]
    assert found["missing_count"] == 0 and found["versions_count"] == 0
    assert summary(found).startswith("no difference")
    assert lines(found) == []
    assert not any(line.startswith("parity") for line in render_console(report))
    # Kept in the detail, each with the platforms that have it.
    deps = {d["package"]: d["on"] for d in found["dependencies"]}
    assert found["dependencies_count"] == len(deps) == 10
    assert deps["binutils-aarch64-linux-gnu"] == ["linux/arm64"]
    assert deps["libhwasan0"] == ["linux/arm64"]
    assert deps["libasan8"] == ["linux/386", "linux/amd64", "linux/arm64"]  # not on arm/v7
    assert found["manual_count"] == len(BY_HAND) and found["unmarked"] == []
    markdown = render_markdown(report)
    assert "no difference" in markdown and "binutils-aarch64-linux-gnu" in markdown


def test_a_package_installed_by_hand_on_one_platform_only_warns() -> None:
    report = flagship({"linux/amd64": ("valgrind",)})
    found = report.to_json()["parity"]
    assert found["missing_count"] == 1 and found["dependencies_count"] == 10
    assert lines(found) == ["valgrind: only on linux/amd64"]
    assert summary(found).startswith("0 packages differ in version and 1 installed by hand "
                                     "is not on every platform")
    assert any(line.startswith("parity (warning): 0 packages differ")
               for line in render_console(report))
    assert report.exit_status == 0  # a warning, never a verdict


def test_a_package_asked_for_on_one_platform_and_pulled_in_on_another_still_counts() -> None:
    """Missing somewhere and installed by hand somewhere else: the user asked for it."""
    amd = obs.packages("dpkg", listing("amd64", ("bash", "libfoo1")), extended_states("amd64", ()))
    arm = obs.packages("dpkg", listing("arm64", ("bash",)), extended_states("arm64", ()))
    i386 = obs.packages("dpkg", listing("i386", ("bash", "libfoo1")),
                        extended_states("i386", ("libfoo1",)))
    found = compare({p: o.detail["packages"] for p, o in
                     (("linux/amd64", amd), ("linux/arm64", arm), ("linux/386", i386))},
                    {p: o.detail["manual"] for p, o in
                     (("linux/amd64", amd), ("linux/arm64", arm), ("linux/386", i386))})
    assert found is not None
    assert found["missing"] == [{"package": "libfoo1", "on": ["linux/386", "linux/amd64"]}]


def test_without_manual_marks_everything_is_compared_and_the_summary_says_so() -> None:
    """An image where apt never ran (debootstrap, dpkg -i) has no extended_states."""
    report = flagship(unmarked=("linux/amd64",))
    found = report.to_json()["parity"]
    assert found["unmarked"] == ["linux/amd64"]
    # amd64's own packages count: nothing says they were not asked for there.
    assert {m["package"] for m in found["missing"]} == {
        "binutils-x86-64-linux-gnu", "liblsan0", "libtsan2", "libquadmath0", "libitm1",
        "libasan8"}
    assert "compared in full on linux/amd64" in summary(found)
    none_marked = compare({"linux/amd64": parse("dpkg", DPKG), "linux/arm64": {}})
    assert none_marked is not None and none_marked["unmarked"] == ["linux/amd64", "linux/arm64"]


def test_apk_world_and_apt_marks_are_read() -> None:
    world = "busybox\nalpine-baselayout>=3.4\nmyapp@testing\nmusl=1.2.4-r2\n!bad\n" \
            "so:libc.musl-x86_64.so.1\n"
    listed = "busybox-1.36.1-r5\nalpine-baselayout-3.4.3-r1\nmyapp-2.0-r0\nmusl-1.2.4-r2\n" \
             "libcrypto3-3.1.4-r1\n"
    seen = obs.packages("apk", listed, world)
    assert seen.detail["manual"] == ["alpine-baselayout", "busybox", "musl", "myapp"]
    assert obs.packages("apk", listed).detail["manual"] is None  # no world file: no marks
    apt = obs.packages("dpkg", listing("amd64", ("bash", "libc6", "zlib1g")),
                       "Package: libc6\nArchitecture: amd64\nAuto-Installed: 1\n\n"
                       "Package: zlib1g\nArchitecture: amd64\nAuto-Installed: 0\n")
    assert apt.detail["manual"] == ["bash", "zlib1g"]  # Auto-Installed: 0 is by hand
    assert obs.packages("rpm", "bash\t5.2.15-3.fc38\tx86_64\n").detail["manual"] is None


@given(st.dictionaries(st.sampled_from(sorted(PER_ARCH)),
                       st.sets(st.sampled_from(("libasan8", "libtsan2", "libhwasan0", "x",
                                                "binutils-riscv64-linux-gnu"))), min_size=2))
def test_packages_pulled_in_on_some_platforms_only_never_warn(
        pulled: dict[str, set[str]]) -> None:
    """Whatever dependencies each platform pulls in, the summary's counts stay those of the
    packages asked for (here: the same on every platform)."""
    found = compare({p: {n: "1" for n in ("bash", *sorted(deps))} for p, deps in pulled.items()},
                    {p: ["bash"] for p in pulled})
    assert found is not None and found["missing_count"] == 0
    assert summary(found).startswith("no difference")
    assert found["dependencies_count"] == len(
        {n for deps in pulled.values() for n in deps} - set.intersection(*pulled.values()))


def test_dnf_history_rows_resolve_as_dnf_does() -> None:
    """rpm's marks, from dnf 4's history rows (name, arch, transaction, item, action, reason,
    the transaction's state; tests/containers/test_dnf_history.py reads a real one): the
    latest finished item decides, the outgoing half of an upgrade says nothing, and a
    package asked for under one architecture counts whatever its other one."""
    rows = "\n".join("\t".join(map(str, r)) for r in (
        ("lib", "x86_64", 1, 1, 1, 1, 1),  # installed as a dependency
        ("lib", "x86_64", 2, 2, 6, 1, 1), ("lib", "x86_64", 2, 3, 7, 2, 1),  # upgraded
        ("tool", "x86_64", 3, 4, 1, 2, 2),  # by hand, in a transaction that failed
        ("tool", "x86_64", 1, 5, 1, 1, 1),
        ("multi", "i686", 1, 6, 1, 1, 1), ("multi", "x86_64", 1, 7, 1, 2, 1),
        ("gone", "x86_64", 1, 8, 1, 1, 1), ("gone", "x86_64", 4, 9, 8, 1, 1),  # removed
        ("weak", "noarch", 1, 10, 1, 4, 1), ("grouped", "noarch", 1, 11, 1, 5, 1),
        ("synced", "noarch", 1, 12, 1, 0, 1),  # reason unknown: dnf counts it as by hand
        ("short\tline",)))
    listed = {n: "1" for n in ("lib", "tool", "multi", "gone", "weak", "grouped", "synced",
                               "rpm")}
    # gone: reinstalled by rpm after dnf removed it, so nothing says it was pulled in.
    assert manual("rpm", listed, rows) == ["gone", "multi", "rpm", "synced"]
    assert manual("rpm", listed, None) is None and manual("rpm", listed, "") == sorted(listed)
