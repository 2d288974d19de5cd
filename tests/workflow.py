"""The reusable GitHub workflows (.github/workflows/multiarch.yml, which builds, and
check.yml, which checks an index someone else built), read and played here.

``python -m tests.workflow shellcheck FILE...`` runs shellcheck on every ``run:`` script, as
GitHub runs them (bash, -e, -o pipefail); ``nox -s lint`` calls it.

:class:`Play` runs the workflow's jobs in order on this machine, as GitHub would on its
runners: each job in a fresh copy of the checkout, its matrix from the matrix job's output,
``needs`` and ``if: always()`` honoured, the ``run:`` scripts run as they are with the env
the workflow gives them, and outputs passed through ``$GITHUB_OUTPUT``. Each runner label
maps to an engine (``DOCKER_HOST``). What cannot run here is replaced by its plain
equivalent: actions/checkout by the copy, actions/upload-artifact and download-artifact by
copies into and out of an artifacts directory, actions/setup-python and
docker/setup-qemu-action by this machine's Python and QEMU (preflight registered it), and
the install step by the harness already installed in this environment.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "multiarch.yml"
CHECK = ROOT / ".github" / "workflows" / "check.yml"  # Play(..., workflow=load(CHECK))
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
INSTALL = 'python -m pip install "$HARNESS"'


def load(path: Path = WORKFLOW) -> dict[str, Any]:
    data: dict[Any, Any] = yaml.safe_load(path.read_text())
    if True in data:  # YAML 1.1 reads the key `on` as true
        data["on"] = data.pop(True)
    return data


def scripts(workflow: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(job, step, script) of every ``run:`` step."""
    for job_id, job in workflow["jobs"].items():
        for n, step in enumerate(job.get("steps", [])):
            if "run" in step:
                yield job_id, step.get("name") or step.get("id") or f"step {n}", step["run"]


def shellcheck(paths: list[Path]) -> int:
    """shellcheck every run script; the first non-zero status, or 0."""
    status = 0
    with tempfile.TemporaryDirectory() as tmp:
        for path in paths:
            for job, step, script in scripts(load(path)):
                if EXPRESSION.search(script):
                    print(f"{path}: {job}/{step}: an expression in a script: pass it by env")
                    status = status or 1
                target = Path(tmp) / "step.sh"
                target.write_text("#!/usr/bin/env bash\nset -eo pipefail\n" + script)
                result = subprocess.run(["shellcheck", "--shell=bash", str(target)],
                                        capture_output=True, text=True, check=False)
                if result.returncode:
                    print(f"{path}: {job}/{step}:\n{result.stdout}")
                    status = status or result.returncode
    return status


def _lookup(expr: str, ctx: dict[str, Any]) -> Any:
    """A context path (``matrix.platform``, ``needs.matrix.outputs.matrix``) or
    ``fromJSON(path)``; missing is "", as on GitHub."""
    if expr.startswith("fromJSON(") and expr.endswith(")"):
        return json.loads(_lookup(expr[len("fromJSON("):-1], ctx) or "null")
    value: Any = ctx
    for part in expr.split("."):
        if not isinstance(value, dict) or part not in value:
            return ""
        value = value[part]
    return value


def as_text(value: Any) -> str:
    """A value where GitHub puts it into text (env, a script): booleans as true/false."""
    return str(value).lower() if isinstance(value, bool) else str(value)


def evaluate(text: Any, ctx: dict[str, Any]) -> Any:
    """``${{ ... }}`` in a value: a whole-value expression keeps its type (a matrix)."""
    if not isinstance(text, str):
        return text
    whole = EXPRESSION.fullmatch(text.strip())
    if whole:
        return _lookup(whole.group(1), ctx)
    return EXPRESSION.sub(lambda m: as_text(_lookup(m.group(1), ctx)), text)


@dataclass
class JobRun:
    job: str
    matrix: dict[str, Any]
    ok: bool = True
    outputs: dict[str, str] = field(default_factory=dict)
    steps: list[tuple[str, str]] = field(default_factory=list)  # (step, ran|skipped|failed)
    log: str = ""


@dataclass
class Play:
    """One run of the workflow: inputs and secrets as a caller gives them, runner labels
    mapped to environments (an engine each), a checkout to copy, a directory for artifacts."""

    checkout: Path
    work: Path
    inputs: dict[str, Any]
    runners: dict[str, dict[str, str]]
    secrets: dict[str, str] = field(default_factory=dict)
    # What GitHub sets on every runner for the event (GITHUB_REF, GITHUB_SHA, ...).
    github: dict[str, str] = field(default_factory=dict)
    workflow: dict[str, Any] = field(default_factory=load)
    runs: dict[str, list[JobRun]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        defaults = {name: spec.get("default", "") for name, spec in
                    self.workflow["on"]["workflow_call"]["inputs"].items()}
        self.inputs = {**defaults, **self.inputs}
        self.artifacts = self.work / "artifacts"
        self.artifacts.mkdir(parents=True, exist_ok=True)

    def all(self) -> dict[str, list[JobRun]]:
        """Every job, in the order their needs allow."""
        pending = dict(self.workflow["jobs"])
        while pending:
            for job_id, job in list(pending.items()):
                needs = job.get("needs", [])
                needs = [needs] if isinstance(needs, str) else needs
                if all(n in self.runs for n in needs):
                    self.runs[job_id] = self.job(job_id, job, needs)
                    del pending[job_id]
        return self.runs

    def succeeded(self, job_id: str) -> bool:
        return all(r.ok for r in self.runs[job_id])

    def job(self, job_id: str, job: dict[str, Any], needs: list[str]) -> list[JobRun]:
        ctx: dict[str, Any] = {
            "inputs": self.inputs, "secrets": self.secrets,
            "needs": {n: {"outputs": self.runs[n][0].outputs if self.runs[n] else {},
                          "result": "success" if self.succeeded(n) else "failure"}
                      for n in needs}}
        always = str(job.get("if", "")).replace(" ", "") == "${{always()}}"
        if not always and not all(self.succeeded(n) for n in needs):
            return [JobRun(job_id, {}, ok=False, log="skipped: a job it needs failed")]
        matrix = evaluate(job.get("strategy", {}).get("matrix"), ctx)
        if matrix == "" or (matrix and not matrix.get("include")):
            return [JobRun(job_id, {}, ok=False, log="failed: an empty matrix")]
        legs = matrix["include"] if matrix else [{}]
        return [self._leg(job_id, job, {**ctx, "matrix": leg}) for leg in legs]

    def _leg(self, job_id: str, job: dict[str, Any], ctx: dict[str, Any]) -> JobRun:
        run = JobRun(job_id, ctx.get("matrix", {}))
        workspace = self.work / "runners" / f"{job_id}-{len(list(self.work.glob('runners/*')))}"
        shutil.copytree(self.checkout, workspace)
        runner = evaluate(job["runs-on"], ctx)
        # A runner is a machine of its own: its engine is the one its label maps to.
        env = {k: v for k, v in os.environ.items() if k != "DOCKER_HOST"}
        # actions/setup-python's plain equivalent: this Python, with the harness, on PATH.
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        env.update({**self.runners[runner], **self.github, "GITHUB_ACTIONS": "true",
                    "GITHUB_WORKSPACE": str(workspace),
                    "GITHUB_STEP_SUMMARY": str(workspace / "summary.md")})
        env.update({k: as_text(evaluate(v, ctx)) for k, v in job.get("env", {}).items()})
        ctx["steps"] = {}
        failed = False
        log = []
        for n, step in enumerate(job["steps"]):
            name = step.get("name") or step.get("uses") or f"step {n}"
            condition = str(step.get("if", "")).replace(" ", "")
            if failed and condition != "${{always()}}":
                run.steps.append((name, "skipped"))
                continue
            if condition and condition != "${{always()}}" and \
                    evaluate(step["if"], ctx) in (False, "", "false"):
                run.steps.append((name, "skipped"))
                continue
            ok, outputs, out = self._step(step, ctx, env, workspace)
            log.append(f"## {job_id} / {name}\n{out}")
            run.steps.append((name, "ran" if ok else "failed"))
            if step.get("id"):
                ctx["steps"][step["id"]] = {"outputs": outputs}
            failed = failed or not ok
        run.ok = not failed
        run.outputs = {k: as_text(evaluate(v, ctx)) for k, v in job.get("outputs", {}).items()}
        summary = workspace / "summary.md"
        run.log = "\n".join(log) + (f"\n## summary\n{summary.read_text()}"
                                    if summary.exists() else "")
        return run

    def _step(self, step: dict[str, Any], ctx: dict[str, Any], env: dict[str, str],
              workspace: Path) -> tuple[bool, dict[str, str], str]:
        if "uses" in step:
            return self._action(step["uses"].split("@")[0], {
                k: evaluate(v, ctx) for k, v in step.get("with", {}).items()}, workspace)
        script = step["run"]
        if script.strip() == INSTALL:
            return True, {}, "(the harness is installed in this environment)"
        output = workspace / ".github_output"
        output.write_text("")
        step_env = {**env, **{k: as_text(evaluate(v, ctx)) for k, v in step.get("env", {}).items()},
                    "GITHUB_OUTPUT": str(output)}
        (workspace / ".step.sh").write_text(script)
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail",
                               str(workspace / ".step.sh")], cwd=workspace, env=step_env,
                              capture_output=True, text=True, check=False, timeout=1800)
        outputs = dict(line.split("=", 1) for line in output.read_text().splitlines()
                       if "=" in line)
        return proc.returncode == 0, outputs, proc.stdout + proc.stderr

    def _action(self, action: str, with_: dict[str, Any],
                workspace: Path) -> tuple[bool, dict[str, str], str]:
        if action in ("actions/checkout", "actions/setup-python", "docker/setup-qemu-action",
                      "sigstore/cosign-installer"):
            return True, {}, f"({action}: the copy, this machine's Python, QEMU and cosign)"
        if action == "actions/upload-artifact":
            source = workspace / with_["path"]
            files = [f for f in source.rglob("*") if f.is_file()] if source.is_dir() else []
            if not files:
                ok = with_.get("if-no-files-found", "warn") != "error"
                return ok, {}, f"no files in {with_['path']}"
            shutil.copytree(source, self.artifacts / with_["name"])
            return True, {}, f"uploaded {len(files)} files as {with_['name']}"
        if action == "actions/download-artifact":
            target = workspace / with_["path"]
            names = sorted(p.name for p in self.artifacts.iterdir()
                           if fnmatch.fnmatch(p.name, with_.get("pattern", "*")))
            for name in names:
                dest = target if with_.get("merge-multiple") else target / name
                shutil.copytree(self.artifacts / name, dest, dirs_exist_ok=True)
            return True, {}, f"downloaded {names}"
        return False, {}, f"{action}: not known to this player"


if __name__ == "__main__":
    if sys.argv[1:2] != ["shellcheck"]:
        sys.exit("usage: python -m tests.workflow shellcheck FILE...")
    sys.exit(shellcheck([Path(p) for p in sys.argv[2:]]))
