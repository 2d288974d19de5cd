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
    group.addoption("--ref", dest="harness_ref", metavar="REF",
                    help="check this image instead of building: HOST[:PORT]/REPO:TAG or a local "
                         "image")
    group.addoption("--insecure-registry", dest="harness_insecure_registry",
                    action="store_true", default=None,
                    help="allow plain HTTP to a registry that is not on loopback")
    group.addoption("--refresh-bases", dest="harness_refresh_bases", action="store_true",
                    default=None, help="rebuild cached bases even if present")


# Options whose dest is "harness_" + the HarnessConfig key; paths are taken relative to where
# pytest was run, not to the project root.
KEYS = ("platforms", "dockerfile", "context", "build_args", "report_dir", "image", "builder",
        "quirk_policy", "require", "mirror", "probe_timeout", "refresh_bases", "no_cache", "ref",
        "insecure_registry")
PATHS = {"dockerfile", "context", "report_dir"}


def load(config: pytest.Config) -> HarnessConfig:
    here = config.invocation_params.dir
    given = {key: config.getoption(f"harness_{key}") for key in KEYS}
    for key in PATHS:
        if given[key]:
            given[key] = str(here / given[key])
    try:
        cfg = harness_config.load(config.rootpath, **given)
        cfg.validate()
    except UsageError as exc:
        raise pytest.UsageError(str(exc)) from exc
    return cfg
