"""``python -m harness publish|merge``: what `nox -s publish` and `nox -s merge` run.

publish: push every built platform image by digest to each ``--registry HOST[:PORT]/REPO``,
write a digest file per platform, then one index under every ``--tag`` and every tag the
``--tag-template``s give (unless ``--no-index``, for a CI matrix job whose merge happens
elsewhere). The manifests and the index carry OCI annotations (harness.core.buildspec.metadata).

merge: write one index under every ``--tag`` from digest files (``--from FILE_OR_DIR``) and
references (``HOST/REPO:TAG`` or ``@sha256:…``, plain manifests or indexes).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import re
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import docker

from harness.containers import engine
from harness.containers.bases import matches
from harness.core import sinks
from harness.core.buildspec import destinations, metadata
from harness.core.buildspec.metadata import Annotated
from harness.core.clock import epoch, stamp
from harness.core.failures.errors import HarnessError, UsageError
from harness.core.oci.reference import parse_reference
from harness.core.outcomes import Exit
from harness.core.platforms.table import Platform, parse_platform
from harness.core.platforms.unit import unit_name
from harness.core.reporting import attest
from harness.core.reporting.report import Report
from harness.core.results.platform_result import BuildInfo, ImageInfo, Phase, PlatformResult
from harness.core.settings import options
from harness.distribution import attestations, publish
from harness.distribution.publish import Entry
from harness.distribution.registry import Registry, is_loopback
from harness.distribution.signing import Signer
from harness.machine import config as harness_config
from harness.machine import podman, runs, vcs
from harness.machine.reports import read_report, write_reports

TAG = metadata.TAG


def _registry_arg(text: str) -> tuple[str, str]:
    host_part = text.split("/", 1)[0]
    if "@" in host_part:
        # Never echo it: the part before '@' is a password.
        raise UsageError("--registry carries credentials (USER:PASSWORD@HOST)",
                         "give HOST[:PORT]/REPO and log in with `docker login HOST`; the "
                         "harness uses docker's stored credentials")
    if "://" in text:
        raise UsageError(f"--registry {text!r} has a scheme",
                         "give HOST[:PORT]/REPO; plain HTTP is for loopback or "
                         "--insecure-registry")
    ref = parse_reference(text)
    if ref.tag or ref.digest:
        raise UsageError(f"--registry {text!r} names a tag or digest",
                         "give HOST[:PORT]/REPOSITORY; tags go in --tag")
    return ref.host, ref.repository


def _checked_tags(tags: list[str]) -> list[str]:
    for tag in tags:
        if not TAG.fullmatch(tag):
            raise UsageError(f"--tag {tag!r} is not a tag",
                             "a tag is up to 128 letters, digits, _ . and - (not / ? or :)")
    return tags


def _open(host: str, insecure: bool) -> Registry:
    _say_plain_http(host, insecure)
    return Registry(host, insecure=insecure)


def _say_plain_http(host: str, insecure: bool) -> None:
    if not is_loopback(host) and insecure:
        print(f"publish: speaking plain HTTP to {host}, as --insecure-registry allows",
              file=sys.stderr)


def _push_all(pushes: dict[Platform, tuple[docker.DockerClient, str]], host: str, repo: str,
              insecure: bool, digests: Path, spans: dict[str, Phase],
              evidence: dict[str, PlatformResult] | None = None,
              facts: dict[str, attest.BuildFacts] | None = None,
              annotated: Annotated | None = None,
              target: str | None = None) -> list[Entry]:
    """Every platform at once, each from its engine over a connection of its own: one
    platform's export and compression overlap another's upload. The entries come back in
    the platforms' order; when one fails, the others finish and the first error is raised
    (so no index is written). Each push's span goes into ``spans``. With ``evidence`` (each
    platform's entry of the build's report.json) and ``facts``, each platform's attestation
    manifest is pushed after its image."""
    def push(platform: Platform, client: docker.DockerClient, image: str) -> tuple[Entry, int]:
        began = time.time()
        try:
            with Registry(host, insecure=insecure) as registry:
                entry = publish.push_image(client, registry, repo, image, platform,
                                           (annotated or Annotated()).of_manifest(platform.name))
                if evidence is not None and facts is not None:
                    made = attest.statements(evidence[platform.name], f"{host}/{repo}",
                                             entry.digest, facts[platform.name])
                    entry = replace(entry, attestation=attestations.push(
                        registry, repo, made, entry.digest))
                return entry, registry.uploaded_blobs
        finally:
            spans[unit_name(target, platform.name)] = Phase.between(
                "publish", began, time.time(), f"{host}/{repo}")

    done: dict[Platform, Entry] = {}
    failed: list[HarnessError] = []
    with ThreadPoolExecutor(max_workers=len(pushes)) as pool:
        running = {pool.submit(push, p, client, image): p
                   for p, (client, image) in pushes.items()}
        for future in as_completed(running):
            p = running[future]
            try:
                entry, uploaded = future.result()
            except HarnessError as exc:
                print(f"publish: {p.name} failed: {exc.message}", file=sys.stderr, flush=True)
                failed.append(exc)
                continue
            entry.write(digests)
            done[p] = entry
            print(f"pushed {p.name} as {host}/{repo}@{entry.digest} ({uploaded} blobs "
                  "uploaded)", flush=True)
    if failed:
        raise failed[0]
    return [done[p] for p in pushes]


def _digest_dir(base: Path, host: str, repo: str) -> Path:
    return base / re.sub(r"[^\w.-]", "_", f"{host}/{repo}")


def _setting(args: argparse.Namespace, key: str, settings: dict[str, object]) -> Any:
    """An option's value from the command line, else from [tool.harness], checked by its
    entry; None where neither gives it."""
    if getattr(args, key):
        return options.BY_KEY[key].convert(getattr(args, key), "command line")
    if settings.get(key) is not None:
        return options.BY_KEY[key].convert(settings[key], "pyproject.toml")
    return None


def _listed(args: argparse.Namespace, key: str, settings: dict[str, object]) -> list[str]:
    """A list option (empty where neither gives it)."""
    return list(_setting(args, key, settings) or [])


def publish_main(argv: list[str]) -> int:
    parser = options.argument_parser("publish")
    parser.add_argument("--digest-dir", default=None,
                        help="where digest files go (default REPORT_DIR/digests)")
    parser.add_argument("--no-index", action="store_true", help="push by digest only")
    args, _unknown = parser.parse_known_args(argv)
    cfg = harness_config.load(Path.cwd(), platforms=args.platforms, image=args.image,
                              report_dir=args.report_dir, engines=args.engines,
                              docker_context=args.docker_context, bake=args.bake)
    engine.select_context(cfg.docker_context)  # the engine the build's images are on
    engine.chosen()  # an unknown context: one line, before anything is pushed
    settings = harness_config.read_pyproject(Path.cwd())
    registries = _listed(args, "registries", settings)
    for target in registries:  # every name checked before anything is pushed
        _registry_arg(target)
    # Several Bake targets may each name their own repositories and tags (checked target by
    # target in _publish).
    several = len(cfg.bake_targets) > 1
    if not registries and not several:
        raise UsageError("no registry to publish to", "pass --registry HOST[:PORT]/REPO")
    meta = _metadata(args, settings, cfg.report_dir)
    if not meta.tags and not args.no_index and not several:
        if not meta.templated:
            raise UsageError("no tag to write",
                             "pass --tag T or --tag-template (or --no-index to push by digest)")
        print("publish: the tag templates give no tag for this ref; pushing by digest only",
              file=sys.stderr)
    # The build's report is read and written back (its publish phases): no build may run in
    # the same directory meanwhile.
    with runs.ReportDirLock(cfg.report_dir):
        # --engine podman: the build's end stopped the service; publish reads its images
        # through it, so it starts the service for the push and stops what it started.
        started = podman.wanted(cfg.engines) and podman.start(
            say=lambda line: print(f"publish: {line}", flush=True))
        try:
            return _publish(args, cfg, settings, registries, meta)
        finally:
            if started:
                podman.stop(say=lambda line: print(f"publish: {line}", flush=True))


def _publish(args: argparse.Namespace, cfg: harness_config.HarnessConfig,
             settings: dict[str, object], registries: list[str], meta: _Metadata) -> int:
    attesting = not (args.no_attest or cfg.no_attest)
    report_path = cfg.report_dir / "report.json"
    report = read_report(report_path) if report_path.is_file() else None
    targets = list(dict.fromkeys(e.target for e in report.platforms if e.target)) \
        if report else []
    if report is None and attesting:
        raise UsageError(f"no report of the build in {cfg.report_dir}: the attestations are "
                         "made from it", NO_REPORT_FIX)
    digest_base = Path(args.digest_dir) if args.digest_dir else cfg.report_dir / "digests"
    key = _sign_key(args, settings)
    spans: dict[str, Phase] = {}
    if len(targets) <= 1 or report is None:  # one index of the run's platforms
        if not registries:
            raise UsageError("no registry to publish to", "pass --registry HOST[:PORT]/REPO")
        plan = [(targets[0] if targets else None, report,
                 [_destination(r, meta.tags) for r in registries], digest_base)]
    else:  # one index per target, under its own tags (harness.core.buildspec.destinations)
        given = [_registry_arg(r) for r in registries]
        plan = [(t, replace(report, platforms=tuple(e for e in report.platforms
                                                     if e.target == t)),
                 list(destinations.of_target(t, _definition_tags(cfg, t), given, meta.tags)),
                 digest_base / t) for t in targets]
        if not args.no_index:
            for t, _r, dests, _d in plan:
                for d in dests:
                    if not d.tags:
                        raise UsageError(f"no tag to write for Bake target "
                                         f"{sinks.terminal(t or '', 80)} in {d.name}",
                                         "give the target tags in its definition, or pass "
                                         "--tag (or --no-index)")
    # Every signer made (its key and each repository checked) and every target's images
    # found on their engines before anything of any target is pushed.
    signers = {d.name: _signer(key, d.name, args.insecure_registry)
               for _t, _r, dests, _d in plan for d in dests} if key else {}
    wanted = cfg.platforms if args.platforms else None
    if wanted is not None and len(plan) > 1:  # --platform: the targets built for it
        plan = [w for w in plan if w[1] is None or any(e.platform in {p.name for p in wanted}
                                                       for e in w[1].platforms)] or plan
    pushes = [_pushes(cfg, target, sub, wanted, report_path) for target, sub, _d, _g in plan]
    try:
        for (target, sub, dests, digests), found in zip(plan, pushes, strict=True):
            _publish_target(args, target, sub, dests, digests, meta, attesting, signers,
                            spans, found)
    finally:
        _add_to_report(cfg.report_dir, spans)
    return Exit.OK


def _destination(registry: str, tags: list[str]) -> destinations.Destination:
    host, repo = _registry_arg(registry)
    return destinations.Destination(host, repo, tuple(tags))


def _definition_tags(cfg: harness_config.HarnessConfig, target: str) -> tuple[str, ...]:
    """The target's tags in the Bake definition publish read (--bake, or ``bake`` of
    [tool.harness]); none where it read none or no such target."""
    own = cfg.for_target(target)
    return own.bake_tags if own.bake_target == target else ()


def _pushes(cfg: harness_config.HarnessConfig, target: str | None, report: Report | None,
            wanted: list[Platform] | None, report_path: Path
            ) -> dict[Platform, tuple[docker.DockerClient, str]]:
    """Each platform's image of one target (the run's, without --bake), with the engine it
    is on: checked there, before anything is pushed."""
    # The images the build's report names, by ID; only without one (--no-attest, images
    # built elsewhere), the local tags. With several targets, a target's platforms of
    # --platform (a target not built for one is left out above).
    if report is not None and wanted is not None and target is not None:
        built = {e.platform for e in report.platforms}
        wanted = [p for p in wanted if p.name in built] or wanted
    images = publish.reported_images(report, wanted, report_path) if report is not None \
        else {p: cfg.tag_for(p) for p in cfg.platforms}
    # Each platform is pushed from the engine it was built on (--engine PLATFORM=URL).
    clients = {url: engine.client(url=url or None) for url in
               {cfg.engines.get(p.name, "") for p in images}}
    pushes = {}
    for p, image in images.items():
        client = clients[cfg.engines.get(p.name, "")]
        if not engine.image_exists(client, image) or not matches(client, image, p):
            if report is None:
                raise UsageError(f"no built {p.name} image {image}",
                                 f"build it first: nox -s build -- --platform {p.name}")
            there = engine.image_exists(client, image)
            raise UsageError(f"the {p.name} image {image[:19]} that {report_path} names is "
                             + ("of another platform" if there else "not on the engine"),
                             "build again with the same --report-dir: "
                             f"nox -s build -- --platform {p.name}")
        if report is not None and cfg.image_given:
            _same_as_named(client, cfg.for_target(target).tag_for(p), image, p, report_path)
        pushes[p] = (client, image)
    return pushes


def _publish_target(args: argparse.Namespace, target: str | None, report: Report | None,
                    dests: list[destinations.Destination], digest_base: Path,
                    meta: _Metadata, attesting: bool, signers: dict[str, Signer],
                    spans: dict[str, Phase],
                    pushes: dict[Platform, tuple[docker.DockerClient, str]]) -> None:
    """Push one target's platforms (the run's, without --bake) to each destination, then
    write its index there under the destination's tags."""
    annotated = meta.annotated(list(pushes))
    evidence, facts = _evidence(report, pushes) if attesting and report is not None else \
        (None, None)
    for d in dests:
        _say_plain_http(d.host, args.insecure_registry)
        entries = _push_all(pushes, d.host, d.repository, args.insecure_registry,
                            _digest_dir(digest_base, d.host, d.repository), spans, evidence,
                            facts, annotated, target)
        signer = signers.get(d.name)
        tags = list(d.tags)
        if signer is not None:
            _attest_signed(signer, d.host, d.repository, entries, evidence, facts,
                           sign_each=args.no_index or not tags)
        if not args.no_index and tags:
            with Registry(d.host, insecure=args.insecure_registry) as registry:
                _tag(registry, d.host, d.repository, entries, tags, annotated,
                     None if signer is None else signer.index_signer(d.name))


NO_REPORT_FIX = ("build first with the same --report-dir (nox -s build), or publish with "
                 "--no-attest")


def _same_as_named(client: docker.DockerClient, tag: str, image_id: str, platform: Platform,
                   report_path: Path) -> None:
    """With --image and a build's report: the image named is the one the report speaks of,
    or nothing is pushed (the attestations would speak of another build)."""
    named = client.images.get(tag).id if engine.image_exists(client, tag) else None
    if named != image_id:
        raise UsageError(f"{report_path} is not of the {platform.name} image {tag} "
                         f"({(named or 'not on the engine')[:19]}): it names "
                         f"{image_id[:19]}", "publish without --image, to push the images "
                         "the report names, or build that image with this --report-dir")


@dataclass(frozen=True)
class _Metadata:
    """The tags to write (``--tag`` as given, then the ``--tag-template``s rendered from git's
    ref and commit, as docker/metadata-action renders them), whether templates were given,
    and what the annotations are made of."""

    tags: list[str]
    templated: bool
    annotations: list[str]  # the user's --annotation texts
    defaults: dict[str, str]  # created, revision, source, version

    def annotated(self, platforms: list[Platform]) -> Annotated:
        return metadata.annotate(self.annotations, platforms, self.defaults)


def _metadata(args: argparse.Namespace, settings: dict[str, object],
              report_dir: Path | None) -> _Metadata:
    """Every tag line rendered and checked, git asked once, before anything is pushed."""
    plain = _checked_tags(_listed(args, "tags", settings))
    templates = _listed(args, "tag_templates", settings)
    context = vcs.context(Path.cwd())
    rendered = metadata.render_tags(plain + templates, context)
    return _Metadata(rendered.tags, bool(templates), _listed(args, "annotations", settings),
                     metadata.standard(context, rendered.version, _created(report_dir)))


def _sign_key(args: argparse.Namespace, settings: dict[str, object]) -> Path | None:
    """--sign KEY, else ``sign`` of [tool.harness]; None: no signing."""
    key = _setting(args, "sign", settings)
    return Path(key) if key else None


def _signer(key: Path, target: str, insecure: bool) -> Signer:
    host, repo = _registry_arg(target)
    if any(len(part) < 2 for part in repo.split("/")):
        # go-containerregistry, which cosign reads references with, refuses them.
        raise UsageError(f"--registry {target}: cosign cannot sign in a repository named "
                         "with a one-character part", "name the repository with 2 or more")
    return Signer(key, host, insecure)


def _attest_signed(signer: Signer, host: str, repo: str, entries: list[Entry],
                   evidence: dict[str, PlatformResult] | None,
                   facts: dict[str, attest.BuildFacts] | None, sign_each: bool) -> None:
    """Each platform's verification statement as a cosign attestation of its manifest (where
    publish attests), and each manifest signed where no index will be (--no-index)."""
    for entry in entries:
        reference = f"{host}/{repo}@{entry.digest}"
        if evidence is not None and facts is not None:
            signer.attest(reference, attest.VERIFICATION,
                          attest.verification(evidence[entry.platform], facts[entry.platform]))
        if sign_each:
            signer.sign(reference)
        print(f"signed {entry.platform} ({reference})", flush=True)


def _created(report_dir: Path | None) -> str:
    """When the image was made, as ``org.opencontainers.image.created`` says it: the
    ``SOURCE_DATE_EPOCH`` of a reproducible build, else the start of the build's run (so a
    publish again of the same build writes the same manifests), else now."""
    fixed = os.environ.get("SOURCE_DATE_EPOCH", "")
    when = float(fixed) if fixed.isdigit() else None
    path = report_dir / "report.json" if report_dir else None
    if when is None and path is not None and path.is_file():
        try:
            run = read_report(path).run
            when = epoch(run.start) if run else None
        except (UsageError, KeyError, TypeError, ValueError):
            when = None
    return stamp(time.time() if when is None else when).replace("+00:00", "Z")


def _evidence(report: Report,
              pushes: dict[Platform, tuple[docker.DockerClient, str]]
              ) -> tuple[dict[str, PlatformResult], dict[str, attest.BuildFacts]]:
    """What the attestations are made of: each platform's entry of the build's report.json
    (which names the very images about to be pushed, by ID), and the build's facts."""
    by_platform = {e.platform: e for e in report.platforms}
    host = report.host
    repository, revision = vcs.describe(Path.cwd())
    run = report.run
    facts = {}
    for p, (client, _image) in pushes.items():
        # What the report says was built: the Dockerfile, its digest, the arguments, the
        # bases (each base's image ID, where this engine still has it).
        built = by_platform[p.name].build or BuildInfo(ok=False)
        image = by_platform[p.name].image or ImageInfo()
        served = [image.base, *(built.bases or {}).values()]
        bases = {b: client.images.get(b).id for b in served
                 if b and engine.image_exists(client, b)}
        facts[p.name] = attest.BuildFacts(
            dockerfile=_relative(built.dockerfile or ""),
            dockerfile_sha256=built.dockerfile_sha256 or "",
            build_args=dict(built.build_args or {}), bases=bases,
            builder=str(built.builder or host.get("builder") or ""),
            engine_version=str(host.get("engine_version") or ""),
            buildx_version=str(host.get("buildx") or ""), harness_version=_version(),
            repository=repository, revision=revision, started=run.start if run else "",
            finished=run.end if run else "")
    return by_platform, facts


def _relative(path: str) -> str:
    """A path under the project as the repository names it; others as they are."""
    try:
        return Path(path).relative_to(Path.cwd()).as_posix() if path else ""
    except ValueError:
        return path


def _version() -> str:
    try:
        return importlib.metadata.version("multiarch-harness")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _add_to_report(report_dir: Path, spans: dict[str, Phase]) -> None:
    """The publish phase of each platform, added to the build's report in ``report_dir``
    (when there is one) and its renderings."""
    path = report_dir / "report.json"
    if not spans or not path.is_file():
        return
    try:
        report = read_report(path)
    except UsageError as exc:  # the images are published: say why the report stays as it was
        print(f"publish: warning: {sinks.terminal(exc.message)}; its phases are not added",
              file=sys.stderr)
        return
    write_reports(report.with_phases(spans), report_dir, step_summary=False)


def _tag(registry: Registry, host: str, repo: str, entries: list[Entry],
         tags: list[str], annotated: Annotated | None = None,
         before_tags: Callable[[str], None] | None = None) -> None:
    start = time.monotonic()
    digest = publish.write_index(registry, repo, entries, tags, annotated, before_tags)
    names = ", ".join(sorted(e.platform for e in entries))
    for tag in tags:
        print(f"tagged {host}/{repo}:{tag} -> {digest} ({names}) "
              f"in {time.monotonic() - start:.2f} s")


def merge_main(argv: list[str]) -> int:
    parser = options.argument_parser("merge")
    parser.add_argument("--from", dest="sources", action="append", default=[],
                        metavar="FILE_OR_DIR", help="digest files written by publish")
    parser.add_argument("refs", nargs="*", help="HOST/REPO:TAG or HOST/REPO@DIGEST")
    args = parser.parse_args(argv)
    settings = harness_config.read_pyproject(Path.cwd())
    registries = _listed(args, "registries", settings)
    if len(registries) != 1:
        raise UsageError("merge writes to exactly one registry",
                         "pass --registry HOST[:PORT]/REPO once")
    meta = _metadata(args, settings, None)
    for text in meta.annotations:
        if "manifest" in metadata.parse_annotation(text).levels:
            raise UsageError(f"--annotation {text!r} is for the manifests, which merge does "
                             "not write", "give it to publish, or write index: or "
                             "manifest-descriptor: for merge")
    if not meta.tags:
        raise UsageError("no tag to write", "the tag templates give no tag for this ref"
                         if meta.templated else "pass --tag T or --tag-template")
    host, repo = _registry_arg(registries[0])
    key = _sign_key(args, settings)
    signer = _signer(key, registries[0], args.insecure_registry) if key else None
    files = [f for s in args.sources
             for f in (sorted(Path(s).rglob("*.json")) if Path(s).is_dir() else [Path(s)])]
    entries = [Entry.read(f) for f in files]
    with _open(host, args.insecure_registry) as registry:
        for text in args.refs:
            ref = parse_reference(text)
            if (ref.host, ref.repository) != (host, repo):
                raise UsageError(f"{text} is not in {host}/{repo}",
                                 "publish every platform into the repository being merged")
            entries += publish.platform_entries(registry, repo, ref.reference)
        for e in entries:
            if e.repository != repo:
                raise UsageError(f"the digest file for {e.platform} names repository "
                                 f"{e.repository}, not {repo}",
                                 "merge digest files of the same repository")
        if not entries:
            raise UsageError("nothing to merge", "pass --from DIGEST_DIR or references")
        platforms = [parse_platform(n) for n in sorted({e.platform for e in entries})]
        _tag(registry, host, repo, entries, meta.tags, meta.annotated(platforms),
             None if signer is None else signer.index_signer(f"{host}/{repo}"))
    return Exit.OK
