"""publish and merge refuse bad input with one line and exit 4, before anything is pushed
(no engine or registry is needed to find these)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.helpers import ROOT


def harness(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=ROOT, text=True,
                          capture_output=True, check=False,
                          env={"DOCKER_HOST": "unix:///nonexistent.sock", "PATH": "/usr/bin:/bin"})


@pytest.mark.parametrize(("args", "says"), [
    (["publish", "--registry=ci:s3cret@127.0.0.1:5000/rust", "--tag=1"],
     "--registry carries credentials"),
    (["publish", "--registry=http://127.0.0.1:5000/rust", "--tag=1"], "has a scheme"),
    (["publish", "--registry=127.0.0.1:5000/rust", "--tag=a/b"], "is not a tag"),
    (["publish", "--registry=127.0.0.1:5000/rust", "--tag=v1?x"], "is not a tag"),
    (["publish", "--registry=127.0.0.1:5000/rust"], "no tag to write"),
    (["merge", "--registry=127.0.0.1:5000/a", "--registry=127.0.0.1:5000/b", "--tag=1"],
     "exactly one registry"),
    (["publish", "--registry=127.0.0.1:5000/rust", "--tag=1", "--platform=linux/sparc"],
     "unknown platform"),
    (["merge", "--registry=127.0.0.1:5000/a", "--tag=1", "--nope"], "unrecognized arguments"),
    (["merge", "--registry=127.0.0.1:5000/app", "--tag=1", "--sign=/nonexistent.key"], "--sign"),
    (["merge", "--registry=127.0.0.1:5000/a", "--tag-template=type=nope"],
     "not one the harness writes"),
    (["merge", "--registry=127.0.0.1:5000/a", "--tag=1", "--annotation=manifest:a=b"],
     "give it to publish"),
])
def test_bad_input_is_one_line_and_exit_4(args: list[str], says: str) -> None:
    run = harness(*args)
    assert run.returncode == 4, run.stderr
    assert says in run.stderr and "Traceback" not in run.stderr
    assert "s3cret" not in run.stdout + run.stderr  # a password is never echoed
