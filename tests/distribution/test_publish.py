"""Publishing's pure parts: digest files, index entries, deterministic layers."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import random
import tarfile
from pathlib import Path
from typing import Any

import pytest

from harness.core.failures.errors import UsageError
from harness.core.outcomes import Verdict
from harness.core.platforms.table import parse_platform
from harness.core.reporting.report import build_report
from harness.core.results.platform_result import BuildInfo, ImageInfo, PlatformResult
from harness.distribution.publish import Entry, Export, _pack, index_platforms, reported_images
from harness.distribution.registry import MANIFEST_V2
from tests.factories import HOST, result

DIGEST = "sha256:" + "ab" * 32


def test_a_digest_file_round_trips(tmp_path: Path) -> None:
    entry = Entry("linux/arm/v7", "rust", DIGEST, 1234, MANIFEST_V2)
    path = entry.write(tmp_path)
    assert path.name == "linux-arm-v7.json"
    assert Entry.read(path) == entry
    assert entry.descriptor()["platform"] == {"architecture": "arm", "os": "linux",
                                              "variant": "v7"}


@pytest.mark.parametrize(("content", "says"), [
    ("not json", "is not a digest file"),
    ("[" * 200_000 + "]" * 200_000, "is not a digest file"),  # was RecursionError: 70
    (json.dumps({"platform": "linux/sparc", "repository": "r", "digest": DIGEST, "size": 1,
                 "media_type": MANIFEST_V2}), "'linux/sparc', a platform the harness does not"),
    (json.dumps({"platform": "linux/amd64", "repository": "r", "digest": "", "size": 1,
                 "media_type": MANIFEST_V2}), "holds no sha256 digest"),
])
def test_a_bad_digest_file_is_a_usage_error(tmp_path: Path, content: str, says: str) -> None:
    path = tmp_path / "x.json"
    path.write_text(content)
    with pytest.raises(UsageError) as info:
        Entry.read(path)
    assert says in str(info.value)


def test_index_platforms_drop_attestations_and_name_unknown_platforms() -> None:
    index = {"manifests": [
        {"digest": "a", "platform": {"os": "linux", "architecture": "arm64"}},
        {"digest": "b", "platform": {"os": "unknown", "architecture": "unknown"}},
        {"digest": "c", "platform": {"os": "linux", "architecture": "mips64le"}},
    ]}
    got = [(m["digest"], p.name if p else None) for m, p in index_platforms(index)]
    assert got == [("a", "linux/arm64"), ("c", None)]


def test_layers_compress_to_the_same_bytes_on_any_number_of_cores(tmp_path: Path) -> None:
    layer = random.Random(7).randbytes(3 << 20) + b"layer content " * 400_000  # 4 blocks
    one = _pack(io.BytesIO(layer), tmp_path / "1.gz", threads=1)
    four = _pack(io.BytesIO(layer), tmp_path / "4.gz", threads=4)
    assert one.digest == four.digest and one.digest.startswith("sha256:")
    assert gzip.decompress(one.path.read_bytes()) == layer
    assert one.path.read_bytes()[4:8] == b"\0\0\0\0"  # no time in the header


def test_a_layer_exported_compressed_is_pushed_as_it_is(tmp_path: Path) -> None:
    packed = gzip.compress(b"layer content " * 1000, mtime=0)
    blob = _pack(io.BytesIO(packed), tmp_path / "1.gz")
    assert blob.path.read_bytes() == packed
    assert blob.digest == "sha256:" + hashlib.sha256(packed).hexdigest()


def _save_archive(members: dict[str, bytes], links: dict[str, str]) -> bytes:
    """A `docker save` archive: files, and symlinks to a layer another entry shares."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, body in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
        for name, target in links.items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    return out.getvalue()


def test_the_export_is_read_as_it_streams(tmp_path: Path) -> None:
    big = b"big layer " * (Export.SMALL // 10 + 1)
    archive = _save_archive(
        {"aaa/layer.tar": big, "bbb/layer.tar": b"small layer", "cfg.json": b"{}",
         "manifest.json": b"[]"},
        {"ccc/layer.tar": "../aaa/layer.tar"})
    export = Export(tmp_path)
    export.read(archive[i:i + 1000] for i in range(0, len(archive), 1000))
    assert set(export.small) == {"bbb/layer.tar", "cfg.json", "manifest.json"}  # kept
    assert export.packed("ccc/layer.tar") == export.packed("aaa/layer.tar")  # one blob
    assert gzip.decompress(export.packed("aaa/layer.tar").path.read_bytes()) == big
    assert gzip.decompress(export.packed("bbb/layer.tar").path.read_bytes()) == b"small layer"


def _report(*results: PlatformResult) -> dict[str, Any]:
    return build_report(list(results), HOST, "warn", run=(0.0, 1.0))


def test_publish_takes_the_images_the_report_names_by_id(tmp_path: Path) -> None:
    """publish re-derived each image's name from defaults (harness/rust:PLATFORM), so a build
    of any other Dockerfile could not be published; the report's IDs are what it pushes."""
    amd, arm = result("linux/amd64", Verdict.PASS), result("linux/arm64", Verdict.PASS)
    amd.image = ImageInfo("sha256:" + "1" * 64, "harness/web:linux-amd64-0badcafe")
    arm.image = ImageInfo("sha256:" + "2" * 64, "harness/web:linux-arm64-0badcafe")
    where = tmp_path / "report.json"
    images = reported_images(_report(amd, arm), None, where)
    assert {p.name: i for p, i in images.items()} == {"linux/amd64": "sha256:" + "1" * 64,
                                                     "linux/arm64": "sha256:" + "2" * 64}
    [(only, image)] = reported_images(_report(amd, arm), [parse_platform("linux/arm64")],
                                      where).items()
    assert (only.name, image) == ("linux/arm64", "sha256:" + "2" * 64)


def test_a_platform_the_report_did_not_build_is_bad_input(tmp_path: Path) -> None:
    where = tmp_path / "report.json"
    failed = result("linux/arm64", Verdict.FAIL)
    failed.image, failed.build = None, BuildInfo(False, "buildx", 3.0)
    report = _report(result("linux/amd64", Verdict.PASS), failed)
    with pytest.raises(UsageError, match=r"has no linux/386 image") as absent:
        reported_images(report, [parse_platform("linux/386")], where)
    assert "--platform linux/386" in absent.value.fix and str(where) in absent.value.message
    with pytest.raises(UsageError, match="linux/arm64 did not build"):
        reported_images(report, None, where)
    with pytest.raises(UsageError, match="names no platform"):
        reported_images(_report(), None, where)
    checked = result("linux/amd64", Verdict.PASS)
    checked.image = ImageInfo("sha256:" + "3" * 64, ref="registry.example/app:1")
    with pytest.raises(UsageError, match=r"a check of registry\.example/app:1, not of a build"):
        reported_images(_report(checked), None, where)
