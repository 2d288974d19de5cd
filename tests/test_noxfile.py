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
