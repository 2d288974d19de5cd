"""The noxfile's wrapper of the harness's commands: what nox prints of a command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# A session that runs a command through the noxfile's own wrapper: the arguments a user gives
# after `--` (`nox -s check -- user:PW@host/app:1 --engine linux/amd64=tcp://user:PW@…`).
TINY = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
import nox
from noxfile import _run_keeping_status

@nox.session(python=False, name="echo")
def echo(session):
    _run_keeping_status(session, sys.executable, "-c",
                        "import sys; sys.exit(int(sys.argv[1]))", *session.posargs)
"""


@pytest.mark.parametrize("status", [0, 1, 69])
def test_nox_never_echoes_a_password_of_the_command_line(tmp_path: Path, status: int) -> None:
    noxfile = tmp_path / "noxfile.py"
    noxfile.write_text(TINY)
    run = subprocess.run([sys.executable, "-m", "nox", "-f", str(noxfile), "-s", "echo", "--",
                          str(status), "user:PW@127.0.0.1:5000/app:1",
                          "--engine=linux/amd64=tcp://user:PW@127.0.0.1:1"],
                         capture_output=True, text=True, timeout=120, check=False)
    out = run.stdout + run.stderr
    assert run.returncode == status, out
    assert "PW" not in out, out
    # The command line is still shown, once, as the user can copy it (without the password).
    assert out.count("user:***@127.0.0.1:5000/app:1") == 1, out
    assert "--engine=linux/amd64=tcp://user:***@127.0.0.1:1" in out


class Recorded:
    """A nox session that records what it would run, and runs nothing."""

    def __init__(self) -> None:
        self.posargs: list[str] = []
        self.runs: list[tuple[str, ...]] = []

    def install(self, *args: str) -> None:
        pass

    def log(self, *args: object) -> None:
        pass

    def run(self, *args: str, **_kw: object) -> None:
        self.runs.append(args)


def _sessions_run(*names: str) -> list[tuple[str, ...]]:
    sys.path.insert(0, str(ROOT))
    try:
        import noxfile
    finally:
        sys.path.remove(str(ROOT))
    session = Recorded()
    for name in names:
        getattr(noxfile, name)(session)
    return session.runs


def test_the_bench_and_the_docs_pages_are_developer_tooling_not_the_products_commands() -> None:
    """`nox -s bench` and the docs' generated pages run devtools (this repository's), never a
    command of the installed harness; lint checks devtools as it checks the harness."""
    runs = _sessions_run("bench", "docs", "lint")
    assert not [r for r in runs if r[:1] == ("multiarch-harness",) and r[1:2] in
                (("bench",), ("docs",))], runs
    assert ("python", "-m", "devtools.bench") in [r[:3] for r in runs]
    assert ("python", "-m", "devtools.docs", "--out", "docs/reference") in runs
    [ruff] = [r for r in runs if r[:2] == ("ruff", "check")]
    assert "devtools" in ruff and "harness" in ruff


def test_the_package_tests_are_every_test_directory_but_the_engines() -> None:
    """A test directory left out of PACKAGE_TESTS would never run in CI."""
    sys.path.insert(0, str(ROOT))
    try:
        import noxfile
    finally:
        sys.path.remove(str(ROOT))
    found = {f"tests/{p.parent.name}" for p in (ROOT / "tests").glob("*/test_*.py")}
    assert set(noxfile.PACKAGE_TESTS) == found - {"tests/engine"}
