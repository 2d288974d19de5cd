"""One platform's way through a worker: base, build, probe, judge.

:meth:`Pipeline.build` returns what was built (:class:`Built`), :meth:`Pipeline.check` what
was seen (:class:`Checked`); :func:`compose` makes the platform's result of the two. Everything
that can go wrong is caught here and turned into the platform's finding, so one platform failing
never stops the others; the cause is decided by ``harness.core.failures.diagnosis``, and an
exception nothing
expected is a bug of the harness (``internal``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

import docker
import docker.errors

from harness.containers import bases, build, engine, image_layers, probes, pull
from harness.containers import service_run as service
from harness.containers import structure_run as structure
from harness.containers.build import Builder
from harness.containers.stages import BUILT_SUFFIX as BUILT_SUFFIX
from harness.containers.stages import RESULT_SUFFIX as RESULT_SUFFIX
from harness.containers.stages import RUN_FIELD, built_file, result_file
from harness.containers.stages import Built as Built
from harness.containers.stages import Checked as Checked
from harness.containers.stages import compose as compose
from harness.containers.stages import saved_results as saved_results
from harness.core import sinks
from harness.core.answers import baseline
from harness.core.answers.observation import Observation
from harness.core.buildspec import buildcache
from harness.core.buildspec import dockerfile as dockerfile_text
from harness.core.failures.diagnosis import INTERRUPTED_FIX as INTERRUPTED_FIX  # tests
from harness.core.failures.diagnosis import INTERRUPTIONS
from harness.core.failures.errors import HarnessError, UsageError
from harness.core.judging.verdicts import interrupted, judge, with_user_tests
from harness.core.judging.verdicts import was_interrupted as was_interrupted  # tests
from harness.core.outcomes import Kind, RunKind, RunMode
from harness.core.platforms.table import Platform
from harness.core.platforms.unit import Unit
from harness.core.results.finding import Finding
from harness.core.results.platform_result import (
    BuildInfo,
    EngineInfo,
    ImageInfo,
    Phase,
    PlatformResult,
    ProbeTimes,
)
from harness.core.settings import overrides
from harness.distribution import publish
from harness.distribution.registry import MANIFESTS, Registry, unanswered
from harness.machine import emulators, files, runs, slots
from harness.machine.config import HarnessConfig
from harness.machine.debian import debian_suite
from harness.machine.progress import StatusBoard
from harness.machine.reports import REPORT_BYTES

CACHE_ANSWER = 10.0  # seconds --cache's registry has to answer, before the builds use it


class Pipeline:
    """The worker's engine connection and what it has built and checked so far."""

    def __init__(self, cfg: HarnessConfig, digests: dict[str, str] | None = None,
                 run: str = "", engines: engine.Routing | None = None,
                 width: int | None = None) -> None:
        self.cfg = cfg
        self.target = cfg.bake_target  # the Bake target this pipeline builds, if any
        # How many builds the run makes at most at once by default: every unit's (all targets').
        self.width = width or len(cfg.units)
        self.run = run or runs.run_id()  # the run every worker is part of
        # With --ref to a registry: each platform's manifest digest in its index.
        self.digests = dict(digests or {})
        self.built: dict[str, Built] = {}
        self.checked: dict[str, Checked] = {}
        # Another pipeline's engines where given: their connections and facts, asked once.
        self.engines = engines or engine.Routing(cfg.engines)
        self.run_id = uuid.uuid4().hex[:8]
        self.user_tests: dict[str, list[Observation]] = {}
        self.probe_slots = slots.Slots(cfg.report_dir / "status" / "probe-slots",
                                       os.cpu_count() or 1)
        self._cache_lock = threading.Lock()  # the builds of a process run in threads
        self._cache_unanswered: str | None = None  # why --cache's registry gave no answer
        self._cache_asked = False

    def _emulated(self, platform: Platform) -> bool:
        """Whether ``platform`` runs under QEMU on its engine (False where that engine does
        not answer: its build fails on its own)."""
        try:
            return self.engines.mode(platform).kind is RunKind.QEMU
        except HarnessError:
            return False

    def build_slots(self, platform: Platform) -> slots.Slots:
        """The slots of the engine that builds ``platform``: --builds of them (by default one
        per platform: every build at once), shared by every worker of this run there."""
        url = self.engines.url(platform) or engine.chosen().url
        where = hashlib.sha256(url.encode()).hexdigest()[:12]
        return slots.Slots(self.cfg.report_dir / "status" / f"build-slots-{where}",
                           self.cfg.builds or self.width)

    @property
    def client(self) -> docker.DockerClient:
        """The chosen engine's client."""
        return self.engines.client()

    @property
    def facts(self) -> engine.EngineFacts:
        """The chosen engine's facts."""
        return self.engines.facts()

    @property
    def results(self) -> dict[str, PlatformResult]:
        """Each platform this process has seen, composed from its build, its check and the
        user's own pytest checks of it."""
        found = {name: with_user_tests(compose(b, self.checked.get(name)),
                                       self.user_tests.get(name, []))
                 for name, b in self.built.items()}
        for result in found.values():
            result.target = self.target
        return found

    def unit(self, platform: Platform) -> Unit:
        """The unit of work ``platform`` is here: its files and labels are named after it."""
        return Unit(self.target, platform)

    def record_user_test(self, platform: Platform, seen: Observation) -> None:
        """The outcome of a user's pytest check (``--checks DIR``) of ``platform``."""
        self.user_tests.setdefault(platform.name, []).append(seen)
        self.save(platform)

    def save(self, platform: Platform) -> None:
        """The platform's result so far, kept in the report directory as each stage ends: a
        run interrupted before the worker hands its results over keeps its finished work."""
        if platform.name in self.built:
            files.write_atomic(result_file(self.cfg.report_dir, self.unit(platform)),
                               json.dumps(sinks.json_safe({
                                   **self.results[platform.name].to_dict(),
                                   RUN_FIELD: self.run})))

    def _emulation(self, platform: Platform, mode: RunMode) -> probes.Emulation | None:
        """The QEMU the platform's probes run under, where it is emulated."""
        if mode.kind is not RunKind.QEMU or not mode.handler:
            return None
        name = f"QEMU {mode.qemu_version}" if mode.qemu_version else "QEMU"
        return probes.Emulation(name, mode.handler, self.engines.local(platform))

    def _launcher(self, platform: Platform, mode: RunMode) -> Path | None:
        """This machine's QEMU for a platform that runs natively, to ask its baseline CPU
        (mounted into the probe container: only for an engine on this machine)."""
        name = baseline.LAUNCHERS.get(platform.architecture)
        if mode.kind is not RunKind.NATIVE or platform.name not in baseline.CPUS or not name:
            return None
        if not self.engines.local(platform):
            return None
        found = emulators.installed(name)
        return found.path if found else None

    def board(self, platform: Platform) -> StatusBoard:
        return StatusBoard(self.cfg.report_dir / "status", self.unit(platform))

    def _finding(self, platform: Platform, stage: str, exc: Exception) -> tuple[HarnessError,
                                                                                 Finding]:
        """A failure as the platform's finding. The one place that catches what nothing else
        did: an unexpected exception is a bug of the harness (``internal``, exit 70), its
        traceback kept in the platform's log, never taken for a broken image or machine."""
        if not isinstance(exc, HarnessError):
            log = self.cfg.log_dir / f"{self.unit(platform).slug}-{stage}.log"
            files.append_log(log, "".join(traceback.format_exception(exc)))
            exc = HarnessError(f"{platform.name}: the harness failed during the {stage}: "
                               f"{type(exc).__name__}: {exc}",
                               f"this is a bug of the harness: report it with {log}",
                               kind=Kind.INTERNAL, cause="internal")
        return exc, Finding(stage, exc.kind, exc.message, exc.fix, cause=exc.cause or None)

    # -- build ----------------------------------------------------------------------------

    def build(self, platform: Platform) -> Built:
        board = self.board(platform)
        start = time.monotonic()
        mode: RunMode | None = None
        phases: list[Phase] = []

        where: EngineInfo | None = None

        def failed(finding: Finding, error: HarnessError | None = None) -> Built:
            info = BuildInfo(ok=False, seconds=round(time.monotonic() - start, 1))
            return Built(platform, error=error, mode=mode, build=info, finding=finding,
                         engine=where, phases=phases)

        try:
            # The URL first: an engine that does not answer is named in the report too.
            where = EngineInfo(sinks.redact(self.engines.url(platform) or engine.chosen().url))
            facts = self.engines.facts(platform)
            where = EngineInfo(where.url, facts.arch, facts.version, facts.kind)
            mode = self.engines.mode(platform)
            built = self._build(platform, board, mode, phases)
            built.engine, built.phases = where, phases
        except KeyboardInterrupt:
            self.built[platform.name] = failed(interrupted("build"))
            self.save(platform)
            raise
        except Exception as exc:  # every failure becomes this platform's verdict
            if getattr(exc, "cause", "") in INTERRUPTIONS:
                # buildx stopped at the same signal this worker's main thread got (the build
                # runs in xdist's execution thread): the interruption, not the image
                self.built[platform.name] = failed(interrupted("build"))
                self.save(platform)
                raise KeyboardInterrupt("the build was cancelled") from exc
            error, finding = self._finding(platform, "build", exc)
            built = failed(finding, error)
            board.set(f"build {finding.verdict}")
        else:
            board.set("built")
        self.built[platform.name] = built
        self.save(platform)
        return built

    def adopt(self, platform: Platform, poll: float = 0.1) -> Built:
        """The platform's build made by another process of this run (the controller's head
        start, harness.plugin.head_start), once it has ended: waited for, then kept as this
        process's own."""
        path = built_file(self.cfg.report_dir, self.unit(platform))
        while not path.exists():
            time.sleep(poll)
        data = files.read_json(path, REPORT_BYTES)
        if data.get(RUN_FIELD) != self.run:
            # Another run's build (the report directory's lock was not held, say on a file
            # system without locks): its verdict would be reported as this run's.
            message = (f"{platform.name}: the build handed over in {path.parent} is another "
                       "run's: this run's cannot be told from it")
            fix = "give each run its own --report-dir"
            built = Built(platform, error=HarnessError(message, fix),
                          finding=Finding("build", Kind.ERROR, message, fix,
                                          cause="another-run"))
        else:
            built = Built.from_dict(data, platform)
        self.built[platform.name] = built
        self.save(platform)
        return built

    def hand_over(self, built: Built) -> None:
        """The build for the process that adopts it (see adopt)."""
        files.write_atomic(built_file(self.cfg.report_dir, self.unit(built.platform)),
                           json.dumps(sinks.json_safe({**built.to_dict(),
                                                       RUN_FIELD: self.run})))

    def _build(self, platform: Platform, board: StatusBoard, mode: RunMode,
               phases: list[Phase]) -> Built:
        """Base, build and tag; each phase's span goes into ``phases`` as it ends, so a
        failed build keeps what it got through."""
        cfg = self.cfg
        board.set("preparing")
        if not mode.can_run:
            facts = self.engines.facts(platform)
            raise engine.cannot_run(platform, facts.arch, self.engines.url(platform), facts.name)
        if cfg.ref:
            return self._fetch(platform, board, mode, phases)
        board.set("waiting to build")
        queued = time.time()
        # The emulated builds first: they are the long ones (see harness.plugin.scheduling);
        # a native one lets those of its engine ask first.
        emulated = mode.kind is RunKind.QEMU
        url = self.engines.url(platform)
        expect = () if emulated else tuple(
            self.unit(p).slug for p in cfg.platforms if p != platform and
            self.engines.url(p) == url and self._emulated(p))
        slot = self.build_slots(platform)
        with slot.take(rank=int(emulated), label=self.unit(platform).slug, run=self.run,
                       expect=expect) as waited:
            if waited > 0.5:  # the report's timeline shows the wait for a build slot
                phases.append(Phase.between("queue", queued, queued + waited))
            return self._base_and_build(platform, board, mode, phases)

    def _base_and_build(self, platform: Platform, board: StatusBoard, mode: RunMode,
                        phases: list[Phase]) -> Built:
        """The platform's bases and build, in a build slot."""
        cfg = self.cfg
        client = self.engines.client(platform)
        build_args = dict(cfg.build_args)
        log_dir = files.own_dir(cfg.log_dir)
        base_log = log_dir / f"{self.unit(platform).slug}-base.log"

        def say(line: str) -> None:  # where a base came from, in its log and live
            board.line(line)
            files.append_log(base_log, line + "\n")

        # The platform's own engine decides (Podman has no BuildKit, whatever the chosen has).
        builder = build.choose(cfg.builder, client, self.engines.facts(platform).buildx,
                               bool(cfg.secrets), self.engines.url(platform),
                               bool(cfg.build_contexts), bool(cfg.ssh))
        build.check_named_contexts(builder, self.engines.facts(platform).version,
                                   bool(cfg.build_contexts))
        # ARG BASE_IMAGE takes this platform's base; without it, each Debian FROM is served,
        # unmodified, from this platform's base through a named build context.
        images = [cfg.base_image] if cfg.takes_base_arg else self._stage_bases(builder,
                                                                               platform)
        served: dict[str, str] = {}
        if images:
            board.set("base")
            files.open_log(base_log).close()
        cache = self._cache(say)  # said in the base log, made anew just above
        if images:
            began = time.time()
            served = {image: bases.ensure(client, image, platform, mirror=cfg.mirror,
                                          refresh=cfg.refresh_bases, say=say,
                                          log_path=base_log, offline=cfg.offline_bases,
                                          cache=cache)
                      for image in images}
            phases.append(Phase.between("base", began, time.time()))
        contexts = {} if cfg.takes_base_arg else served
        if cfg.takes_base_arg:
            build_args["BASE_IMAGE"] = served[cfg.base_image]
        # Built under a tag of this run's own, and probed by its ID: two runs on one engine
        # never take each other's image. The shared tag moves only once this build is done.
        final = cfg.tag_for(platform)
        own = f"{final}-run-{self.run_id}"
        cache_plan = buildcache.plan(platform, cache, cfg.cache_from, cfg.cache_to,
                                     self.engines.facts(platform).containerd_store)
        request = build.BuildRequest(
            platform=platform, dockerfile=cfg.dockerfile, context=cfg.context,
            tag=own, log_path=log_dir / f"{self.unit(platform).slug}-build.log",
            build_args=build_args, labels={**cfg.labels, "dev.harness.platform": platform.name},
            no_cache=cfg.no_cache, mode=mode.kind, contexts=contexts,
            docker_host=self.engines.url(platform), target=cfg.target, secrets=cfg.secrets,
            cache_from=cache_plan.cache_from, cache_to=cache_plan.cache_to,
            named_contexts={n: c.value for n, c in cfg.build_contexts.items()},
            ssh=tuple(s.flag() for s in cfg.ssh))
        board.set("building")
        began = time.time()
        try:
            try:
                outcome = _build_twice_if_qemu_crashed(builder, request, board)
            finally:  # a failed build has its span too
                phases.append(Phase.between("build", began, time.time()))
            phases.extend(Phase.between("cached" if s.cached else "step", s.start,
                                        s.end or s.start, s.label) for s in outcome.steps)
            client.images.get(outcome.image_id).tag(*bases.split_tag(final))
        finally:
            with contextlib.suppress(*engine.CLIENT_ERRORS):
                client.images.remove(own, noprune=True)
        if cache is not None:
            began = time.time()
            board.set("cache")
            self._write_cache(client, platform, final, cache_plan.push_to,
                              [t for t in served.values() if bases.made_here(client, t)],
                              say)
            phases.append(Phase.between("cache", began, time.time(), cfg.cache))
        return Built(platform, mode=mode,
                     image=ImageInfo(outcome.image_id, final, build_args.get("BASE_IMAGE")),
                     build=BuildInfo(True, outcome.builder, round(outcome.duration, 1),
                                     str(outcome.log_path), contexts or None,
                                     str(cfg.dockerfile), _sha256(cfg.dockerfile),
                                     {k: sinks.redact(v)
                                      for k, v in sorted(build_args.items())}))

    def _cache(self, say: Callable[[str], None]) -> str | None:
        """--cache, where its registry answers: buildx and the engine's pulls wait on a
        registry without a deadline of their own (a silent one held a build 300 s), and a
        cache must never cost this run its answer. Asked once a process, within
        CACHE_ANSWER seconds; one that does not answer is said, and left out of this run."""
        if self.cfg.cache is None:
            return None
        with self._cache_lock:
            if not self._cache_asked:
                self._cache_unanswered = unanswered(self.cfg.cache.split("/", 1)[0],
                                                    insecure=self.cfg.insecure_registry,
                                                    seconds=CACHE_ANSWER)
                self._cache_asked = True
        if self._cache_unanswered is not None:
            say(f"cache: {self.cfg.cache} left out of this run, its registry does not answer: "
                f"{sinks.terminal(self._cache_unanswered)}")
            return None
        return self.cfg.cache

    def _write_cache(self, client: docker.DockerClient, platform: Platform, image: str,
                     push_to: str | None, made: list[str], say: Callable[[str], None]) -> None:
        """After a good build: the image to the cache's tag where its cache is inline (the
        record is in its config), and each base made here beside it. A cache that cannot be
        written costs the next run time, not this one its verdict: it is said, not raised."""
        assert self.cfg.cache is not None
        host, repository = self.cfg.cache.split("/", 1)
        pushes = ([(image, push_to)] if push_to else []) + [
            (base, buildcache.base_tag(self.cfg.cache, base)) for base in made]
        try:
            with Registry(host, insecure=self.cfg.insecure_registry) as registry:
                for local, target in pushes:
                    tag = target.rsplit(":", 1)[1]
                    if _holds(registry, repository, tag, client.images.get(local).id):
                        say(f"cache: {target} holds {local} already")
                        continue  # built from that very cache: nothing new to write
                    entry = publish.push_image(client, registry, repository, local, platform)
                    body = registry.get_manifest(repository, entry.digest)[1]
                    registry.put_manifest(repository, tag, body, entry.media_type)
                    say(f"cache: {local} written to {target}")
        except HarnessError as exc:
            say(f"cache: not written to {self.cfg.cache}: {sinks.terminal(exc.message)}")

    def _stage_bases(self, builder: Builder, platform: Platform) -> list[str]:
        """The Debian images the Dockerfile's stages start FROM, where the builder can serve
        them from the harness's bases (BuildKit's named contexts, Docker 23 and later); a
        usage error where --offline-bases asks for it and the builder cannot."""
        images = [i for i in dockerfile_text.from_images(self.cfg.dockerfile_source)
                  if debian_suite(i)]
        if not images:
            return []
        version = self.engines.facts(platform).version
        if build.takes_named_contexts(builder, version):
            return images
        if self.cfg.offline_bases:
            raise UsageError(
                f"--offline-bases: {', '.join(images)} cannot be replaced by the harness's "
                f"bases with the {builder.name} builder of Docker {version} (named "
                "build contexts need BuildKit through buildx on Docker 23 or later)",
                "declare `ARG BASE_IMAGE=debian:...` and `FROM ${BASE_IMAGE}` in the "
                "Dockerfile, or build on a current Docker with --builder buildx")
        return []

    def _fetch(self, platform: Platform, board: StatusBoard, mode: RunMode,
               phases: list[Phase]) -> Built:
        """--ref: the platform's image of a published tag (by manifest digest) or local image."""
        assert self.cfg.ref is not None
        board.set("pulling")
        start, began = time.monotonic(), time.time()
        image = pull.fetch(self.engines.client(platform), self.cfg.ref, platform, self.digests)
        phases.append(Phase.between("pull", began, time.time()))
        return Built(platform, mode=mode,
                     image=ImageInfo(image, ref=self.cfg.ref,
                                     digest=self.digests.get(platform.name)),
                     build=BuildInfo(True, "pull", round(time.monotonic() - start, 1)))

    # -- check ----------------------------------------------------------------------------

    def check(self, built: Built) -> Checked:
        """The platform's probes and verdict, once a probe slot is free: every platform
        builds at once, but at most one per core is probed at a time (harness.machine.slots),
        an emulated one first (its probes take several times as long: started last, it
        would be the run's tail)."""
        board = self.board(built.platform)
        board.set("waiting to probe")
        queued = time.time()
        emulated = built.mode is not None and built.mode.kind is RunKind.QEMU
        with self.probe_slots.take(rank=int(emulated)) as waited:
            checked = self._check(built, board)
        if waited > 0.5:  # the report's timeline shows the wait for a slot
            checked.phases.insert(0, Phase.between("wait", queued, queued + waited))
        return checked

    def _check(self, built: Built, board: StatusBoard) -> Checked:
        platform = built.platform
        board.set("probing")
        log = self.cfg.log_dir / f"{self.unit(platform).slug}-probe.log"
        start, began = time.monotonic(), time.time()
        try:
            assert built.image is not None and built.image.id is not None
            assert built.mode is not None
            applied = overrides.for_platform(self.cfg.overrides, platform)
            client, url, image = self.engines.client(platform), self.engines.url(platform), \
                built.image.id
            emulation = self._emulation(platform, built.mode)
            probed = probes.observe(client, image, platform, probes.ProbeRequest(
                timeout=self.cfg.probe_timeout, hello_timeout=self.cfg.hello_timeout,
                log_path=log, mode=built.mode.kind, required=self.cfg.require,
                allow_foreign=self.cfg.allow_foreign, native_modules=self.cfg.native_modules,
                native_skip=self.cfg.native_skip, checks=applied.declared(self.cfg.checks),
                docker_host=url, emulation=emulation,
                launcher=self._launcher(platform, built.mode),
                keep_audits=not self.cfg.no_cache,
                keep_answers=self.engines.facts(platform).runtime
                if self.engines.local(platform) else None,
                read_answers=not self.cfg.no_cache))
            found = probed.observations
            spans = probed.without(applied.skipped)  # a skipped source's time is the probe's
            files = applied.structure(self.cfg.structure)
            if any(f.tests for f in files):
                found += structure.observe(client, image, platform, files,
                                           timeout=self.cfg.probe_timeout, log_path=log,
                                           mode=built.mode.kind, docker_host=url,
                                           emulation=emulation)
            services = applied.services(self.cfg.services)
            if services:
                found += service.observe(client, image, platform, services,
                                         mode=built.mode.kind, docker_host=url, log_path=log)
            found = applied.report(found, self.cfg.sources, platform)
            image_layers.name_steps(client, image, found, None if self.cfg.ref else
                                    image_layers.dockerfile(self.cfg.dockerfile_source,
                                                            self.cfg.dockerfile,
                                                            self.cfg.context, self.cfg.target),
                                    in_place=self.engines.local(platform))
            judgement = judge(platform, found, self.engines.facts(platform).arch, built.mode,
                              self.cfg.require)
        except KeyboardInterrupt:
            self.checked[platform.name] = Checked(platform, finding=interrupted("probe"))
            self.save(platform)
            raise
        except Exception as exc:  # every failure becomes this platform's verdict
            error, finding = self._finding(platform, "probe", exc)
            checked = Checked(platform, error=error, finding=finding, probe_log=str(log),
                              phases=[Phase.between("probe", began, time.time())])
            board.set(f"probe {finding.verdict}")
        else:
            total = time.monotonic() - start
            hello_s, audit_s = (_seconds(spans, "hello"), _seconds(spans, "elf-audit"))
            checked = Checked(platform, judgement, found,
                              times=ProbeTimes(round(max(total - _busy(spans), 0.0), 2),
                                               round(hello_s, 2), round(audit_s, 2)),
                              probe_log=str(log), phases=_probe_phases(began, spans))
            board.set(f"{judgement.verdict}")
        self.checked[platform.name] = checked
        self.save(platform)
        return checked


def _holds(registry: Registry, repository: str, tag: str, image_id: str) -> bool:
    """Whether the cache's ``tag`` is the image ``image_id`` already (its config is the
    image's ID)."""
    if not registry.has_manifest(repository, tag):
        return False
    media, body, _ = registry.get_manifest(repository, tag)
    return media in MANIFESTS and registry.document(body, f"GET /v2/{repository}/manifests/"
                                                    f"{tag}").get("config", {}).get("digest") \
        == image_id


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _build_twice_if_qemu_crashed(builder: Builder, request: build.BuildRequest,
                                 board: StatusBoard) -> build.BuildOutcome:
    """The build; once more where QEMU crashed in a step (its bugs are often not
    reproducible), the second attempt's log appended to the first's."""
    try:
        return builder.build(request, on_line=board.line)
    except HarnessError as exc:
        if exc.cause != "emulator-crash":
            raise
        board.line("QEMU crashed in a build step: building again")
        files.append_log(request.log_path, "\n# QEMU crashed in a build step: building again\n")
        return builder.build(replace(request, append_log=True), on_line=board.line)


def _spans(spans: Mapping[str, probes.Span]) -> list[tuple[str, float, float]]:
    """(phase, start, end) of the hello world, the audit, the baseline-CPU run and the
    native modules' loads, where they ran."""
    return [(name, span.started, span.end) for source, name in probes.TIMED.items()
            if (span := spans.get(source)) is not None]


def _probe_phases(began: float, spans: Mapping[str, probes.Span]) -> list[Phase]:
    """The probe's span, and within it the hello world's and the audit's."""
    return [Phase.between("probe", began, time.time()),
            *(Phase.between(name, a, b) for name, a, b in _spans(spans))]


def _busy(spans: Mapping[str, probes.Span]) -> float:
    """The wall time the hello world, the audit and the baseline run took together (the
    first two overlap)."""
    total, reach = 0.0, float("-inf")
    for _name, a, b in sorted(_spans(spans), key=lambda s: s[1]):
        total += max(0.0, b - max(a, reach))
        reach = max(reach, b)
    return total


def _seconds(spans: Mapping[str, probes.Span], source: str) -> float:
    span = spans.get(source)
    return span.seconds if span is not None else 0.0
