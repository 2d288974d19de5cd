"""The pytest plugin behind ``nox -s build`` (load it with ``-p harness.plugin``).

Split by role, as pytest-xdist is: ``options`` (command line and pyproject), ``scheduling``
(parametrisation, grouping, order, worker count), ``fixtures`` (the worker's build and probe
fixtures), ``results`` (gathering, reports and exit status in the controller).
"""

from __future__ import annotations

import pytest

from harness.pipeline import Pipeline
from harness.plugin import fixtures, options, results, scheduling
from harness.plugin.state import STATE, HarnessState


def pytest_addoption(parser: pytest.Parser) -> None:
    options.add(parser)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    cfg = options.load(config)
    config.stash[STATE] = HarnessState(cfg, Pipeline(cfg))
    if config.option.xmlpath is None and not hasattr(config, "workerinput"):
        # JUnit XML belongs with the other reports of the run.
        config.option.xmlpath = str(cfg.report_dir / "junit.xml")
    config.addinivalue_line("markers", "xdist_group(name): keep a platform on one worker")
    for role in (scheduling, fixtures, results):
        config.pluginmanager.register(role, f"harness-{role.__name__.rsplit('.', 1)[-1]}")
