"""Publishing's pure parts: digest files, index entries, deterministic layers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.core.errors import UsageError
from harness.distribution.publish import Entry, _gzip_layer, index_platforms
from harness.distribution.registry import MANIFEST_V2

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


def test_layers_compress_to_the_same_bytes_every_time(tmp_path: Path) -> None:
    src = tmp_path / "layer.tar"
    src.write_bytes(b"layer content " * 10_000)
    first = _gzip_layer(src, tmp_path / "1.gz")
    second = _gzip_layer(src, tmp_path / "2.gz")
    assert first == second and first[0].startswith("sha256:")
