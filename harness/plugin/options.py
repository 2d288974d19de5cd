"""Command-line options, merged with ``[tool.harness]`` into one :class:`HarnessConfig`."""

from __future__ import annotations

import pytest

from harness import config as harness_config
from harness.config import BUILDERS, QUIRK_POLICIES, HarnessConfig
from harness.errors import UsageError


def add(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "multi-arch image build and check")
    group.addoption("--platform", action="append", dest="harness_platforms", default=[],
                    metavar="OS/ARCH[/VARIANT]",
                    help="platform to build and check (repeatable or comma-separated; "
                         "default: [tool.harness] platforms)")
    group.addoption("--dockerfile", dest="harness_dockerfile", metavar="PATH")
    group.addoption("--context", dest="harness_context", metavar="DIR",
                    help="build context (default: the Dockerfile's directory)")
    group.addoption("--build-arg", action="append", dest="harness_build_args", default=[],
                    metavar="KEY=VALUE")
    group.addoption("--report-dir", dest="harness_report_dir", metavar="DIR",
                    help="where report.json, report.md, junit.xml and logs/ go")
    group.addoption("--image", dest="harness_image", metavar="NAME",
                    help="local image name; each platform is tagged NAME:os-arch[-variant]")
    group.addoption("--builder", dest="harness_builder", choices=BUILDERS,
                    help="buildx (BuildKit), classic (docker SDK) or auto")
    group.addoption("--quirk-policy", dest="harness_quirk_policy", choices=QUIRK_POLICIES,
                    help="whether a known harmless host effect warns or fails the run")
    group.addoption("--require", action="append", dest="harness_require", default=[],
                    metavar="SOURCE", help="a source whose absence makes the image wrong")
    group.addoption("--mirror", dest="harness_mirror", metavar="URL",
                    help="Debian mirror for bootstrapped bases")
    group.addoption("--probe-timeout", dest="harness_probe_timeout", type=float,
                    metavar="SECONDS")
    group.addoption("--no-cache", dest="harness_no_cache", action="store_true", default=None,
                    help="build every layer anew (bases stay cached)")
    group.addoption("--refresh-bases", dest="harness_refresh_bases", action="store_true",
                    default=None, help="rebuild cached bases even if present")


def load(config: pytest.Config) -> HarnessConfig:
    opt = config.getoption
    here = config.invocation_params.dir

    def path(name: str) -> str | None:
        value = opt(name)
        return str(here / value) if value else None  # relative to where pytest was run
    try:
        cfg = harness_config.load(
            config.rootpath,
            platforms=opt("harness_platforms"),
            dockerfile=path("harness_dockerfile"),
            context=path("harness_context"),
            build_args=opt("harness_build_args"),
            report_dir=path("harness_report_dir"),
            image=opt("harness_image"),
            builder=opt("harness_builder"),
            quirk_policy=opt("harness_quirk_policy"),
            require=opt("harness_require"),
            mirror=opt("harness_mirror"),
            probe_timeout=opt("harness_probe_timeout"),
            refresh_bases=opt("harness_refresh_bases"),
            no_cache=opt("harness_no_cache"),
        )
        cfg.validate()
    except UsageError as exc:
        raise pytest.UsageError(str(exc)) from exc
    return cfg
