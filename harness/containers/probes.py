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
from harness.containers.probe_request import ProbeRequest
from harness.containers.probe_result import TIMED, Probed, Span, Timed
from harness.core.answers import extensions, module_notes, sources
from harness.core.answers import observation as obs
from harness.core.answers.observation import Observation
from harness.core.outcomes import RunKind
from harness.core.platforms.table import Platform, find

__all__ = ["TIMED", "Emulation", "ImageProbe", "ProbeRequest", "Probed", "Span", "observe"]


def observe(client: docker.DockerClient, image: str, platform: Platform,
            request: ProbeRequest | None = None) -> Probed:
    """Every source's answer for ``image``, started as ``platform``, asked as ``request``
    says, with the probe's timed parts; answers kept and read back as it says too. A platform
    with declared checks is asked again every time: a user's command may depend on what no
    key holds."""
    request = request or ProbeRequest()
    local = local_image(client, image)
    os_, arch, variant = platform_of(local.attrs)
    # Run the image as what it is: an image of another platform than requested is already a
    # failure (config), and its own answers show what it really holds.
    run_as = find(arch, variant, os=os_) or platform
    name = request.answers_key(local.id, platform, run_as) if request.kept_answers else None
    if name is not None and request.read_answers:
        found = answer_cache.read_answers(name, image, request.log_path)
        if found is not None:
            return found
    probed = _observe(client, local, image, platform, run_as, obs.config(os_, arch, variant),
                      request)
    if name is not None:
        answer_cache.store(name, probed.observations)
    return probed


def _observe(client: docker.DockerClient, local: docker.models.images.Image, image: str,
             platform: Platform, run_as: Platform, config: Observation,
             request: ProbeRequest) -> Probed:
    """Every source's answer, asked of a container of ``image`` run as ``run_as``."""
    found: list[Observation] = [config]
    spans: dict[str, Span] = {}
    with ImageProbe(client, image, run_as, timeout=request.timeout,
                    log_path=request.log_path, mode=request.mode,
                    docker_host=request.docker_host, emulation=request.emulation,
                    launcher=request.launcher, local=local) as probe:
        def ask(source: str) -> Observation:
            """A command source of harness.core.answers.sources, its answer read by its reader
            in the core (observation.READERS)."""
            return questions.answer(probe, source, list(sources.BY_NAME[source].command),
                                    obs.READERS[source], required=request.required)

        def timed(source: str, job: Timed) -> list[Observation]:
            if job.span is not None:
                spans[source] = job.span
            return job.found

        # The hello world's compile is the longest probe (under QEMU, most of a platform's
        # checks): it starts as soon as cargo has answered, and everything else is asked
        # beside it. The audit reads the filesystem through the engine and emulates
        # nothing, so it starts at once too; the baseline CPU's runs of the commands that
        # have answered need nothing the compile makes (its binary is run there after it).
        cargo = ask("cargo")
        baseline_cpu = obs.applies("baseline-cpu", platform) and (
            request.mode is RunKind.QEMU or probe.launcher is not None)
        with _beside() as pool:
            compiled = pool.submit(hello.compile_and_run, probe, cargo, request.hello_timeout)
            audited = pool.submit(audit_pass.audit_kept, probe, platform,
                                  request.allow_foreign, request.keep_audits)
            userland = questions.userland(ask)
            found.extend(userland)
            found.append(questions.packages(probe, userland))
            found.append(ask("uname"))
            found.append(ask("getconf"))
            found.append(questions.elf_answer(probe, "sh-elf", "/bin/sh"))
            found.append(ask("rustc"))
            found.append(questions.elf_answer(probe, "rustc-elf", which(probe, "rustc")))
            found.append(cargo)
            found.extend(map(ask, unasked(found)))
            early = pool.submit(baseline_run.run, probe, platform,
                                baseline_run.answered_commands(found)) if baseline_cpu else None
            found.extend(timed("elf-audit", audited.result()))
            found.extend(timed("native-modules", _native(probe, platform, found, request,
                                                         on_baseline=baseline_cpu)))
            early_ran = early.result() if early is not None else None
            compiled_ran = compiled.result()
        found.extend(timed("hello", compiled_ran))
        for check in request.checks:  # a declared check's command must be there: required
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
            late = baseline_run.run(probe, platform,
                                    baseline_run.late_commands(found, request.checks))
            found.extend(timed("baseline-cpu",
                               baseline_run.observation(platform, early_ran, late)))
    # Reported as such, never as absent.
    return Probed(found + obs.not_applicable(platform), spans)


def _native(probe: ImageProbe, platform: Platform, found: list[Observation],
            request: ProbeRequest, *, on_baseline: bool) -> Timed:
    """The audit's native modules, loaded (containers.native_modules); none found, or
    ``native-modules = "off"``: nothing is run."""
    audited = next((o for o in found if o.source == "elf-audit"), None)
    listed = audited.detail.pop("native_modules", []) if audited is not None else []
    if request.native_modules == "off":
        return Timed([obs.native_modules(module_notes.NativeModules.off(len(listed)))])
    if not listed:
        return Timed([obs.absent("native-modules")])
    return native_modules.load_all(probe, platform, [extensions.Module(**m) for m in listed],
                                   on_baseline=on_baseline, skip=request.native_skip)


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


def unasked(found: list[Observation]) -> list[str]:
    """The command sources of the table that none of the questions above asked (one added
    since), in the table's order: asked after them, so that a new source is its entry in
    harness.core.answers.sources and its reader in harness.core.answers.observation. The
    userlands are not: the one that answered stands for the others."""
    asked = {o.source for o in found}
    return [s.name for s in sources.BUILTIN
            if s.command and s.name not in asked and s.name not in sources.USERLANDS]
