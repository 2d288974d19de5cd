"""The loader's search, followed on an image's files (harness.core.answers.linkage): known-good
trees start, known-bad ones name what is missing."""

from __future__ import annotations

import struct

from hypothesis import given, settings
from hypothesis import strategies as st

from harness.core.answers.elf import Dynamic
from harness.core.answers.linkage import (
    WORK_BUDGET,
    Binary,
    Exhausted,
    Tree,
    cache_paths,
    conf_dirs,
    is_dpkg_list,
    judge,
    unowned,
)
from harness.core.platforms.table import parse_platform
from tests.hostile_elf import finishes

AMD64 = parse_platform("linux/amd64")
LOADER = "/lib64/ld-linux-x86-64.so.2"


def lib(path: str, *needed: str, bits: int = 64, machine: int = 62, **dyn: tuple[str, ...]
        ) -> Binary:
    return Binary(path, bits, machine, False, program=False,
                  dynamic=Dynamic(tuple(needed), dyn.get("rpath", ()), dyn.get("runpath", ())))


def prog(path: str, *needed: str, interp: str = LOADER, **dyn: tuple[str, ...]) -> Binary:
    return Binary(path, 64, 62, False, program=True, interp=interp,
                  dynamic=Dynamic(tuple(needed), dyn.get("rpath", ()), dyn.get("runpath", ())))


def debian(*binaries: Binary) -> Tree:
    """A merged-/usr Debian amd64 tree: the loader through /lib64, libc in the multiarch
    directory, /lib a link to usr/lib."""
    tree = Tree()
    for d in ("/usr", "/usr/lib", "/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/bin",
              "/etc", "/opt", "/opt/app", "/opt/app/lib"):
        tree.paths.add(d)
    tree.links["/lib"] = "usr/lib"
    tree.links["/lib64"] = "usr/lib64"
    tree.links["/usr/lib64/ld-linux-x86-64.so.2"] = \
        "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
    tree.paths.update(tree.links)
    for b in (lib("/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"),
              lib("/usr/lib/x86_64-linux-gnu/libc.so.6", "ld-linux-x86-64.so.2"), *binaries):
        tree.binaries[b.path] = b
        tree.paths.add(b.path)
    return tree


def test_a_debian_tree_resolves_through_its_links() -> None:
    tree = debian()
    assert tree.resolve("/lib64/ld-linux-x86-64.so.2") == \
        "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
    assert tree.resolve("/lib/x86_64-linux-gnu/libc.so.6") == \
        "/usr/lib/x86_64-linux-gnu/libc.so.6"
    assert tree.resolve("/usr/lib/nothing.so") is None
    tree.links["/loop"] = "/loop"
    assert tree.resolve("/loop/x") is None  # a loop is not followed for ever


def test_a_program_with_its_libraries_starts() -> None:
    tree = debian(prog("/usr/bin/app", "libc.so.6"))
    result = judge(AMD64, tree)
    assert (result.programs, result.broken_count, result.broken) == (1, 0, [])


def test_a_program_without_its_library_cannot_start() -> None:
    """jq copied without libjq.so.1, as a COPY --from of one binary leaves it."""
    tree = debian(prog("/usr/bin/jq", "libjq.so.1", "libc.so.6"))
    result = judge(AMD64, tree)
    assert result.broken_count == 1
    assert result.broken == ["/usr/bin/jq: needs libjq.so.1, not found in the image"]


def test_a_program_without_its_interpreter_cannot_start() -> None:
    tree = Tree()
    tree.binaries["/app"] = prog("/app", "libc.so.6")
    tree.paths.add("/app")
    [why] = judge(AMD64, tree).broken
    assert why == f"/app: its program interpreter {LOADER} is not in the image"


def test_what_a_library_needs_is_needed_too() -> None:
    tree = debian(prog("/usr/bin/app", "libfoo.so.1", "libc.so.6"),
                  lib("/usr/lib/x86_64-linux-gnu/libfoo.so.1", "libbar.so.2", "libc.so.6"))
    [why] = judge(AMD64, tree).broken
    assert "libbar.so.2 (needed by /usr/lib/x86_64-linux-gnu/libfoo.so.1)" in why


def test_runpath_with_origin_and_rpath_are_searched() -> None:
    tree = debian(prog("/opt/app/bin", "libapp.so", "libc.so.6", runpath=("$ORIGIN/lib",)),
                  lib("/opt/app/lib/libapp.so", "libc.so.6"))
    tree.paths.add("/opt/app/bin")
    assert judge(AMD64, tree).broken == []
    tree.binaries["/opt/app/bin"] = prog("/opt/app/bin", "libapp.so", "libc.so.6",
                                         rpath=("/opt/app/lib",))
    assert judge(AMD64, tree).broken == []
    tree.binaries["/opt/app/bin"] = prog("/opt/app/bin", "libapp.so", "libc.so.6")
    assert judge(AMD64, tree).broken_count == 1  # nowhere on the default path


def test_ld_so_conf_and_its_includes_and_the_image_library_path() -> None:
    tree = debian(prog("/usr/bin/app", "libapp.so", "libc.so.6"),
                  lib("/opt/app/lib/libapp.so", "libc.so.6"))
    assert judge(AMD64, tree).broken_count == 1
    tree.config["/etc/ld.so.conf"] = b"include /etc/ld.so.conf.d/*.conf\n"
    tree.config["/etc/ld.so.conf.d/app.conf"] = b"# the app\n/opt/app/lib\n"
    assert conf_dirs(tree) == ["/opt/app/lib"]
    assert judge(AMD64, tree).broken == []
    tree.config.clear()
    tree.library_path = ("/opt/app/lib",)
    assert judge(AMD64, tree).broken == []


def test_ld_so_cache_paths_are_searched() -> None:
    strings = b"libapp.so\0/opt/app/lib/libapp.so\0"
    header = b"glibc-ld.so.cache1.1" + struct.pack("<II", 1, len(strings)) + bytes(20)
    entries_at = len(header)
    strings_at = entries_at + 24
    entry = struct.pack("<iIIIQ", 0x303, strings_at, strings_at + 10, 0, 0)
    cache = header + entry + strings
    assert cache_paths(cache) == ["/opt/app/lib/libapp.so"]
    tree = debian(prog("/usr/bin/app", "libapp.so", "libc.so.6"),
                  lib("/opt/app/lib/libapp.so", "libc.so.6"))
    tree.config["/etc/ld.so.cache"] = cache
    assert judge(AMD64, tree).broken == []


def test_a_library_of_another_class_is_skipped_as_the_loader_skips_it() -> None:
    tree = debian(prog("/usr/bin/app", "libold.so", "libc.so.6"),
                  lib("/usr/lib/libold.so", bits=32, machine=3))
    assert judge(AMD64, tree).broken_count == 1


def test_musl_searches_its_own_path() -> None:
    musl = "/lib/ld-musl-x86_64.so.1"
    tree = Tree(paths={"/lib", "/usr", "/usr/lib", "/opt", "/opt/lib", musl})
    tree.binaries[musl] = lib(musl)
    tree.binaries["/usr/lib/libz.so.1"] = lib("/usr/lib/libz.so.1")
    tree.binaries["/opt/lib/libapp.so"] = lib("/opt/lib/libapp.so")
    tree.binaries["/app"] = prog("/app", "libz.so.1", "libapp.so", interp=musl)
    tree.paths.update(tree.binaries)
    assert judge(AMD64, tree).broken == ["/app: needs libapp.so, not found in the image"]
    tree.config["/etc/ld-musl-x86_64.path"] = b"/lib:/usr/lib:/opt/lib\n"
    assert judge(AMD64, tree).broken == []


def test_a_library_with_unmet_needs_is_reported_not_failed() -> None:
    """A plugin loaded on demand by a program that brings what it needs."""
    tree = debian(lib("/usr/lib/x86_64-linux-gnu/plugin.so", "libextra.so.3"))
    result = judge(AMD64, tree)
    assert result.broken_count == 0 and result.libraries_unmet_count == 1
    assert result.libraries_unmet == ["/usr/lib/x86_64-linux-gnu/plugin.so: needs libextra.so.3"]


def test_foreign_files_and_allowed_places_are_not_judged() -> None:
    tree = debian(prog("/usr/local/bin/tool", "libnone.so"),
                  prog("/usr/lib/gcc-cross/x/cc1", "libnone.so"))
    assert judge(AMD64, tree, foreign=["/usr/local/bin/tool"]).broken_count == 0


def test_elf_files_no_package_lists_are_named_a_merged_usr_notwithstanding() -> None:
    tree = Tree(links={"/lib": "usr/lib"},
                paths={"/usr", "/usr/lib", "/usr/lib/x86_64-linux-gnu",
                       "/usr/lib/x86_64-linux-gnu/libc.so.6", "/usr/local", "/usr/local/bin",
                       "/usr/local/bin/app", "/usr/bin", "/usr/bin/bash"})
    for path in ("/usr/lib/x86_64-linux-gnu/libc.so.6", "/usr/local/bin/app",
                 "/usr/bin/bash"):
        tree.binaries[path] = Binary(path, 64, 62, False, program=path.endswith(("app", "sh")))
    lists = {"/var/lib/dpkg/info/libc6:amd64.list": b"/.\n/lib/x86_64-linux-gnu/libc.so.6\n",
             "/var/lib/dpkg/info/bash.list": b"/usr/bin/bash\n/usr/share/doc/bash\n"}
    assert unowned(tree, lists) == (["/usr/local/bin/app"], 1)
    assert unowned(tree, {}) is None  # no dpkg database: nothing is known of ownership
    assert is_dpkg_list("/var/lib/dpkg/info/libc6:amd64.list")
    assert not is_dpkg_list("/var/lib/dpkg/info/sub/x.list")
    assert not is_dpkg_list("/var/lib/dpkg/info/bash.md5sums")


# -- hostile trees: each costs a bounded time, and a budget spent is said ------------------

def test_a_self_referencing_link_named_by_a_huge_file_list_is_resolved_once() -> None:
    """A 2,000-part link into itself, named by every line of a 4 MiB dpkg list: 7 ms a
    line when each line followed it anew."""
    tree = debian(prog("/usr/bin/app", "libc.so.6"))
    tree.links["/l"] = "/".join(["l"] * 2000)
    tree.paths.add("/l")
    lines = b"".join(b"/l/file%d\n" % i for i in range(400_000))
    assert len(lines) > 4 << 20
    found = finishes(lambda: unowned(tree, {"/var/lib/dpkg/info/x.list": lines}), 10)
    assert found is not None and found[1] == 3  # no package owns the test's ELF files
    assert tree.resolve("/l/file1") is None and tree.work < WORK_BUDGET


def test_include_lines_by_the_megabyte_cost_a_bounded_time() -> None:
    tree = debian(prog("/usr/bin/app", "libapp.so", "libc.so.6"),
                  lib("/opt/app/lib/libapp.so", "libc.so.6"))
    tree.config["/etc/ld.so.conf"] = b"include /etc/ld.so.conf.d/*.conf\n" * 130_000
    for i in range(300):
        tree.config[f"/etc/ld.so.conf.d/{i:03}.conf"] = b"/opt/app/lib\n/opt/%d\n" % i
    assert finishes(lambda: conf_dirs(tree), 10)[:2] == ["/opt/app/lib", "/opt/0"]
    assert finishes(lambda: judge(AMD64, tree), 10).broken == []


def test_a_cache_entry_with_no_end_is_no_scan_of_the_whole_file() -> None:
    header = b"glibc-ld.so.cache1.1" + struct.pack("<II", 100_000, 0) + bytes(20)
    entries = struct.pack("<iII", 0x303, 0, len(header) + 100_000 * 24) * 100_000
    cache = header + entries + b"x" * (4 << 20) + b"\0"  # each a path of 4 MiB
    assert finishes(lambda: cache_paths(cache), 5) == []
    # Each the same path of 4,000 bytes: read until they are more than the file holds.
    cache = header + entries + b"/" + b"x" * 4000 + b"\0"
    assert len(finishes(lambda: cache_paths(cache), 5)) < len(cache) // 4000


def test_a_spent_budget_is_said_and_what_was_judged_stands() -> None:
    from harness.core.answers import observation as obs
    from harness.core.judging.verdicts import judge_source
    from harness.core.outcomes import Kind, RunKind
    from harness.machine.host import RunMode

    tree = debian(prog("/usr/bin/a", "libnothere.so"),
                  *(prog(f"/usr/bin/p{i}", "libc.so.6") for i in range(200)))
    whole = judge(AMD64, tree)
    assert (whole.broken_count, whole.exhausted) == (1, [])
    tree = debian(prog("/usr/bin/a", "libnothere.so"),
                  *(prog(f"/usr/bin/p{i}", "libc.so.6") for i in range(200)))
    tree.budget = whole.programs * 5  # the first programs only
    cut = judge(AMD64, tree)
    assert cut.broken_count == 1 and cut.programs < whole.programs
    assert cut.exhausted == [f"more than {tree.budget:,} steps of path resolution"]
    findings = judge_source(AMD64, obs.linkage(cut), "amd64", RunMode(RunKind.NATIVE), frozenset())
    assert [f.kind for f in findings] == [Kind.BROKEN, Kind.ERROR]
    assert "stopped at its budget" in findings[1].message
    assert unowned(tree, {"/var/lib/dpkg/info/x.list": b"/usr/bin/a\n"}) is None


def test_a_cut_loader_configuration_is_not_judged_on() -> None:
    """Where the probe could not read the loader's files whole, no program is called
    broken for a library those files might have named."""
    tree = debian(prog("/usr/bin/app", "libapp.so", "libc.so.6"))
    tree.exhausted.append("the loader's files are more than the 16 MiB read of one image")
    got = judge(AMD64, tree)
    assert (got.broken_count, got.exhausted) == (0, tree.exhausted)


def test_a_link_through_proc_1_root_is_a_link_into_the_image_s_own_root() -> None:
    """In the running container /proc/1/root (and /proc/self/root) is its own root: a
    library linked through it is there."""
    tree = debian(prog("/usr/bin/app", "libapp.so.1", "libc.so.6"),
                  lib("/opt/app/lib/libapp.so.1.2", "libc.so.6"))
    tree.links["/usr/lib/x86_64-linux-gnu/libapp.so.1"] = "/proc/1/root/opt/app/lib/libapp.so.1.2"
    tree.links["/usr/lib/libself.so"] = "/proc/self/root/opt/app/lib/libapp.so.1.2"
    tree.paths.update(tree.links)
    assert tree.resolve("/usr/lib/libself.so") == "/opt/app/lib/libapp.so.1.2"
    assert judge(AMD64, tree).broken == []
    tree.links["/usr/lib/libother.so"] = "/proc/2/root/opt/app/lib/libapp.so.1.2"
    assert tree.resolve("/usr/lib/libother.so") is None  # no process 2 to be sure of
    tree.links["/usr/lib/libup.so"] = "/proc/1/root/../opt/app/lib/libapp.so.1.2"
    assert tree.resolve("/usr/lib/libup.so") == "/opt/app/lib/libapp.so.1.2"  # / has no up


# -- fuzzed: any tree, configuration, cache and list is judged in bounded work -------------

NAMES = st.sampled_from(["a", "b", "lib", "..", ".", "", "proc", "self", "1", "root",
                         "libc.so.6"])
PATHS = st.lists(NAMES, max_size=8).map(lambda parts: "/" + "/".join(parts))
TARGETS = st.lists(NAMES, max_size=12).map("/".join) | PATHS


@st.composite
def trees(draw: st.DrawFn) -> Tree:
    tree = debian(prog("/usr/bin/app", "libc.so.6", "lib", runpath=("$ORIGIN/..",)))
    tree.links.update(draw(st.dictionaries(PATHS, TARGETS, max_size=12)))
    tree.paths.update(draw(st.sets(PATHS, max_size=12)) | set(tree.links))
    tree.config["/etc/ld.so.conf"] = draw(st.binary(max_size=200)) + b"\ninclude *\n"
    tree.config["/etc/ld.so.conf.d/x.conf"] = draw(st.binary(max_size=100))
    tree.budget = 50_000
    return tree


FUZZ = settings(max_examples=150, deadline=2000, database=None)


@FUZZ
@given(trees(), st.lists(PATHS, max_size=10), st.binary(max_size=300))
def test_any_tree_is_resolved_and_judged_in_bounded_work(tree: Tree, asked: list[str],
                                                         listed: bytes) -> None:
    def everything() -> None:
        for path in asked:
            try:
                found = tree.resolve(path)
            except Exhausted:
                break
            assert found is None or found.startswith("/")
        got = judge(AMD64, tree)
        assert got.exhausted or got.programs == 1
        unowned(tree, {"/var/lib/dpkg/info/x.list": listed + b"\n/usr/bin/app\n"})

    finishes(everything)
    assert tree.work <= tree.budget + 100 or tree.exhausted


@FUZZ
@given(st.binary(max_size=600), st.integers(min_value=0, max_value=2**32 - 1))
def test_any_cache_is_read_to_a_list_of_paths(body: bytes, nlibs: int) -> None:
    cache = b"glibc-ld.so.cache1.1" + struct.pack("<I", nlibs) + body
    found = finishes(lambda: cache_paths(cache))
    assert all(isinstance(p, str) for p in found)
    assert sum(len(p) for p in found) <= len(cache)
