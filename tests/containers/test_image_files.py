"""A container's files read through the archive API (harness.containers.image_files),
against the fake engine."""

from __future__ import annotations

import io
import re
import tarfile

from harness.containers import image_files, probe_container
from harness.core.platforms.table import parse_platform
from tests.fake_engine import Answer, Call, FakeEngine, error

ARM64 = parse_platform("linux/arm64")


def test_a_path_the_engine_does_not_have_reads_as_none(fake: FakeEngine) -> None:
    fake.image("scratchy:1", arch="arm64")
    container = probe_container.files_only(fake.client(), "scratchy:1", ARM64)
    fake.on("GET", "/containers/[^/]+/archive", error(404, "Could not find the file /nope"))
    assert image_files.read_path(container, "/nope", 100) is None
    assert image_files.stat_path(container, "/nope") is None


def archive_of(name: str, data: bytes | None = None, link: str = "") -> bytes:
    """One file's archive as the engine answers GET /containers/ID/archive?path=..."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        info = tarfile.TarInfo(name)
        if link:
            info.type, info.linkname = tarfile.SYMTYPE, link
            tar.addfile(info)
        else:
            info.size = len(data or b"")
            tar.addfile(info, io.BytesIO(data or b""))
    return out.getvalue()


def test_a_symlink_is_followed_and_only_the_first_bytes_are_kept(fake: FakeEngine) -> None:
    fake.image("scratchy:1", arch="arm64")
    container = probe_container.files_only(fake.client(), "scratchy:1", ARM64)
    body = b"\x7fELF" + bytes(range(256)) * 40
    files = {"/bin/sh": archive_of("sh", link="busybox"),
             "/bin/busybox": archive_of("busybox", body)}

    def archive(call: Call, _m: re.Match[str]) -> Answer:
        found = files.get(call.param("path") or "")
        return Answer(body=found, content_type="application/x-tar") if found else \
            error(404, "no such file")

    fake.on("GET", "/containers/[^/]+/archive", archive)
    assert image_files.read_sized(container, "/bin/sh", 64) == (
        "/bin/busybox", body[:64], len(body))
    assert image_files.read_path(container, "/bin/sh", 4) == ("/bin/busybox", b"\x7fELF")
    header = image_files.stat_path(container, "/bin/sh")  # the link itself, not followed
    assert header is not None and header.issym() and header.linkname == "busybox"
