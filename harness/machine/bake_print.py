"""``docker buildx bake --print``, run here: the definition as buildx resolves it.

buildx reads the files (HCL, JSON, compose), resolves variables, functions, ``matrix``,
``inherits`` and ``x-bake``, checks the secrets' and ssh keys' files, and prints one JSON
document; :mod:`harness.core.buildspec.bake` reads it. The print needs no engine (buildx resolves
the
definition on its own), but it runs in the run's docker context all the same, as the builds
do. Its output is bounded and it has a time limit; a definition buildx rejects is a usage
error of one line, buildx's own message (bounded and escaped), before any work.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from harness.core import jsondoc, sinks
from harness.core.buildspec import bake
from harness.core.failures.errors import CannotCheck, UsageError
from harness.core.platforms.engine_url import context_env

TIMEOUT = 60.0  # seconds: a print resolves files on this machine, in well under a second
MESSAGE_LIMIT = 64 << 10  # bytes of buildx's stderr read for its message
DEFAULT_FILES = ("docker-bake.json", "docker-bake.hcl", "docker-bake.override.json",
                 "docker-bake.override.hcl", "compose.yaml", "compose.yml",
                 "docker-compose.yaml", "docker-compose.yml")  # what buildx reads unnamed


def environment(docker_context: str | None) -> dict[str, str]:
    """The run's environment for the docker CLI: ``--docker-context`` over DOCKER_HOST (and
    its TLS settings), as ``docker --context NAME`` takes it, as the builds' CLI gets it."""
    return context_env(os.environ, docker_context) if docker_context else dict(os.environ)


def _head(path: Path, limit: int) -> bytes:
    with path.open("rb") as f:
        return f.read(limit + 1)


def message(stderr: str) -> str:
    """buildx's own word from its stderr: the last ``ERROR:`` line (its progress lines come
    first), else the last line; bounded and inert for a terminal."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line.removeprefix("ERROR:").strip() for line in lines
              if line.startswith("ERROR:")]
    found = (errors or lines or ["it said nothing"])[-1]
    return sinks.terminal(found, bake.SHOWN)


def version(env: dict[str, str] | None = None) -> tuple[int, ...]:
    """The buildx plugin's version; () when it does not say."""
    try:
        out = subprocess.run(["docker", "buildx", "version"], capture_output=True, text=True,
                             timeout=TIMEOUT, env=env, stdin=subprocess.DEVNULL, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ()
    return bake.parse_buildx_version(out.stdout[:1000])


def _run(cmd: list[str], cwd: Path, env: dict[str, str], out: IO[bytes], err: IO[bytes],
         timeout: float) -> int:
    """The print's exit status; past ``timeout`` (or on Ctrl-C) the docker CLI and the
    buildx plugin it started are killed together, as one process group: killing the CLI
    alone would leave the plugin behind."""
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        return proc.wait(timeout)
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def print_command(files: Sequence[str], names: Sequence[str]) -> list[str]:
    return ["docker", "buildx", "bake", "--print",
            *[a for f in files for a in ("-f", f)], "--", *names] if names else [
        "docker", "buildx", "bake", "--print", *[a for f in files for a in ("-f", f)]]


def read(root: Path, files: Sequence[str], names: Sequence[str],
         docker_context: str | None = None, timeout: float = TIMEOUT) -> bake.Definition:
    """The definition of ``files`` (none: buildx's default files in ``root``), narrowed to
    ``names`` (targets or groups; none: the ``default`` group), read in ``root`` as buildx
    reads it there (contexts are relative to it)."""
    for f in files:
        path = Path(f) if Path(f).is_absolute() else root / f
        if not path.is_file():  # a FIFO would keep buildx waiting for a writer
            what = "is not a regular file" if os.path.lexists(path) else "is not there"
            raise UsageError(f"--bake: the file {sinks.terminal(f, bake.SHOWN)} {what}",
                             "name a Bake or Compose file: --bake FILE [TARGET…]")
    env = environment(docker_context)
    cmd = print_command(files, names)
    with tempfile.TemporaryDirectory(prefix="harness-bake-") as tmp:
        out, err = Path(tmp) / "out", Path(tmp) / "err"
        try:
            with out.open("wb") as o, err.open("wb") as e:
                code = _run(cmd, root, env, o, e, timeout)
        except FileNotFoundError:
            raise CannotCheck("--bake: the docker CLI is not installed",
                              "install docker.io (or docker-ce-cli) and docker-buildx") from None
        except subprocess.TimeoutExpired:
            raise CannotCheck(f"--bake: `docker buildx bake --print` took more than "
                              f"{timeout:.0f} s", "run it by hand to see what it waits "
                              "for") from None
        said = _head(err, MESSAGE_LIMIT).decode(errors="replace")
        if code != 0:
            if "is not a docker command" in said:
                raise CannotCheck("--bake: the docker CLI has no buildx plugin",
                                  "install docker-buildx (or run preflight as root)")
            raise bake.BadDefinition(f"--bake: buildx rejects the definition: {message(said)}",
                                     "fix the definition (`docker buildx bake --print` "
                                     "shows it as buildx reads it)")
        data = _head(out, bake.PRINT_LIMIT)
    try:
        doc = jsondoc.parse(data, max_bytes=bake.PRINT_LIMIT)
    except ValueError as exc:
        raise bake.BadDefinition(f"--bake: `docker buildx bake --print` printed no definition "
                                 f"the harness reads ({sinks.terminal(str(exc), bake.SHOWN)})",
                                 "run it by hand and fix what it says") from None
    return bake.read_print(doc, escaped=bake.escapes_print(version(env)))


def split(root: Path, items: Sequence[str]) -> tuple[list[str], list[str]]:
    """``--bake``'s items as files and target or group names (see
    core.buildspec.bake.split_items)."""
    return bake.split_items(items, lambda f: (Path(f) if Path(f).is_absolute()
                                              else root / f).is_file())


def resolve(root: Path, items: Sequence[str], docker_context: str | None = None
            ) -> list[tuple[bake.BakeTarget, dict[str, object]]]:
    """``--bake``'s targets, each with its settings for the run
    (core.buildspec.bake.settings), in the definition's order."""
    files, names = split(root, items)
    return [(t, bake.settings(t))
            for t in bake.asked_targets(read(root, files, names, docker_context))]
