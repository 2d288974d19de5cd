"""Configuration: pyproject's [tool.harness], options over it, and bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.config import dockerfile_base, load, parse_build_args
from harness.errors import UsageError


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "docker").mkdir()
    (tmp_path / "docker" / "Dockerfile.web").write_text("ARG BASE_IMAGE=debian:trixie\nFROM x\n")
    (tmp_path / "pyproject.toml").write_text(
        '[tool.harness]\nplatforms = ["linux/arm64"]\ndockerfile = "docker/Dockerfile.web"\n'
        'quirk-policy = "fail"\nrequire = ["rustc"]\n')
    return tmp_path


def test_pyproject_settings_apply(project: Path) -> None:
    cfg = load(project)
    cfg.validate()
    assert [p.name for p in cfg.platforms] == ["linux/arm64"]
    assert cfg.dockerfile == project / "docker" / "Dockerfile.web"
    assert cfg.context == project / "docker"
    assert cfg.quirk_policy == "fail" and cfg.require == {"rustc"}
    assert cfg.image == "harness/web"
    assert cfg.base_image == "debian:trixie"
    assert cfg.tag_for(cfg.platforms[0]) == "harness/web:linux-arm64"


def test_options_override_pyproject(project: Path) -> None:
    cfg = load(project, platforms=["linux/386", "linux/amd64"], quirk_policy="warn",
               build_args=["BASE_IMAGE=debian:bookworm", "X=1=2"])
    assert [p.name for p in cfg.platforms] == ["linux/386", "linux/amd64"]
    assert cfg.quirk_policy == "warn"
    assert cfg.build_args == {"BASE_IMAGE": "debian:bookworm", "X": "1=2"}
    assert cfg.base_image == "debian:bookworm"


def test_unknown_platform_is_a_usage_error_naming_the_known_ones(project: Path) -> None:
    with pytest.raises(UsageError) as info:
        load(project, platforms=["linux/sparc"])
    assert "linux/arm/v7" in str(info.value) and info.value.exit_status == 4


def test_missing_dockerfile_names_the_fix(project: Path) -> None:
    cfg = load(project, dockerfile=str(project / "nope" / "Dockerfile"))
    with pytest.raises(UsageError, match=r"no Dockerfile at .*nope") as info:
        cfg.validate()
    assert "--dockerfile" in info.value.fix


def test_missing_context(project: Path) -> None:
    with pytest.raises(UsageError, match="context"):
        load(project, context=str(project / "gone")).validate()


def test_malformed_build_arg() -> None:
    with pytest.raises(UsageError, match="KEY=VALUE"):
        parse_build_args(["NOEQUALS"])


def test_base_image_default_when_the_dockerfile_declares_none(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    assert dockerfile_base(tmp_path / "Dockerfile") == "debian:bookworm-slim"


def test_the_projects_own_pyproject_builds_the_rust_image() -> None:
    root = Path(__file__).resolve().parents[2]
    cfg = load(root)
    cfg.validate()
    assert [p.name for p in cfg.platforms] == ["linux/amd64", "linux/386", "linux/arm64",
                                               "linux/arm/v7"]
    assert cfg.dockerfile.name == "Dockerfile.rust" and cfg.base_image == "debian:bookworm-slim"


def test_another_dockerfile_brings_its_own_context(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.harness]\ncontext = "docker"\n')
    (project / "other").mkdir()
    (project / "other" / "Dockerfile").write_text("FROM scratch\n")
    cfg = load(project, dockerfile=str(project / "other" / "Dockerfile"))
    assert cfg.context == project / "other"
    assert load(project, dockerfile=str(project / "other" / "Dockerfile"),
                context=str(project / "docker")).context == project / "docker"
