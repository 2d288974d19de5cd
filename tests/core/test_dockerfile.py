"""The Rust Dockerfile agrees with the platform table where it names architectures itself."""

from __future__ import annotations

import re
from pathlib import Path

from harness.core.answers.normalise import from_dpkg, from_rust_triple
from harness.core.buildspec.dockerfile import declares_base_arg, from_images, has_from
from harness.machine.config import dockerfile_base

DOCKERFILE = Path(__file__).resolve().parents[2] / "dockerfiles" / "Dockerfile.rust"


def test_rustup_triples_are_chosen_from_dpkg_as_the_table_says() -> None:
    text = DOCKERFILE.read_text()
    cases = re.findall(r"^\s*(\w+)\) triple=([\w-]+) ;;", text, re.MULTILINE)
    assert len(cases) >= 4
    for dpkg_arch, triple in cases:
        assert set(from_dpkg(dpkg_arch)) & set(from_rust_triple(triple)), (dpkg_arch, triple)
    assert 'dpkg_arch="$(dpkg --print-architecture)"' in text
    assert "uname" not in re.sub(r"^#.*$", "", text, flags=re.MULTILINE)  # only in comments


def test_the_base_is_an_argument_with_a_debian_default() -> None:
    assert dockerfile_base(DOCKERFILE) == "debian:bookworm-slim"


def test_the_image_carries_oci_labels() -> None:
    text = DOCKERFILE.read_text()
    for label in ("title", "description", "version", "source"):
        assert f"org.opencontainers.image.{label}=" in text


def test_from_images_are_the_stages_bases_not_stages_or_arguments() -> None:
    text = """
        # syntax=docker/dockerfile:1
        ARG BASE=debian:trixie
        FROM --platform=$BUILDPLATFORM debian:bookworm-slim AS build
        FROM build AS test
        from debian:bookworm-slim
        FROM ${BASE}
        FROM scratch
        FROM docker.io/library/alpine:3.20 as tools
        COPY --from=tools /bin/busybox /busybox
    """
    assert from_images(text) == ["debian:bookworm-slim", "docker.io/library/alpine:3.20"]
    assert declares_base_arg("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}")
    assert not declares_base_arg(text)
    assert not has_from("# FROM debian\nRUN true")
