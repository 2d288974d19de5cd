"""The GitLab CI template (ci/gitlab/multiarch-check.gitlab-ci.yml), read and played here.

:func:`jobs` gives each job as GitLab runs it: its ``extends`` merged in (hashes key by key,
anything else replaced). :class:`Play` runs them on this machine as a GitLab runner would:
jobs in the order their ``needs`` allow, one per ``parallel: matrix:`` entry, ``when:
always`` honoured, the artifacts of the jobs a job needs copied into its fresh copy of the
checkout, their dotenv reports as variables, ``before_script`` and ``script`` run as they
are (POSIX sh, stopping at the first failing line). Each runner tag maps to an engine: the
job's ``docker:dind`` service is that engine (``DOCKER_HOST``). What cannot run here is
replaced by its plain equivalent: the job's image by this machine's Python, the install
line by the harness already installed in this environment.
"""

from __future__ import annotations

import copy
import itertools
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "ci" / "gitlab" / "multiarch-check.gitlab-ci.yml"
KEYWORDS = {"variables", "default", "include", "stages", "workflow", "spec"}
INSTALL = 'python -m pip install "$MULTIARCH_HARNESS"'
VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")


def load(path: Path = TEMPLATE) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text())
    return data


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """GitLab's extends: hashes merged key by key, anything else (lists too) replaced."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and \
            isinstance(out.get(key), dict) else copy.deepcopy(value)
    return out


def resolved(data: dict[str, Any], name: str) -> dict[str, Any]:
    job = data[name]
    parents = job.get("extends", [])
    merged: dict[str, Any] = {}
    for parent in [parents] if isinstance(parents, str) else parents:
        merged = _merge(merged, resolved(data, parent))
    return _merge(merged, {k: v for k, v in job.items() if k != "extends"})


def jobs(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The jobs GitLab runs, each as it runs it."""
    return {name: resolved(data, name) for name in data
            if name not in KEYWORDS and not name.startswith(".")}


def expand(text: str, env: dict[str, str]) -> str:
    """``$NAME``/``${NAME}`` in a variable or tag, as GitLab expands them (unset: empty)."""
    return VARIABLE.sub(lambda m: env.get(m.group(1) or m.group(2), ""), text)


def _needs(job: dict[str, Any]) -> list[tuple[str, bool]]:
    """(job, with its artifacts) of every need."""
    return [(n, True) if isinstance(n, str) else (n["job"], n.get("artifacts", True))
            for n in job.get("needs", [])]


def legs(job: dict[str, Any]) -> list[dict[str, str]]:
    """One variable set per ``parallel: matrix:`` combination ([{}] without one)."""
    entries = (job.get("parallel") or {}).get("matrix")
    if not entries:
        return [{}]
    out = []
    for entry in entries:
        names = list(entry)
        values = [v if isinstance(v, list) else [v] for v in entry.values()]
        out += [dict(zip(names, combo, strict=True)) for combo in itertools.product(*values)]
    return out


@dataclass
class Leg:
    job: str
    matrix: dict[str, str]
    ok: bool = True
    dotenv: dict[str, str] = field(default_factory=dict)
    artifacts: Path | None = None
    log: str = ""


@dataclass
class Play:
    """One pipeline: the includer's variables, runner tags mapped to environments (an
    engine each), a checkout to copy, a directory for artifacts."""

    checkout: Path
    work: Path
    variables: dict[str, str]
    runners: dict[str, dict[str, str]]
    template: dict[str, Any] = field(default_factory=load)
    runs: dict[str, list[Leg]] = field(default_factory=dict)

    def all(self) -> dict[str, list[Leg]]:
        pending = jobs(self.template)
        while pending:
            for name, job in list(pending.items()):
                if all(n in self.runs for n, _ in _needs(job)):
                    self.runs[name] = self.job(name, job)
                    del pending[name]
        return self.runs

    def succeeded(self, name: str) -> bool:
        return all(leg.ok for leg in self.runs[name])

    def job(self, name: str, job: dict[str, Any]) -> list[Leg]:
        needs = _needs(job)
        if job.get("when") != "always" and not all(self.succeeded(n) for n, _ in needs):
            return [Leg(name, {}, ok=False, log="skipped: a job it needs failed")]
        return [self._leg(name, job, matrix, needs) for matrix in legs(job)]

    def _leg(self, name: str, job: dict[str, Any], matrix: dict[str, str],
             needs: list[tuple[str, bool]]) -> Leg:
        leg = Leg(name, matrix)
        workspace = self.work / "runners" / f"{name.replace(':', '-')}-" \
            f"{len(list(self.work.glob('runners/*')))}"
        shutil.copytree(self.checkout, workspace)
        env = {k: v for k, v in os.environ.items() if k != "DOCKER_HOST"}
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        env.update({"CI": "true", "GITLAB_CI": "true", "CI_PROJECT_DIR": str(workspace)})
        for source in ({**self.template.get("variables", {}), **self.variables},
                       job.get("variables", {}), matrix):
            env.update({k: expand(str(v), env) for k, v in source.items()})
        for need, with_artifacts in needs:
            for done in self.runs[need]:
                env.update(done.dotenv)
                if with_artifacts and done.artifacts:
                    shutil.copytree(done.artifacts, workspace, dirs_exist_ok=True)
        # The job's docker:dind service is the engine of the runner its tags pick.
        [tag] = [expand(t, env) for t in job.get("tags", ["default"])]
        if job.get("services"):
            env.pop("DOCKER_HOST", None)  # the alias's: this machine's engine, unless ...
        env.update(self.runners[tag])  # ... the runner's names another
        lines = [line for line in [*job.get("before_script", []), *job["script"]]
                 if line.strip() != INSTALL]
        script = workspace / ".job.sh"
        script.write_text("\n".join(lines) + "\n")
        proc = subprocess.run(["sh", "-e", str(script)], cwd=workspace, env=env,
                              capture_output=True, text=True, check=False, timeout=1800)
        leg.ok = proc.returncode == 0
        leg.log = f"## {name} {matrix} on {tag}\n{proc.stdout}{proc.stderr}"
        artifacts = job.get("artifacts") or {}
        if leg.ok or artifacts.get("when") in ("always", "on_failure"):
            kept = self.work / "artifacts" / workspace.name
            for pattern in artifacts.get("paths", []):
                for found in workspace.glob(pattern.rstrip("/")):
                    target = kept / found.relative_to(workspace)
                    if found.is_dir():
                        shutil.copytree(found, target, dirs_exist_ok=True)
                    else:
                        target.parent.mkdir(parents=True, exist_ok=True)
                        shutil.copy(found, target)
            leg.artifacts = kept if kept.exists() else None
            dotenv = (artifacts.get("reports") or {}).get("dotenv")
            if dotenv and (workspace / dotenv).exists():
                leg.dotenv = dict(line.split("=", 1) for line in
                                  (workspace / dotenv).read_text().splitlines() if "=" in line)
        return leg
