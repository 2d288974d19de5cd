"""How the harness's own tests share this machine when `nox -s tests` runs them on xdist's
workers: which tests run after the others, alone, and which test files share a worker.

Every test file is one unit of work (its module fixtures, such as the builds and registries a
file shares, are made once, on one worker). Files that would collide if they ran at the same
time share a unit, so they run one after another; tests that change or count what every test
on the engine shares run after the parallel part, with nothing beside them (marked ``serial``).
"""

from __future__ import annotations

SERIAL = "serial"

# Each of these changes or counts what every test of the engine shares.
SERIAL_TESTS = {
    # Every container of the engine is counted before and after (none left by the run).
    "tests/engine/test_plugin_runs.py::test_ctrl_c_during_a_build_leaves_nothing_behind",
    "tests/engine/test_plugin_runs.py::test_an_interrupted_nox_build_exits_2_with_its_reports",
    "tests/engine/test_plugin_runs.py::test_a_cancel_while_the_workers_come_up_still_writes_"
    "every_report",
    # Counts this machine's dockerd processes (the other tests start engines of their own).
    "tests/engine/test_plugin_runs.py::test_preflight_never_starts_an_engine_in_place_of_the_"
    "one_chosen",
    # Deletes docker0 under the engine: every container on it loses its network.
    "tests/engine/test_plugin_runs.py::test_a_missing_bridge_is_the_machine_not_the_image",
    # Asserts how the run's builds and probes overlap in time (one probe per core).
    "tests/engine/test_plugin_runs.py::test_workers_build_side_by_side_and_probe_one_platform_"
    "per_core",
    # Times the build against a registry that never answers.
    "tests/engine/test_build_cache.py::test_a_cache_registry_that_never_answers_costs_the_build_"
    "nothing",
    # Run nox sessions of this checkout, whose venvs (.nox/build, .nox/registry) each session
    # installs the harness into: two pip installs into one venv at once are no install.
    "tests/engine/test_plugin_runs.py::test_nox_sessions_keep_bad_input_at_4_and_preflight_"
    "options_out_of_pytest",
    "tests/engine/test_registry.py::test_nox_registry_is_removed_on_sigterm_and_refuses_a_busy_"
    "port",
}

# Test files that share a worker (one runs after the other), by what they would collide on.
SHARED = {
    # Docker 26 on second_engine's default bridge and subnet.
    "tests/engine/test_engines.py": "default-bridge",
    "tests/engine/test_named_contexts.py": "default-bridge",
    # Docker 26 on harness-br31.
    "tests/engine/test_docker_contexts.py": "harness-br31",
    "tests/engine/test_workflow.py": "harness-br31",
    # Registers binfmt_misc handlers (the kept answers' key holds every handler), beside the
    # rerun that must read back what its first run kept under the handlers it saw.
    "tests/engine/test_emulator_faults.py": "binfmt",
    "tests/engine/test_plugin_runs.py": "binfmt",
}


def is_serial(nodeid: str) -> bool:
    """Whether the test (a parametrised one by its function) runs alone, after the others."""
    return nodeid.split("[", 1)[0] in SERIAL_TESTS


def scope(nodeid: str) -> str:
    """The unit of work a test belongs to: its file, or the group its file shares."""
    module = nodeid.split("::", 1)[0]
    return SHARED.get(module, module)
