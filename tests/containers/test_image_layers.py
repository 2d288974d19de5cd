"""A layer directory is looked up without following the image's links, whiteouts seen."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.containers.image_layers import _holds


@pytest.fixture
def layer(tmp_path: Path) -> Iterator[int]:
    (tmp_path / "usr" / "bin").mkdir(parents=True)
    (tmp_path / "usr" / "bin" / "tool").write_bytes(b"\x7fELF")
    (tmp_path / "etc").symlink_to("/etc")  # a link of the image: to the host's /etc here
    (tmp_path / "lib").symlink_to("usr")
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    yield fd
    os.close(fd)


def test_a_path_of_the_layer_is_found(layer: int) -> None:
    assert _holds(layer, "/usr/bin/tool")
    assert not _holds(layer, "/usr/bin/other")


def test_no_link_of_the_image_is_followed(layer: int) -> None:
    assert Path("/etc/passwd").exists()
    assert not _holds(layer, "/etc/passwd")  # the host's file, through the image's link
    assert not _holds(layer, "/lib/bin/tool")  # a link within the layer: not this path
    assert not _holds(layer, "/usr/../usr/bin/tool") and not _holds(layer, "usr/bin/tool")


@pytest.mark.skipif(os.geteuid() != 0, reason="a whiteout is a device: mknod needs root")
def test_a_whiteout_is_no_file(tmp_path: Path) -> None:
    os.mknod(tmp_path / "gone", 0o600 | 0o020000, os.makedev(0, 0))
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        assert not _holds(fd, "/gone")
    finally:
        os.close(fd)
