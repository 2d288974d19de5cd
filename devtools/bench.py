"""The benchmark `nox -s bench` runs (``python -m devtools.bench``, developer tooling): side
by side against alone, a warm rerun, probe times.

Every measurement is a real run of the image checks (pytest with the plugin, as
``nox -s build`` makes it), so what is timed is what users wait for:

1. each platform alone, every layer rebuilt (``--no-cache``; bases stay cached);
2. all platforms side by side, every layer rebuilt; its wall time as a ratio to the ideal
   ``max(longest alone, sum alone / cores)`` (target <= 1.15);
3. the same run again with nothing changed (target <= 20 s): the images' answers are read
   back (harness.machine.kept); then again with an empty harness cache, every image asked
   as on a machine that has not run it;
4. in that last run, each platform's probe time without the hello-world compile (target
   <= 3 s), and its baseline-CPU run apart (target <= 15 s);
5. each platform's ELF audit of every file (target <= 5 s), beside the same audit done by
   hand as people do it today (``docker export | tar -x``, then ``file`` on every file),
   and the audit again one platform at a time, with and without the linkage and CPU-level
   audits that share its pass (their cost: target <= 1.2);
6. publishing the four images to a local registry, publishing them again (target: no blob
   uploaded), and merging the four platforms from their digest files (target < 2 s).

The peers run in the same benchmark, so that ratios mean something on a noisy machine:

7. plain ``docker buildx build --load`` of the platforms at once, with the harness's own
   command line for each (same Dockerfile, bases and arguments, no cache), against the
   side-by-side run, which also probes (target <= 1.0); beside it, how long apt's fetches
   took in each side's builds (apt's own "Fetched ... in N s"). Under QEMU apt's download
   methods run emulated, so that time is CPU as well as the network: on a busy machine it
   grows with what else runs (152 MB took 5 s for an arm64 build alone, 22-63 s beside three
   others); slow fetches while the CPUs sit idle mean a slow archive. Right after plain
   buildx, the checks by hand of its four images (``devtools/bench_by_hand.sh``:
   ``docker run --platform P`` of each in turn for ``uname -m``, ``dpkg
   --print-architecture``, ``rustc -vV`` and a hello crate made, built and run by cargo),
   timed whole: ``by_hand_ratio`` = harness / (plain buildx + by hand). These run in pairs,
   A B A B ... (``--pairs N``, default 2: a harness run, then plain buildx and the checks by
   hand); bench.json keeps each pair (``pairs``: harness, buildx, floor and by-hand seconds)
   and each ratio's median over them with its spread, the lowest and highest pair
   (``floor_ratio_median``, ``floor_ratio_min``, ``floor_ratio_max``; the same for
   ``buildx_ratio`` and ``by_hand_ratio``);
8. ``docker push --all-tags`` of the images to an empty local registry against the first
   ``multiarch-harness publish`` (target <= 0.6);
9. with ``--routed-engine URL``: the side-by-side run again with linux/386 and linux/amd64 on
   that engine (its bases made there first, untimed), against all on one engine: the cost of
   routing (target <= 1.05 on one machine).

10. with ``--cache-engine URL`` (repeatable; each engine is EMPTIED: every image and all its
    build cache removed, so give one that holds nothing you need): the images built there
    from nothing, as on a new CI runner (no images, no build cache, no harness cache), then
    again from nothing but with ``--cache`` of an earlier run (the cache written by a run in
    between, untimed): the time with the cache against without (target <= 0.3).
    ``--cache-only`` measures only this.

11. the native-modules pass (every Python extension module loaded with the image's own
    interpreter, on the platform and on its baseline CPU) on an image that has some: the
    flagship has none, so the fixture ``tests/fixtures/native-known-good`` (Debian's
    python3-numpy and python3-cryptography), built first and then asked with an empty
    harness cache, for linux/amd64 and linux/arm64 where the bench runs them
    (``native_modules``: modules, loaded, seconds).

Results go to ``REPORT_DIR/bench/bench.json`` and a table on the console. Every build in it
is a ``--no-cache`` build (the harness's and the peers' alike), each leaving its layers in the
engine's build cache; the bench says how much the cache grew, for ``docker builder prune``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any, TypeAlias

import docker

from devtools import bench_pairs
from devtools.bench_pairs import (
    TARGET_BUILDX_RATIO,
    CpuUse,
    fetch_seconds,
    measure_buildx_peer,
)
from devtools.bench_peers import (
    NATIVE_FIXTURE,
    NATIVE_PLATFORMS,
    measure_audit_depth,
    measure_audit_peer,
    measure_publish,
    native_figures,
)
from devtools.bench_record import (
    AptFetch,
    BenchRun,
    BuildsRun,
    CacheOnly,
    CacheRun,
    Cpu,
    CpuRuns,
    FirstPeer,
    Measured,
    NativeModules,
    Pair,
    Schedule,
    to_json,
)
from harness.commands.cli import run_command
from harness.containers import engine
from harness.core.failures.errors import UsageError
from harness.core.outcomes import Exit
from harness.core.settings import options
from harness.machine import config as harness_config

TARGET_RATIO = 1.15
TARGET_WARM_S = 20.0
TARGET_PROBE_S = 3.0
TARGET_MERGE_S = 2.0
TARGET_AUDIT_S = 5.0  # every ELF file of a platform's image
TARGET_BASELINE_S = 15.0  # the commands asked again on the platform's oldest CPU
TARGET_DEEP_RATIO = 1.2  # the audit with linkage and isa / the ELF audit alone
TARGET_PUSH_RATIO = 0.6  # first publish / docker push
TARGET_ROUTED_RATIO = 1.05  # routed over two engines / all on one
TARGET_CACHE_RATIO = 0.3  # a new engine's build with the cache / without
ROUTED = ("linux/386", "linux/amd64")
# The harness's options the bench takes (from the one table); the runs read the rest from
# [tool.harness], as `nox -s build` does.
PASSED_ON = ("platforms", "report_dir")


# report.json as the run wrote it: the JSON edge, read by key where a figure is taken.
Report: TypeAlias = dict[str, Any]


def run_checks(platforms: list[str], report_dir: Path, *extra: str,
               env: dict[str, str] | None = None) -> tuple[float, Report]:
    """One run of the image checks; (wall seconds, report.json)."""
    wall, report, _ = run_timed(platforms, report_dir, *extra, env=env)
    return wall, report


def run_timed(platforms: list[str], report_dir: Path, *extra: str,
              env: dict[str, str] | None = None) -> tuple[float, Report, float]:
    """One run of the image checks; (wall seconds, report.json, when the command started)."""
    cmd = [sys.executable, "-m", "harness", "build", "--no-preflight",
           f"--report-dir={report_dir}", *[f"--platform={p}" for p in platforms], *extra]
    began = time.time()
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False,
                          env={**os.environ, **(env or {})})
    wall = time.monotonic() - start
    report_file = report_dir / "report.json"
    if not report_file.exists():
        raise SystemExit(f"bench: the run wrote no report:\n{proc.stdout[-3000:]}{proc.stderr}")
    report: Report = json.loads(report_file.read_text())
    return wall, report, began


def _detail(platform: Report, source: str, key: str) -> Any:
    """One figure of a source's detail in a platform of report.json (None where absent)."""
    return platform["observed"].get(source, {}).get("detail", {}).get(key)


def measure(platforms: list[str], out: Path, alone: bool = True) -> Measured:
    cores = os.cpu_count() or 1
    alone_s: dict[str, float] = {}
    if alone:
        for p in platforms:
            wall, _ = run_checks([p], out / f"alone-{p.replace('/', '-')}", "--no-cache")
            alone_s[p] = round(wall, 1)
            print(f"bench: {p} alone, every layer rebuilt: {wall:.1f} s", flush=True)
    with CpuUse() as cpu:
        wall, report, began = run_timed(platforms, out / "side-by-side", "--no-cache")
    side_by_side, cold_cpu = round(wall, 1), cpu.record()
    print(f"bench: {len(platforms)} side by side, every layer rebuilt: {wall:.1f} s", flush=True)
    ideal: float | None = None
    ratio: float | None = None
    if alone_s:
        times = list(alone_s.values())
        best = max(max(times), sum(times) / cores)
        ideal, ratio = round(best, 1), round(wall / best, 3)
    warm, warm_report = run_checks(platforms, out / "warm")
    print(f"bench: the same again with nothing changed: {warm:.1f} s", flush=True)
    # The same again with nothing kept (an empty harness cache; the builds stay cached):
    # every image asked, as on a machine that has not run them. The probes' figures are its.
    with tempfile.TemporaryDirectory() as nothing_kept, CpuUse() as cpu:
        asked, asked_report = run_checks(platforms, out / "warm-asked",
                                         env={"XDG_CACHE_HOME": nothing_kept})
    print(f"bench: the same again, every image asked again: {asked:.1f} s", flush=True)
    cold, kept, fresh = (r["platforms"] for r in (report, warm_report, asked_report))
    return Measured(
        platforms=platforms, cores=cores, alone=alone_s, side_by_side=side_by_side,
        # What the checks cost the machine beyond the builds (these are cached): the CPU
        # that a cold run must find beside plain buildx's builds.
        cpu=CpuRuns(side_by_side=cold_cpu, warm_asked=cpu.record()),
        ideal=ideal, ratio=ratio, warm=round(warm, 1),
        answers_read_warm=sorted({str(o.get("detail", {}).get("read"))
                                  for p in kept for o in p["observed"].values()}),
        warm_asked=round(asked, 1),
        probe_seconds={p["platform"]: p["probe_seconds"] for p in fresh},
        hello_seconds={p["platform"]: p["hello_seconds"] for p in fresh},
        # The audits of the side-by-side run (every layer rebuilt: new image IDs, read
        # anew); the warm run reads them back (harness.machine.kept), its own figure.
        audit_seconds_side_by_side={p["platform"]: p.get("audit_seconds") for p in cold},
        audit_seconds={p["platform"]: p.get("audit_seconds") for p in kept},
        audit_read_warm={p["platform"]: _detail(p, "elf-audit", "read") for p in kept},
        baseline_seconds={p["platform"]: _detail(p, "baseline-cpu", "seconds") for p in fresh},
        audit_files={p["platform"]: _detail(p, "elf-audit", "files") for p in kept},
        verdicts={p["platform"]: p["verdict"] for p in cold},
        # From the command's start, as plain buildx's builds are counted from its own.
        schedule=schedule(report, began))


SCHEDULED = ("queue", "build", "wait", "probe")  # the phases a run's schedule shows


def schedule(report: Report, zero: float | None = None) -> Schedule:
    """Which platform built, waited for a probe slot and probed when: each phase's
    [start, end] in seconds from ``zero`` (the command's start, a Unix time) or else from the
    run's first phase (from report.json's phases)."""
    spans = {p["platform"]: [(ph["name"], datetime.fromisoformat(ph["start"]).timestamp(),
                              datetime.fromisoformat(ph["end"]).timestamp())
                             for ph in p.get("phases", []) if ph["name"] in SCHEDULED]
             for p in report["platforms"]}
    if zero is None:
        zero = min((s for found in spans.values() for _, s, _ in found), default=0.0)
    return {name: {ph: [round(s - zero, 1), round(e - zero, 1)] for ph, s, e in found}
            for name, found in spans.items()}


def pair_run(platforms: list[str], out: Path) -> float:
    """A further pair's harness run: side by side, every layer rebuilt; its wall seconds."""
    wall, _, _ = run_timed(platforms, out, "--no-cache")
    print(f"bench: {len(platforms)} side by side again, every layer rebuilt: {wall:.1f} s",
          flush=True)
    return round(wall, 1)


def compare_builds(platforms: list[str], out: Path, counts: list[int]
                   ) -> dict[str, BuildsRun]:
    """The side-by-side run (no cache) with each count of concurrent builds (workers)."""
    found: dict[str, BuildsRun] = {}
    for n in counts:
        wall, report, began = run_timed(platforms, out / f"builds-{n}", "--no-cache", "-n",
                                        str(n))
        found[str(n)] = BuildsRun(round(wall, 1), schedule(report, began))
        print(f"bench: side by side with {n} builds at once: {wall:.1f} s", flush=True)
    return found


def build_cache_bytes() -> int | None:
    """The engine's build cache, in bytes; None when the engine does not say."""
    try:
        return sum(int(entry.get("Size") or 0)
                   for entry in engine.client().df().get("BuildCache") or [])
    except (docker.errors.DockerException, OSError):
        return None


def measure_native_modules(platforms: list[str], out: Path) -> dict[str, NativeModules]:
    """The native-modules pass (every module loaded with the image's own interpreter, on the
    platform and its baseline CPU) on the fixture image that has some: built first, untimed,
    then asked with an empty harness cache, as the warm run that asks every image again."""
    chosen = [p for p in NATIVE_PLATFORMS if p in platforms]
    if not chosen:
        return {}
    args = (f"--dockerfile={NATIVE_FIXTURE / 'Dockerfile'}", f"--context={NATIVE_FIXTURE}",
            "--image=harness-bench/native-known-good", "--require=")
    run_checks(chosen, out / "native-build", *args)
    with tempfile.TemporaryDirectory() as nothing_kept:
        _wall, report = run_checks(chosen, out / "native-asked", *args,
                                   env={"XDG_CACHE_HOME": nothing_kept})
    found = native_figures(report)
    for name, seen in found.items():
        print(f"bench: native modules of {NATIVE_FIXTURE.name}, {name}: {seen.loaded} of "
              f"{seen.count} loaded in {seen.seconds} s", flush=True)
    return found


def measure_routed(platforms: list[str], out: Path, url: str) -> float:
    """The side-by-side run with ROUTED platforms on the engine at ``url``."""
    routing = [f"--engine={p}={url}" for p in ROUTED if p in platforms]
    run_checks([p for p in ROUTED if p in platforms], out / "routed-warmup", *routing)
    wall, _ = run_checks(platforms, out / "routed", "--no-cache", *routing)
    print(f"bench: side by side, {' and '.join(ROUTED)} on {url}: {wall:.1f} s", flush=True)
    return round(wall, 1)


def _emptied(url: str) -> str:
    """The engine at ``url`` with no container, image or build cache left; its version."""
    import docker

    target = docker.DockerClient(base_url=url)
    try:
        for container in target.containers.list(all=True):
            container.remove(force=True)
        for image in target.images.list():
            target.images.remove(image.id, force=True)
        target.api.prune_builds(all=True)
        left = target.images.list()
        if left:
            raise SystemExit(f"bench: {url} still holds {len(left)} images")
        return str(target.version().get("Version", "?"))
    finally:
        target.close()


def measure_cache(platforms: list[str], out: Path, url: str) -> CacheRun:
    """A new engine's build from nothing, without and with the cache of an earlier run. The
    harness's own caches (audits, manifests) start empty too, as on a new runner."""
    from harness.containers import engine
    from harness.containers.local_registry import LocalRegistry

    slug = re.sub(r"[^\w]+", "-", url).strip("-")[-40:]
    with LocalRegistry(engine.client()) as local, \
            tempfile.TemporaryDirectory(prefix="harness-bench-cache-") as tmp:
        cache = f"{local.host}/bench-cache"

        def fresh(name: str, *extra: str) -> tuple[float, Report]:
            home = Path(tmp) / name
            return run_checks(platforms, out / f"cache-{slug}-{name}", *extra,
                              env={"DOCKER_HOST": url, "XDG_CACHE_HOME": str(home)})

        version = _emptied(url)
        without, report = fresh("without")
        fresh("write", f"--cache={cache}")  # the earlier run: the cache written
        _emptied(url)
        with_cache, cached = fresh("with", f"--cache={cache}")
    got = CacheRun(
        engine=url, version=version, without_s=round(without, 1), with_s=round(with_cache, 1),
        ratio=round(with_cache / without, 3),
        steps_cached=sum(1 for p in cached["platforms"] for ph in p["phases"]
                         if ph["name"] == "cached"),
        steps_run=sum(1 for p in cached["platforms"] for ph in p["phases"]
                      if ph["name"] == "step"),
        verdicts={p["platform"]: p["verdict"] for p in cached["platforms"]},
        verdicts_without={p["platform"]: p["verdict"] for p in report["platforms"]})
    print(f"bench: new engine {url} (Docker {got.version}): {without:.1f} s without the "
          f"cache, {with_cache:.1f} s with it ({got.steps_cached} steps cached, "
          f"{got.steps_run} run)", flush=True)
    return got


def render(r: BenchRun) -> list[str]:
    m, peer = r.measured, r.first_peer
    lines = [f"{'measure':<44} {'value':>10}  target"]
    for p, alone in m.alone.items():
        lines.append(f"{p + ' alone (no cache)':<44} {alone:>9.1f}s")
    lines.append(f"{'side by side (no cache)':<44} {m.side_by_side:>9.1f}s")
    if m.ratio is not None:
        lines.append(f"{'ratio to max(longest, sum/' + str(m.cores) + ' cores)':<44} "
                     f"{m.ratio:>10.3f}  <= {TARGET_RATIO}")
    lines.append(f"{'warm rerun (answers read back)':<44} {m.warm:>9.1f}s  "
                 f"<= {TARGET_WARM_S:.0f} s")
    lines.append(f"{'warm rerun, every image asked again':<44} {m.warm_asked:>9.1f}s")
    for p, t in m.probe_seconds.items():
        lines.append(f"{'probes ' + p + ' (without hello world)':<44} {t or 0:>9.2f}s  "
                     f"<= {TARGET_PROBE_S:.0f} s")
    for p, t in m.baseline_seconds.items():
        lines.append(f"{'baseline-CPU run ' + p:<44} {t or 0:>9.2f}s  <= {TARGET_BASELINE_S:.0f} s")
    for p, t in (m.audit_seconds_side_by_side or m.audit_seconds).items():
        files = m.audit_files.get(p)
        lines.append(f"{'ELF audit ' + p + f' ({files} ELF files)':<44} {t or 0:>9.2f}s  "
                     f"<= {TARGET_AUDIT_S:.0f} s")
        warm = m.audit_seconds.get(p)
        if warm is not None:
            lines.append(f"{'  warm run (' + str(m.audit_read_warm.get(p)) + ')':<44}"
                         f" {warm:>9.2f}s")
        depth = r.audit_depth.get(p)
        if depth:
            lines.append(f"{'  alone: ELF ' + str(depth.elf) + ' s, with linkage+isa':<44} "
                         f"{depth.deep:>9.2f}s  ratio {depth.ratio:.3f} <= "
                         f"{TARGET_DEEP_RATIO}")
        by_hand = r.audit_peer.get(p)
        if by_hand:
            lines.append(f"{'  by hand: export + file (' + str(by_hand.elf_files) + ' ELF)':<44} "
                         f"{by_hand.seconds:>9.2f}s")
    if peer and peer.buildx_peer:
        lines.append(f"{'  plain docker buildx build --load, at once':<44} "
                     f"{peer.buildx_peer:>9.1f}s")
        lines.append(f"{'  ratio harness / plain buildx':<44} {peer.buildx_ratio:>10.3f}  "
                     f"<= {TARGET_BUILDX_RATIO}")
    lines += bench_pairs.render(r.pairs or [])
    lines += bench_pairs.render_cpu(m.cpu, peer)
    for n, run in (r.by_builds or {}).items():
        lines.append(f"{'  side by side, ' + n + ' builds at once':<44} {run.wall:>9.1f}s")
    for p, spans in m.schedule.items():
        shown = ", ".join(f"{ph} {a:.0f}-{b:.0f}" for ph, (a, b) in spans.items())
        peer_end = peer.buildx_peer_ends.get(p) if peer else None
        if peer_end is not None:
            shown += f" (plain buildx built it 0-{peer_end:.0f})"
        lines.append(f"{'  schedule ' + p:<44} {shown}")
    lines += bench_pairs.render_fetch(peer.apt_fetch if peer else None)
    lines += render_cache(r.cache or [])[1:]
    if r.routed and r.routed_ratio is not None:
        lines.append(f"{'side by side, ' + ' and '.join(ROUTED) + ' routed':<44} "
                     f"{r.routed:>9.1f}s")
        lines.append(f"{'  ratio routed / one engine':<44} {r.routed_ratio:>10.3f}  "
                     f"<= {TARGET_ROUTED_RATIO}")
    pub = r.publish
    if pub:
        lines.append(f"{'publish, first time':<44} {pub.publish_first_s:>9.1f}s")
        lines.append(f"{'  docker push --all-tags, empty registry':<44} "
                     f"{pub.docker_push_s:>9.1f}s")
        lines.append(f"{'  ratio publish / docker push':<44} {pub.push_ratio:>10.3f}  "
                     f"<= {TARGET_PUSH_RATIO}")
        lines.append(f"{'publish again, blobs uploaded':<44} {pub.publish_second_blobs:>10}  0")
        lines.append(f"{'merge of the platforms from digest files':<44} {pub.merge_s:>9.2f}s  "
                     f"< {TARGET_MERGE_S:.0f} s")
    for name, seen in (r.native_modules or {}).items():
        said = f"native modules {name} ({seen.loaded} of {seen.count} loaded)"
        lines.append(f"{said:<44} {seen.seconds or 0:>9.2f}s")
    return lines


def render_cache(cache: list[CacheRun]) -> list[str]:
    lines = [f"{'measure':<44} {'value':>10}  target"]
    for c in cache:
        lines.append(f"{'new engine, Docker ' + c.version + ', without cache':<44} "
                     f"{c.without_s:>9.1f}s")
        lines.append(f"{'  with the cache of an earlier run':<44} {c.with_s:>9.1f}s")
        lines.append(f"{'  ratio with / without':<44} {c.ratio:>10.3f}  "
                     f"<= {TARGET_CACHE_RATIO}")
    return lines


def measure_pairs(names: list[str], out: Path, measured: Measured, count: int
                  ) -> tuple[list[Pair], FirstPeer | None, Cpu | None]:
    """The pairs: the side-by-side run of ``measured`` and plain buildx, then each further
    pair's harness run and plain buildx again (A B A B ...); and the first pair's peer
    figures, bench.json's own from before the pairs, with the CPU of its builds. No pair
    when the harness did not build with buildx (no command line to run again)."""
    checks = measured.cpu.warm_asked
    pairs: list[Pair] = []
    first: FirstPeer | None = None
    first_cpu: Cpu | None = None
    for n in range(1, count + 1):
        wall = measured.side_by_side if n == 1 else pair_run(names, out / f"side-by-side-{n}")
        peer = measure_buildx_peer(out / "side-by-side" / "logs", names,
                                   out / ("buildx-peer" if n == 1 else f"buildx-peer-{n}"),
                                   by_hand=True)
        if peer is None:
            break
        floor = round(bench_pairs.buildx_floor(peer.wall, peer.cpu.idle, checks.busy,
                                               measured.cores), 1) \
            if peer.cpu and checks else None
        pairs.append(Pair(wall, peer.wall, floor, peer.by_hand))
        if n == 1:
            first = FirstPeer(
                buildx_peer=peer.wall, buildx_peer_ends=peer.ends,
                apt_fetch=AptFetch(fetch_seconds(out / "side-by-side" / "logs", names),
                                   peer.fetch),
                buildx_ratio=round(measured.side_by_side / peer.wall, 3), buildx_floor=floor)
            first_cpu = peer.cpu
    return pairs, first, first_cpu


def _at_least_one(text: str) -> int:
    """``--pairs``: a whole number of pairs, one at least (a median needs a draw)."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text[:20]!r} is not a count of pairs (1 or more)")
    return int(text)


def main(argv: list[str] | None = None) -> int:
    parser = options.ArgumentParser(prog="python -m devtools.bench", description=__doc__)
    for key in PASSED_ON:
        options.add_option(parser, key)
    parser.add_argument("--skip-alone", action="store_true",
                        help="skip the one-platform runs (no ratio)")
    parser.add_argument("--pairs", type=_at_least_one, default=bench_pairs.DEFAULT_PAIRS,
                        metavar="N",
                        help="cold harness runs and plain buildx builds, each followed by the "
                             "checks by hand, run in turn A B A B ... (default "
                             f"{bench_pairs.DEFAULT_PAIRS}); the ratios are their medians")
    parser.add_argument("--routed-engine", metavar="URL", default=None,
                        help=f"also time the side-by-side run with {' and '.join(ROUTED)} "
                             "on this engine")
    parser.add_argument("--compare-builds", metavar="N,N", default=None,
                        help="also time the side-by-side run with each of these counts of "
                             "builds at once (2,3,4)")
    parser.add_argument("--cache-engine", metavar="URL", action="append", default=[],
                        help="also time a build from nothing on this engine without and with "
                             "the cache of an earlier run (the engine is EMPTIED first)")
    parser.add_argument("--cache-only", action="store_true",
                        help="measure only the cache (with --cache-engine)")
    # nox passes the same arguments to preflight first: its own are left to it.
    args, _unknown = parser.parse_known_args(argv)
    cfg = harness_config.load(Path.cwd(), platforms=args.platforms, report_dir=args.report_dir)
    out = cfg.report_dir / "bench"
    out.mkdir(parents=True, exist_ok=True)
    names = [p.name for p in cfg.platforms]
    if args.cache_only:
        if not args.cache_engine:
            raise UsageError("--cache-only measures the cache of --cache-engine URL",
                             "pass --cache-engine URL (an engine that may be emptied)")
        cached = CacheOnly(names, [measure_cache(names, out, url) for url in args.cache_engine])
        (out / "bench-cache.json").write_text(json.dumps(to_json(cached), indent=2) + "\n")
        print("\n".join(render_cache(cached.cache)))
        return Exit.OK
    cache_before = build_cache_bytes()
    measured = measure(names, out, alone=not args.skip_alone)
    pairs, first_peer, builds_cpu = measure_pairs(names, out, measured, args.pairs)
    if first_peer is not None:  # the first pair's builds: the CPU plain buildx left idle
        measured = dataclasses.replace(measured, cpu=dataclasses.replace(
            measured.cpu, buildx_peer=builds_cpu))
    if len(pairs) > 1:
        # The images are the last pair's now: the warm report that publish's attestations
        # are made from must be of them (untimed; the warm figures are the first pair's).
        run_checks(names, out / "warm")
    by_builds = compare_builds(names, out, [int(n) for n in args.compare_builds.split(",")
                                            if n.strip()]) if args.compare_builds else None
    routed = measure_routed(names, out, args.routed_engine) if args.routed_engine else None
    audit_peer = measure_audit_peer(cfg.image, names)
    audit_depth = measure_audit_depth(cfg.image, names)
    published = measure_publish(cfg.image, names, out)
    native = measure_native_modules(names, out)
    cache = [measure_cache(names, out, url) for url in args.cache_engine] \
        if args.cache_engine else None
    cache_after = build_cache_bytes()
    result = BenchRun(
        measured=measured, first_peer=first_peer, pairs=pairs or None,
        summary=bench_pairs.summary(pairs) if pairs else None, by_builds=by_builds,
        routed=routed,
        routed_ratio=round(routed / measured.side_by_side, 3) if routed is not None else None,
        audit_peer=audit_peer, audit_depth=audit_depth, publish=published,
        native_modules=native or None, cache=cache,
        build_cache_growth_bytes=cache_after - cache_before
        if cache_before is not None and cache_after is not None else None)
    (out / "bench.json").write_text(json.dumps(to_json(result), indent=2) + "\n")
    print("\n".join(render(result)))
    if result.build_cache_growth_bytes:
        print(f"bench: the engine's build cache grew by "
              f"{result.build_cache_growth_bytes / 1e9:.1f} GB (every build here is a "
              "--no-cache build); `docker builder prune` frees it")
    print(f"bench: written to {out / 'bench.json'}")
    return Exit.OK if all(v != "error" for v in measured.verdicts.values()) \
        else Exit.CANNOT_CHECK


if __name__ == "__main__":
    # The harness's one wrapper of a command's outcome: bad input 4 with its fix, a bug 70.
    sys.exit(run_command("bench", main, sys.argv[1:]))
