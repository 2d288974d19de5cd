"""Command-line options, merged with ``[tool.harness]`` into one :class:`HarnessConfig`.

The options themselves are declared once, in ``harness.core.settings.options``; here they are
offered to
pytest and read back.
"""

from __future__ import annotations

import pytest

from harness.containers import engine
from harness.core.failures.errors import HarnessError, UsageError
from harness.core.platforms.engine_url import builder_name
from harness.core.settings import options
from harness.machine import config as harness_config
from harness.machine.config import HarnessConfig

# Paths are taken relative to where pytest was run, not to the project root.
PATHS = {"dockerfile", "context", "report_dir"}
_LOADED = pytest.StashKey[HarnessConfig]()


def add(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "multi-arch image build and check")
    group.addoption("--multiarch", dest="harness_active", action="store_true", default=False,
                    help="build and check multi-arch images (multiarch-harness build gives it)")
    options.add_pytest_options(group)


def load(config: pytest.Config) -> HarnessConfig:
    """The run's configuration, read and checked once (xdist's worker count asks for it
    before pytest_configure does)."""
    if _LOADED in config.stash:
        return config.stash[_LOADED]
    here = config.invocation_params.dir
    given = options.given(config.option, "build", prefix="harness_")
    try:
        for key in PATHS & set(given):  # '' would be `here` itself: refused as it is
            given[key] = str(here / options.BY_KEY[key].convert(given[key], "command line"))
        if "check_dirs" in given:
            given["check_dirs"] = [str(here / d) for v in given["check_dirs"]
                                   for d in v.split(",")]
        cfg = harness_config.load(config.rootpath, **given)
        cfg.validate()
        engine.select_context(cfg.docker_context)
        engine.chosen()  # an unknown context (flag or DOCKER_CONTEXT): usage, before any work
        named = builder_name(cfg.builder)
        if named is not None and cfg.ref is None:
            engine.named_builder(named)  # an unknown builder too
    except UsageError as exc:
        raise pytest.UsageError(str(exc)) from exc
    except HarnessError as exc:  # the machine's (--bake without buildx): its status, one line
        pytest.exit(str(exc), returncode=int(exc.exit_status))
    config.stash[_LOADED] = cfg
    return cfg
