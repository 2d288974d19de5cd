"""Checking a reference's pure parts: what the controller hands the workers, what is remote."""

from __future__ import annotations

import json

import pytest

from harness.core.outcomes import Kind
from harness.core.reference import is_registry_ref
from harness.core.verdicts import Finding
from harness.distribution.check_ref import IndexCheck
from harness.distribution.registry import MANIFEST_V2

DIGEST = "sha256:" + "ab" * 32


def test_an_index_check_round_trips_for_the_workers() -> None:
    check = IndexCheck("127.0.0.1:5000/rust:1", "sha256:x", MANIFEST_V2, {"linux/amd64": "d"},
                       [Finding("index", Kind.MISMATCH, "linux/386 is not in the index", "f")])
    assert IndexCheck.from_dict(json.loads(json.dumps(check.to_dict()))) == check


@pytest.mark.parametrize(("ref", "is_remote"), [
    ("127.0.0.1:5000/rust:latest", True), ("registry.example/a/b@" + DIGEST, True),
    ("harness/rust:linux-amd64", False), ("rust", False),
])
def test_registry_references_are_told_from_local_images(ref: str, is_remote: bool) -> None:
    assert is_registry_ref(ref) is is_remote
