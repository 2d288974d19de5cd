"""Start an image and ask it what it is: every source's answer, in one container of the
image (harness.containers.probe_container).

The jobs are modules of their own: the questions and how each answer is read
(``questions``), the one-pass audit of the filesystem (``audit_pass``), the hello world's
compile (``hello``), the baseline-CPU run (``baseline_run``), the answers kept for a rerun
(``answer_cache``). This module orders them: what takes longest starts first, and the rest is
asked beside it.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import functools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker

from harness.containers import (
    answer_cache,
    audit_pass,
    baseline_run,
    hello,
    native_modules,
    questions,
)
from harness.containers.engine import platform_of
from harness.containers.probe_container import Emulation, ImageProbe, local_image, which
from harness.core import extensions, sources
from harness.core import observation as obs
from harness.core.observation import Observation
from harness.core.outcomes import RunKind
from harness.core.platforms import Platform, find
from harness.core.usercheck import DeclaredCheck
from harness.machine import kept

__all__ = ["Emulation", "ImageProbe", "observe"]


def observe(client: docker.DockerClient, image: str, platform: Platform, *,
            timeout: float = 60.0, hello_timeout: float = 600.0,
            log_path: Path | None = None, mode: RunKind | None = None,
            required: frozenset[str] = frozenset(),
            allow_foreign: tuple[str, ...] = (),
            checks: tuple[DeclaredCheck, ...] = (),
            docker_host: str | None = None,
            emulation: Emulation | None = None,
            launcher: Path | None = None,
            keep_audits: bool = False, keep_answers: dict[str, Any] | None = None,
            read_answers: bool = False, native_modules: str = "auto",
            native_skip: tuple[str, ...] = ()) -> list[Observation]:
    """Every source's answer for ``image``, started as ``platform``; ``keep_audits``: read
    back the audits of an image ID audited before, and keep this one's; ``keep_answers``
    (for an engine on this machine, what it runs containers with: EngineFacts.runtime): keep
    this run's answers, and with ``read_answers`` read them back where the same image ran
    before on this machine as it would run now (harness.machine.kept). A platform with
    declared checks is asked again every time: a user's command may depend on what no key
    holds."""
    local = local_image(client, image)
    os_, arch, variant = platform_of(local.attrs)
    # Run the image as what it is: an image of another platform than requested is already a
    # failure (config), and its own answers show what it really holds.
    run_as = find(arch, variant, os=os_) or platform
    name = None
    if keep_answers is not None and not checks:
        name = kept.answers_key(local.id, platform.name, {
            "run_as": run_as.name, "mode": mode, "timeout": timeout,
            "hello_timeout": hello_timeout, "required": sorted(required),
            "allow_foreign": list(allow_foreign),
            "emulation": emulation and [emulation.name, emulation.handler, emulation.local],
            "launcher": launcher and kept.file_stamp(str(launcher)),
            "native": [native_modules, list(native_skip)]}, keep_answers)
        found = answer_cache.read_answers(name, image, log_path) if read_answers else None
        if found is not None:
            return found
    found = _observe(client, local, image, platform, run_as, [obs.config(os_, arch, variant)],
                     timeout=timeout, hello_timeout=hello_timeout, log_path=log_path,
                     mode=mode, required=required, allow_foreign=allow_foreign,
                     checks=checks, docker_host=docker_host, emulation=emulation,
                     launcher=launcher, keep_audits=keep_audits,
                     native_modules=(native_modules, native_skip))
    if name is not None and all(o.error is None for o in found):
        kept.store(name, [{**o.to_dict(), "output": o.output} for o in found],
                   kept.answers_dir())
    return found


def _observe(client: docker.DockerClient, local: docker.models.images.Image, image: str,
             platform: Platform, run_as: Platform, found: list[Observation], *,
             timeout: float, hello_timeout: float,
             log_path: Path | None, mode: RunKind | None, required: frozenset[str],
             allow_foreign: tuple[str, ...], checks: tuple[DeclaredCheck, ...],
             docker_host: str | None, emulation: Emulation | None, launcher: Path | None,
             keep_audits: bool, native_modules: tuple[str, tuple[str, ...]] = ("auto", ())
             ) -> list[Observation]:
    """Every source's answer, asked of a container of ``image`` run as ``run_as``."""
    with ImageProbe(client, image, run_as, timeout=timeout, log_path=log_path,
                    mode=mode, docker_host=docker_host, emulation=emulation,
                    launcher=launcher, local=local) as probe:
        def ask(source: str) -> Observation:
            """A command source of harness.core.sources, its answer read by PARSERS."""
            return questions.answer(probe, source, list(sources.BY_NAME[source].command),
                                    questions.PARSERS[source], required=required)

        # The hello world's compile is the longest probe (under QEMU, most of a platform's
        # checks): it starts as soon as cargo has answered, and everything else is asked
        # beside it. The audit reads the filesystem through the engine and emulates
        # nothing, so it starts at once too; the baseline CPU's runs of the commands that
        # have answered need nothing the compile makes (its binary is run there after it).
        cargo = ask("cargo")
        baseline_cpu = obs.applies("baseline-cpu", platform) and (
            mode is RunKind.QEMU or probe.launcher is not None)
        with _beside() as pool:
            compiled = pool.submit(hello.compile_and_run, probe, cargo, hello_timeout)
            audited = pool.submit(audit_pass.audit_kept, probe, platform, allow_foreign,
                                  keep_audits)
            userland = questions.userland(ask)
            found.extend(userland)
            found.append(questions.packages(probe, userland))
            found.append(ask("uname"))
            found.append(ask("getconf"))
            found.append(questions.elf_answer(probe, "sh-elf", "/bin/sh"))
            found.append(ask("rustc"))
            found.append(questions.elf_answer(probe, "rustc-elf",
                                              which(probe, "rustc")))
            found.append(cargo)
            early = pool.submit(baseline_run.run, probe, platform,
                                baseline_run.answered_commands(found)) if baseline_cpu else None
            found.extend(audited.result())
            found.append(_native(probe, platform, found, *native_modules,
                                 on_baseline=baseline_cpu))
            early_ran = early.result() if early is not None else None
            compiled_ran = compiled.result()
        found.extend(compiled_ran)
        for check in checks:  # a declared check's command must be there: it is required
            seen = questions.answer(probe, check.source, list(check.command),
                                    functools.partial(obs.declared, check, platform=platform),
                                    check.timeout,
                                    required=frozenset({check.source}), status=check.status,
                                    timeout_fix=None if check.timeout is None else
                                    f"raise timeout (now {check.timeout:g} s) in "
                                    f"[tool.harness.checks.{check.name}], or fix the command")
            seen.detail.setdefault("command", check.shown)
            found.append(seen)
        if early_ran is not None:
            late = baseline_run.run(probe, platform, baseline_run.late_commands(found, checks))
            found.append(baseline_run.observation(platform, early_ran, late))
    return found + obs.not_applicable(platform)  # reported as such, never as absent


def _native(probe: ImageProbe, platform: Platform, found: list[Observation], mode: str,
            skip: tuple[str, ...], *, on_baseline: bool) -> Observation:
    """The audit's native modules, loaded (containers.native_modules); none found, or
    ``native-modules = "off"``: nothing is run."""

    audited = next((o for o in found if o.source == "elf-audit"), None)
    listed = audited.detail.pop("native_modules", []) if audited is not None else []
    if mode == "off":
        return obs.native_modules({"mode": "off", "count": len(listed)})
    if not listed:
        return obs.absent("native-modules")
    return native_modules.load_all(probe, platform, [extensions.Module(**m) for m in listed],
                                   on_baseline=on_baseline, skip=skip)


@contextlib.contextmanager
def _beside() -> Iterator[concurrent.futures.ThreadPoolExecutor]:
    """Threads for the probes that run beside the others. On the way out by an error or
    Ctrl-C nothing waits for them: the probe's container is removed next, which ends the
    commands they wait on (a compile under QEMU can take minutes)."""
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=3)
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
