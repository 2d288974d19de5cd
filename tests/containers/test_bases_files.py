"""The files added to a bootstrapped base's root file system (the official images' minimizing
config): appended to mmdebstrap's tarball as root's, with their modes."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

from harness.containers import bases


def text(tar: tarfile.TarFile, member: tarfile.TarInfo) -> bytes:
    fh = tar.extractfile(member)
    assert fh is not None, member.name
    return fh.read()


def test_the_minimizing_config_is_appended_as_roots_with_its_modes(tmp_path: Path) -> None:
    rootfs = tmp_path / "rootfs.tar"
    with tarfile.open(rootfs, "w") as tar:
        info = tarfile.TarInfo("./etc/os-release")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"x=1"))
    bases._add_files(rootfs, bases.MINIMIZING)
    with tarfile.open(rootfs) as tar:
        members = {m.name: m for m in tar.getmembers()}
        assert "./etc/os-release" in members  # what mmdebstrap made stays
        policy = members["./usr/sbin/policy-rc.d"]
        assert (policy.mode, policy.uid, policy.gid) == (0o755, 0, 0)
        assert text(tar, policy) == b"#!/bin/sh\nexit 101\n"
        speedup = members["./etc/dpkg/dpkg.cfg.d/docker-apt-speedup"]
        assert speedup.mode == 0o644
        assert text(tar, speedup) == b"force-unsafe-io\n"
        assert b'Dir::Cache::pkgcache "";' in text(
            tar, members["./etc/apt/apt.conf.d/docker-clean"])


def test_nothing_to_add_leaves_the_tarball_as_it_was(tmp_path: Path) -> None:
    rootfs = tmp_path / "rootfs.tar"
    with tarfile.open(rootfs, "w"):
        pass
    before = rootfs.read_bytes()
    bases._add_files(rootfs, ())
    assert rootfs.read_bytes() == before
