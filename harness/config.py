"""All configuration in one place: ``[tool.harness]`` in pyproject.toml, overridden by options."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import UsageError
from harness.platforms import DEFAULT_PLATFORMS, Platform, UnknownPlatform, parse_platforms

BUILDERS = ("auto", "buildx", "classic")
QUIRK_POLICIES = ("warn", "fail")
DEFAULT_BASE = "debian:bookworm-slim"


@dataclass
class HarnessConfig:
    root: Path
    platforms: list[Platform]
    dockerfile: Path
    context: Path
    build_args: dict[str, str] = field(default_factory=dict)
    report_dir: Path = Path("reports")
    image: str = "harness/rust"
    builder: str = "auto"
    quirk_policy: str = "warn"
    require: frozenset[str] = frozenset()
    mirror: str | None = None  # None: the Debian mirror of this machine's apt sources
    probe_timeout: float = 60.0
    hello_timeout: float = 600.0
    refresh_bases: bool = False
    no_cache: bool = False
    ref: str | None = None  # check this published or local image instead of building
    insecure_registry: bool = False

    def tag_for(self, platform: Platform) -> str:
        """Each platform's image has its own local tag, so no build can pick up another's."""
        return f"{self.image}:{platform.slug}"

    @property
    def base_image(self) -> str:
        return self.build_args.get("BASE_IMAGE") or dockerfile_base(self.dockerfile)

    @property
    def log_dir(self) -> Path:
        return self.report_dir / "logs"

    def validate(self) -> None:
        if not self.dockerfile.is_file():
            raise UsageError(f"no Dockerfile at {self.dockerfile}",
                             "pass --dockerfile PATH or set dockerfile in [tool.harness]")
        if not self.context.is_dir():
            raise UsageError(f"the build context {self.context} is not a directory",
                             "pass --context DIR or set context in [tool.harness]")
        if self.builder not in BUILDERS:
            raise UsageError(f"unknown builder {self.builder!r}",
                             f"use one of {', '.join(BUILDERS)}")
        if self.quirk_policy not in QUIRK_POLICIES:
            raise UsageError(f"unknown quirk policy {self.quirk_policy!r}",
                             f"use one of {', '.join(QUIRK_POLICIES)}")
        if not self.platforms:
            raise UsageError("no platform to build", "pass --platform os/arch[/variant]")


def dockerfile_base(dockerfile: Path) -> str:
    """The default of ``ARG BASE_IMAGE=…`` in the Dockerfile, or Debian bookworm-slim."""
    try:
        text = dockerfile.read_text()
    except OSError:
        return DEFAULT_BASE
    m = re.search(r"^\s*ARG\s+BASE_IMAGE\s*=\s*[\"']?([^\s\"']+)", text, re.MULTILINE | re.I)
    return m[1] if m else DEFAULT_BASE


def read_pyproject(root: Path) -> dict[str, Any]:
    path = root / "pyproject.toml"
    if not path.is_file():
        return {}
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    section = data.get("tool", {}).get("harness", {})
    return {k.replace("-", "_"): v for k, v in section.items()}


def parse_build_args(items: list[str]) -> dict[str, str]:
    args = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"malformed build argument {item!r}", "write --build-arg KEY=VALUE")
        args[key] = value
    return args


def load(root: Path, **overrides: Any) -> HarnessConfig:
    """Merge pyproject's ``[tool.harness]`` with options; options that are None are unset."""
    settings = read_pyproject(root)
    given = {k: v for k, v in overrides.items() if v not in (None, [], ())}
    if "dockerfile" in given and "context" not in given:
        settings.pop("context", None)  # another Dockerfile: its own directory is the context
    settings.update(given)

    def path(key: str, default: str) -> Path:
        p = Path(settings.get(key, default))
        return p if p.is_absolute() else root / p

    try:
        platforms = parse_platforms(list(settings.get("platforms", DEFAULT_PLATFORMS)))
    except UnknownPlatform as exc:
        raise UsageError(str(exc), "pass --platform with a name from that list") from exc
    build_args = settings.get("build_args", {})
    if isinstance(build_args, list):
        build_args = parse_build_args(build_args)
    dockerfile = path("dockerfile", "Dockerfile")
    return HarnessConfig(
        root=root,
        platforms=platforms,
        dockerfile=dockerfile,
        context=path("context", str(dockerfile.parent)),
        build_args=dict(build_args),
        report_dir=path("report_dir", "reports"),
        image=str(settings.get("image", "harness/" + _image_name(dockerfile))),
        builder=str(settings.get("builder", os.environ.get("HARNESS_BUILDER", "auto"))),
        quirk_policy=str(settings.get("quirk_policy", "warn")),
        # `--require=` (empty) clears the list: nothing is required.
        require=frozenset(r for r in settings.get("require", ()) if r),
        mirror=settings.get("mirror"),
        probe_timeout=float(settings.get("probe_timeout", 60)),
        hello_timeout=float(settings.get("hello_timeout", 600)),
        refresh_bases=bool(settings.get("refresh_bases", False)),
        no_cache=bool(settings.get("no_cache", False)),
        ref=settings.get("ref"),
        insecure_registry=bool(settings.get("insecure_registry", False)),
    )


def _image_name(dockerfile: Path) -> str:
    # Dockerfile.rust -> rust; Dockerfile -> image
    suffix = dockerfile.name.partition(".")[2]
    return re.sub(r"[^a-z0-9._-]", "-", suffix.lower()) or "image"
