"""One platform's way through a worker: base, build, probe, judge, with its result kept.

Everything that can go wrong is caught here and turned into the platform's verdict, so one
platform failing never stops the others: a failing RUN step is ``fail``, an engine, handler or
mirror that lets the machine down is ``error``.
"""

from __future__ import annotations

import re
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker

from harness import bases, build, check_ref, engine, probes
from harness.config import HarnessConfig
from harness.errors import HarnessError, NoEmulation
from harness.host import RunMode, no_handler_fix, read_handlers, run_mode
from harness.observation import Observation
from harness.outcomes import Kind
from harness.platforms import Platform
from harness.progress import StatusBoard
from harness.report import PlatformResult
from harness.verdicts import Finding, Judgement, judge


@dataclass
class Built:
    platform: Platform
    tag: str | None = None
    image_id: str | None = None
    error: HarnessError | None = None


@dataclass
class Checked:
    platform: Platform
    judgement: Judgement | None = None
    observations: list[Observation] = field(default_factory=list)
    error: HarnessError | None = None


class Pipeline:
    """The worker's engine connection and what it has built and checked so far."""

    def __init__(self, cfg: HarnessConfig) -> None:
        self.cfg = cfg
        self.results: dict[str, PlatformResult] = {}
        self._client: docker.DockerClient | None = None
        self._facts: engine.EngineFacts | None = None
        self.index: check_ref.IndexCheck | None = None  # set by the plugin with --ref

    @property
    def client(self) -> docker.DockerClient:
        if self._client is None:
            self._client = engine.client()
        return self._client

    @property
    def facts(self) -> engine.EngineFacts:
        if self._facts is None:
            self._facts = engine.facts(self.client)
        return self._facts

    def mode(self, platform: Platform) -> RunMode:
        return run_mode(platform, self.facts.arch, read_handlers())

    def result(self, platform: Platform) -> PlatformResult:
        return self.results.setdefault(platform.name, PlatformResult(platform.name))

    def board(self, platform: Platform) -> StatusBoard:
        return StatusBoard(self.cfg.report_dir / "status", platform)

    # -- build ----------------------------------------------------------------------------

    def build(self, platform: Platform) -> Built:
        result = self.result(platform)
        board = self.board(platform)
        start = time.monotonic()
        try:
            built = self._build(platform, board, result)
        except KeyboardInterrupt:
            _interrupted(result, "build")
            raise
        except Exception as exc:  # every failure becomes this platform's verdict
            error = self._failed(platform, result, "build", exc)
            result.build.update(ok=False, seconds=round(time.monotonic() - start, 1))
            board.set(f"build {result.verdict}")
            return Built(platform, error=error)
        board.set("built")
        return built

    def _failed(self, platform: Platform, result: PlatformResult, stage: str,
                exc: Exception) -> HarnessError:
        """Record a failure as the platform's finding. The one place that catches what nothing
        else did: an unexpected exception is a bug of the harness (``internal``, exit 70), its
        traceback kept in the platform's log, never taken for a broken image or machine."""
        if not isinstance(exc, HarnessError):
            log = self.cfg.log_dir / f"{platform.slug}-{stage}.log"
            log.parent.mkdir(parents=True, exist_ok=True)
            with log.open("a", encoding="utf-8") as fh:
                fh.write("".join(traceback.format_exception(exc)))
            exc = HarnessError(f"{platform.name}: the harness failed during the {stage}: "
                               f"{type(exc).__name__}: {exc}",
                               f"this is a bug of the harness: report it with {log}",
                               kind=Kind.INTERNAL, cause="internal")
        result.findings.append(Finding(stage, exc.kind, exc.message, exc.fix))
        result.verdict = exc.kind.verdict
        return exc

    def _build(self, platform: Platform, board: StatusBoard, result: PlatformResult) -> Built:
        cfg = self.cfg
        board.set("preparing")
        mode = self.mode(platform)
        result.run = mode.to_dict()
        if not mode.can_run:
            raise NoEmulation(f"{platform.name} cannot run on this {self.facts.arch} host: "
                              "no QEMU handler is registered for it", no_handler_fix(platform))
        if cfg.ref:
            return self._fetch(platform, board, result)
        build_args = dict(cfg.build_args)
        log_dir = cfg.log_dir
        log_dir.mkdir(parents=True, exist_ok=True)
        if declares_base_arg(cfg.dockerfile):
            board.set("base")
            base_log = log_dir / f"{platform.slug}-base.log"
            base_log.write_text("")
            build_args["BASE_IMAGE"] = bases.ensure(
                self.client, cfg.base_image, platform, mirror=cfg.mirror,
                refresh=cfg.refresh_bases, say=board.line, log_path=base_log)
        builder = build.choose(cfg.builder, self.client, self.facts.buildx)
        board.set("building")
        request = build.BuildRequest(
            platform=platform, dockerfile=cfg.dockerfile, context=cfg.context,
            tag=cfg.tag_for(platform), log_path=log_dir / f"{platform.slug}-build.log",
            build_args=build_args, labels={"dev.harness.platform": platform.name},
            no_cache=cfg.no_cache, mode=mode.kind)
        outcome = builder.build(request, on_line=board.line)
        result.image = {"tag": outcome.tag, "id": outcome.image_id,
                        "base": build_args.get("BASE_IMAGE")}
        result.build = {"ok": True, "builder": outcome.builder,
                        "seconds": round(outcome.duration, 1), "log": str(outcome.log_path)}
        return Built(platform, outcome.tag, outcome.image_id)

    def _fetch(self, platform: Platform, board: StatusBoard, result: PlatformResult) -> Built:
        """--ref: the platform's image of a published tag (by manifest digest) or local image."""
        assert self.cfg.ref is not None
        board.set("pulling")
        start = time.monotonic()
        entries = self.index.entries if self.index else {}
        image = check_ref.fetch(self.client, self.cfg.ref, platform, entries)
        result.image = {"ref": self.cfg.ref, "id": image, "digest": entries.get(platform.name)}
        result.build = {"ok": True, "builder": "pull",
                        "seconds": round(time.monotonic() - start, 1)}
        return Built(platform, image, image)

    # -- check ----------------------------------------------------------------------------

    def check(self, built: Built) -> Checked:
        platform = built.platform
        result = self.result(platform)
        board = self.board(platform)
        board.set("probing")
        log = self.cfg.log_dir / f"{platform.slug}-probe.log"
        start = time.monotonic()
        try:
            assert built.tag is not None
            found = probes.observe(self.client, built.tag, platform,
                                   timeout=self.cfg.probe_timeout,
                                   hello_timeout=self.cfg.hello_timeout, log_path=log,
                                   mode=self.mode(platform).kind, required=self.cfg.require)
        except KeyboardInterrupt:
            _interrupted(result, "probe")
            raise
        except Exception as exc:  # every failure becomes this platform's verdict
            error = self._failed(platform, result, "probe", exc)
            board.set(f"probe {result.verdict}")
            return Checked(platform, error=error)
        total = time.monotonic() - start
        hello = next((o for o in found if o.source == "hello"), None)
        hello_s = float(hello.detail.get("seconds", 0.0)) if hello else 0.0
        judgement = judge(platform, found, self.facts.arch, self.mode(platform),
                          self.cfg.require)
        result.verdict = judgement.verdict
        result.findings = judgement.findings
        result.observed = {o.source: _observed(o) for o in found}
        result.probe_seconds = round(total - hello_s, 2)
        result.hello_seconds = round(hello_s, 2)
        result.probe_log = str(log)
        board.set(f"{judgement.verdict}")
        return Checked(platform, judgement, found)


def _interrupted(result: PlatformResult, stage: str) -> None:
    result.verdict = Kind.ERROR.verdict
    result.findings.append(Finding(stage, Kind.ERROR, f"the {stage} was interrupted",
                                   "run again to check this platform"))


def declares_base_arg(dockerfile: Path) -> bool:
    """Whether the Dockerfile takes ``ARG BASE_IMAGE``, the hook for per-platform bases."""
    try:
        text = dockerfile.read_text()
    except OSError:
        return False
    return re.search(r"^\s*ARG\s+BASE_IMAGE\b", text, re.MULTILINE | re.IGNORECASE) is not None


def _observed(o: Observation) -> dict[str, Any]:
    data = o.to_dict()
    data.pop("source")
    data["fits"] = list(o.fits)
    return data
