"""Reading a container's root in place: every entry once, no symlink followed, nothing past
the root's own filesystem, the same entries as the engine's export gives."""

from __future__ import annotations

import functools
import io
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from harness.containers import filesystem


@pytest.fixture
def root(tmp_path: Path) -> Path:
    r = tmp_path / "root"
    (r / "usr" / "bin").mkdir(parents=True)
    (r / "usr" / "bin" / "app").write_bytes(b"\x7fELF" + b"\0" * 100)
    os.link(r / "usr" / "bin" / "app", r / "usr" / "bin" / "app-again")
    (r / "bin").symlink_to("usr/bin")  # a symlink to a directory: listed, not walked
    (r / "etc").mkdir()
    (r / "etc" / "passwd").symlink_to("/etc/shadow")  # absolute: the host's, never read
    os.mkfifo(r / "etc" / "fifo")  # opening it would block
    (r / "tmp" / "harness-hello").mkdir(parents=True)
    (r / "tmp" / "harness-hello" / "main").write_bytes(b"x" * 100)
    return r


def entries(root: Path) -> dict[str, tuple[str, str, int, bytes]]:
    found = {}
    for e in filesystem.from_root(str(root), "/tmp/harness-hello"):
        data = e.fh.read(8) if e.fh is not None else b""
        found[e.path] = (e.kind, e.link, e.size, data)
    return found


def test_every_entry_once_and_no_symlink_followed(root: Path) -> None:
    found = entries(root)
    assert found["/usr/bin/app"][0] == "file" and found["/usr/bin/app"][3] == b"\x7fELF\0\0\0\0"
    kinds = {path: kind for path, (kind, *_rest) in found.items()}
    # a hard link is a file once and a link to that path after (as tar writes them)
    assert sorted((kinds["/usr/bin/app"], kinds["/usr/bin/app-again"])) == ["file", "hardlink"]
    assert found["/bin"][:2] == ("symlink", "usr/bin")
    assert found["/etc/passwd"][:2] == ("symlink", "/etc/shadow")
    assert kinds["/etc/fifo"] == "other"
    assert "/bin/app" not in found  # not walked through the link
    assert "/tmp/harness-hello/main" not in found and "/tmp/harness-hello" not in found


def test_a_root_given_as_a_link_is_walked_as_proc_pid_root_is(root: Path,
                                                               tmp_path: Path) -> None:
    link = tmp_path / "root-link"  # /proc/PID/root is a link to the container's root
    link.symlink_to(root)
    assert entries(link) == entries(root)
    assert "/usr/bin/app" in entries(link)


def test_nothing_past_the_roots_own_filesystem(root: Path) -> None:
    mounted = root / "proc"
    mounted.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", str(mounted)], check=True)
    try:
        (mounted / "inside").write_bytes(b"\x7fELF" + b"\0" * 100)
        found = entries(root)
    finally:
        subprocess.run(["umount", str(mounted)], check=True)
    assert "/proc/inside" not in found and "/usr/bin/app" in found


def test_the_export_gives_the_same_entries(root: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path in sorted(root.rglob("*")):
            name = str(path.relative_to(root))
            if not name.startswith("tmp/harness-hello") and not path.is_fifo():
                tar.add(path, arcname=name, recursive=False)
    buffer.seek(0)
    with tarfile.open(fileobj=buffer, mode="r") as tar:
        exported = {e.path: (e.kind, e.link, e.size) for e in filesystem.from_export(tar)}
    walked = {p: v[:3] for p, v in entries(root).items() if p != "/etc/fifo"}
    pair = ("/usr/bin/app", "/usr/bin/app-again")  # which of the two is "the file" is order
    for found in (walked, exported):
        assert sorted(found.pop(p)[0] for p in pair) == ["file", "hardlink"]
    assert walked == exported


def test_a_directory_removed_while_the_walk_runs_is_skipped(tmp_path: Path) -> None:
    """runc's .pivot_root* directory comes and goes as a container starts (seen on
    containerd's store); the walk must go on, not end the audit as a harness bug."""
    r = tmp_path / "root"
    for name in ("one", "two"):
        (r / name).mkdir(parents=True)
    walk = filesystem.from_root(str(r), "/tmp/harness-hello")
    first = next(walk)
    gone = "two" if first.path == "/one" else "one"
    (r / gone).rmdir()
    assert [e.path for e in walk] == []  # the other directory vanished: nothing, no error
    assert first.path in ("/one", "/two")


def test_an_offset_past_any_file_is_read_in_place_as_nothing(tmp_path: Path) -> None:
    """A PT_GNU_PROPERTY note at offset 2**63-1 gave OSError EINVAL from pread, and the run
    exited 70 (masking a real fail in the same image); the file is read as what it is."""
    from harness.containers import audit_pass
    from harness.core.answers import elf, isa
    from harness.core.platforms.table import parse_platform
    from tests.hostile_elf import x86_64

    data = x86_64(segments=((elf.PT_GNU_PROPERTY, 2**63 - 1, 32), (elf.PT_INTERP, 2**64 - 8, 8)))
    (tmp_path / "prog").write_bytes(data)
    seen = isa.Isa()
    fd = os.open(tmp_path / "prog", os.O_RDONLY)
    try:
        member = audit_pass._FileMember(fd, len(data))
        assert member.at(2**63 - 1, 32) == b"" and member.at(2**70, 1) == b""
        found = audit_pass._binary("/prog", data, member, len(data), parse_platform("linux/amd64"),
                               seen)
    finally:
        os.close(fd)
    assert found is not None and found.interp is None and seen.files == 0


def test_a_tree_two_thousand_levels_deep_is_walked_whole(tmp_path: Path) -> None:
    """os.fwalk recurses once a level: 2,000 levels gave RecursionError."""
    root = tmp_path / "deep"
    root.mkdir()
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    depth = 2000
    try:
        for _ in range(depth):  # by descriptors: the whole path is longer than PATH_MAX
            os.mkdir("d", dir_fd=fd)
            inner = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = inner
        leaf = os.open("app", os.O_WRONLY | os.O_CREAT, dir_fd=fd)
        os.write(leaf, b"\x7fELF" + bytes(60))
        os.close(leaf)
    finally:
        os.close(fd)
    try:
        found = entries(root)
    finally:
        # rm, not shutil.rmtree: Python 3.11's recurses too, and pytest's clean-up of old
        # temporary directories (shared by every run on the machine) would fail on it.
        subprocess.run(["rm", "-rf", str(root)], check=True)
    deepest = "/d" * depth + "/app"
    assert found[deepest][0] == "file" and found[deepest][3] == b"\x7fELF\0\0\0\0"
    assert len(found) == depth + 1


def test_what_is_read_whole_has_a_total_and_says_what_it_cut(tmp_path: Path) -> None:
    """300 files of 4 MiB each under /etc/ld.so.conf.d took the worker to 1.26 GB: a
    total bounds them, and the files read only in part are named."""
    conf = tmp_path / "r" / "etc" / "ld.so.conf.d"
    conf.mkdir(parents=True)
    for i in range(12):
        (conf / f"{i:02}.conf").write_bytes(b"/opt/lib\n" * (1 << 17))  # 1.1 MiB each
    reads = filesystem.Reads(4 << 20, each=2 << 20)
    kept = {e.path: reads.read(e) for e in filesystem.from_root(str(tmp_path / "r"), "/none")
            if e.kind == "file"}
    assert sum(map(len, kept.values())) == 4 << 20
    assert reads.cut_count == 9 and len(reads.cut) == 3
    said = reads.describe("the loader's files", 4 << 20)
    assert said.startswith("the loader's files are more than the 4 MiB read of one image: "
                           "9 not read whole (/etc/ld.so.conf.d/") and said.endswith(", ...)")


def test_build_attributes_are_read_only_where_they_are_judged(tmp_path: Path) -> None:
    """The 150-byte ARM file hung an amd64 image's audit too: its attributes were read
    though nothing on amd64 judges them. They are read on the 32-bit ARM platforms."""
    from harness.containers import audit_pass
    from harness.core.answers import isa
    from harness.core.platforms.table import parse_platform
    from tests.hostile_elf import attributes_longer_than_their_section, finishes

    data = attributes_longer_than_their_section()
    (tmp_path / "arm").write_bytes(data)
    fd = os.open(tmp_path / "arm", os.O_RDONLY)
    try:
        for name, files in (("linux/amd64", 0), ("linux/arm/v7", 1)):
            seen = isa.Isa()
            finishes(functools.partial(audit_pass._binary, "/arm", data,
                                       audit_pass._FileMember(fd, len(data)), len(data),
                                       parse_platform(name), seen))
            assert seen.files == files, name
    finally:
        os.close(fd)
