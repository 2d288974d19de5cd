"""The benchmark `nox -s bench` runs: side by side against alone, a warm rerun, probe times.

Every measurement is a real run of the image checks (pytest with the plugin, as
``nox -s build`` makes it), so what is timed is what users wait for:

1. each platform alone, every layer rebuilt (``--no-cache``; bases stay cached);
2. all platforms side by side, every layer rebuilt; its wall time as a ratio to the ideal
   ``max(longest alone, sum alone / cores)`` (target <= 1.15);
3. the same run again with nothing changed (target <= 30 s);
4. each platform's probe time without the hello-world compile (target <= 3 s);
5. each platform's ELF audit of every file (target <= 5 s), beside the same audit done by
   hand as people do it today (``docker export | tar -x``, then ``file`` on every file);
6. publishing the four images to a local registry, publishing them again (target: no blob
   uploaded), and merging the four platforms from their digest files (target < 2 s).

Results go to ``REPORT_DIR/bench/bench.json`` and a table on the console.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from harness.core import options
from harness.core.errors import EXIT_CANNOT_CHECK, EXIT_OK
from harness.machine import config as harness_config

TARGET_RATIO = 1.15
TARGET_WARM_S = 30.0
TARGET_PROBE_S = 3.0
TARGET_MERGE_S = 2.0
TARGET_AUDIT_S = 5.0  # every ELF file of a platform's image


def run_checks(platforms: list[str], report_dir: Path, *extra: str) -> tuple[float, dict[str, Any]]:
    """One run of the image checks; (wall seconds, report.json)."""
    cmd = [sys.executable, "-m", "harness", "build", "--no-preflight",
           f"--report-dir={report_dir}", *[f"--platform={p}" for p in platforms], *extra]
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.monotonic() - start
    report_file = report_dir / "report.json"
    if not report_file.exists():
        raise SystemExit(f"bench: the run wrote no report:\n{proc.stdout[-3000:]}{proc.stderr}")
    report: dict[str, Any] = json.loads(report_file.read_text())
    return wall, report


def measure(platforms: list[str], out: Path, alone: bool = True) -> dict[str, Any]:
    cores = os.cpu_count() or 1
    result: dict[str, Any] = {"platforms": platforms, "cores": cores, "alone": {}}
    if alone:
        for p in platforms:
            wall, _ = run_checks([p], out / f"alone-{p.replace('/', '-')}", "--no-cache")
            result["alone"][p] = round(wall, 1)
            print(f"bench: {p} alone, every layer rebuilt: {wall:.1f} s", flush=True)
    wall, report = run_checks(platforms, out / "side-by-side", "--no-cache")
    result["side_by_side"] = round(wall, 1)
    print(f"bench: {len(platforms)} side by side, every layer rebuilt: {wall:.1f} s", flush=True)
    if result["alone"]:
        times = list(result["alone"].values())
        ideal = max(max(times), sum(times) / cores)
        result["ideal"] = round(ideal, 1)
        result["ratio"] = round(wall / ideal, 3)
    warm, warm_report = run_checks(platforms, out / "warm")
    result["warm"] = round(warm, 1)
    print(f"bench: the same again with nothing changed: {warm:.1f} s", flush=True)
    result["probe_seconds"] = {p["platform"]: p["probe_seconds"]
                               for p in warm_report["platforms"]}
    result["hello_seconds"] = {p["platform"]: p["hello_seconds"]
                               for p in warm_report["platforms"]}
    result["audit_seconds"] = {p["platform"]: p.get("audit_seconds")
                               for p in warm_report["platforms"]}
    result["audit_files"] = {
        p["platform"]: p["observed"].get("elf-audit", {}).get("detail", {}).get("files")
        for p in warm_report["platforms"]}
    result["verdicts"] = {p["platform"]: p["verdict"] for p in report["platforms"]}
    return result


def measure_publish(image: str, platforms: list[str], out: Path) -> dict[str, Any]:
    """Publish twice and merge, against a registry on loopback."""
    from harness.containers import engine
    from harness.core.platforms import parse_platform
    from harness.distribution import publish
    from harness.distribution.local_registry import LocalRegistry
    from harness.distribution.registry import Registry

    client = engine.client()
    got: dict[str, Any] = {}
    with LocalRegistry(client) as local, Registry(local.host) as reg:
        for run in ("first", "second"):
            start, before = time.monotonic(), reg.uploaded_blobs
            entries = []
            for name in platforms:
                p = parse_platform(name)
                entry = publish.push_image(client, reg, "bench", f"{image}:{p.slug}", p)
                entry.write(out / "digests")
                entries.append(entry)
            got[f"publish_{run}_s"] = round(time.monotonic() - start, 1)
            got[f"publish_{run}_blobs"] = reg.uploaded_blobs - before
        files = sorted((out / "digests").glob("*.json"))
        start = time.monotonic()
        publish.write_index(reg, "bench", [publish.Entry.read(f) for f in files], ["merged"])
        got["merge_s"] = round(time.monotonic() - start, 3)
    print(f"bench: publish {got['publish_first_s']} s, again {got['publish_second_s']} s "
          f"({got['publish_second_blobs']} blobs), merge {got['merge_s']} s", flush=True)
    return got


def measure_audit_peer(image: str, platforms: list[str]) -> dict[str, dict[str, float | int]]:
    """The same audit done by hand, as people do it today, on the same images: the
    container's filesystem exported and unpacked (`docker export | tar -x`), then `file` on
    every regular file. Timed per platform, with the ELF files it found."""
    from harness.core.platforms import parse_platform

    found: dict[str, dict[str, float | int]] = {}
    for name in platforms:
        tag = f"{image}:{parse_platform(name).slug}"
        start = time.monotonic()
        with tempfile.TemporaryDirectory(prefix="harness-bench-") as tmp:
            cid = subprocess.run(["docker", "create", "--platform", name, tag],
                                 capture_output=True, text=True, check=True).stdout.strip()
            try:
                export = subprocess.Popen(["docker", "export", cid], stdout=subprocess.PIPE)
                subprocess.run(["tar", "-x", "-C", tmp, "--no-same-owner"],
                               stdin=export.stdout, check=True, stderr=subprocess.DEVNULL)
                export.wait()
            finally:
                subprocess.run(["docker", "rm", "-f", cid], capture_output=True, check=False)
            out = subprocess.run(f"find {tmp} -type f -print0 | xargs -0 file -b", shell=True,
                                 capture_output=True, text=True, check=False).stdout
        seconds = time.monotonic() - start
        found[name] = {"seconds": round(seconds, 2),
                       "elf_files": sum(_is_elf(line) for line in out.splitlines())}
        print(f"bench: by hand (export + file), {name}: {seconds:.1f} s, "
              f"{found[name]['elf_files']} ELF files", flush=True)
    return found


def _is_elf(description: str) -> bool:
    """`file -b` says "ELF 64-bit ...", or "setuid ELF ..." for a setuid program."""
    return "ELF" in description.split(",")[0].split()[:2]


def render(r: dict[str, Any]) -> list[str]:
    lines = [f"{'measure':<44} {'value':>10}  target"]
    for p, t in r["alone"].items():
        lines.append(f"{p + ' alone (no cache)':<44} {t:>9.1f}s")
    lines.append(f"{'side by side (no cache)':<44} {r['side_by_side']:>9.1f}s")
    if "ratio" in r:
        lines.append(f"{'ratio to max(longest, sum/' + str(r['cores']) + ' cores)':<44} "
                     f"{r['ratio']:>10.3f}  <= {TARGET_RATIO}")
    lines.append(f"{'warm rerun, all checks':<44} {r['warm']:>9.1f}s  <= {TARGET_WARM_S:.0f} s")
    for p, t in r["probe_seconds"].items():
        lines.append(f"{'probes ' + p + ' (without hello world)':<44} {t or 0:>9.2f}s  "
                     f"<= {TARGET_PROBE_S:.0f} s")
    for p, t in r.get("audit_seconds", {}).items():
        files = r.get("audit_files", {}).get(p)
        lines.append(f"{'ELF audit ' + p + f' ({files} ELF files)':<44} {t or 0:>9.2f}s  "
                     f"<= {TARGET_AUDIT_S:.0f} s")
        peer = r.get("audit_peer", {}).get(p)
        if peer:
            lines.append(f"{'  by hand: export + file (' + str(peer['elf_files']) + ' ELF)':<44} "
                         f"{peer['seconds']:>9.2f}s")
    pub = r.get("publish")
    if pub:
        lines.append(f"{'publish, first time':<44} {pub['publish_first_s']:>9.1f}s")
        lines.append(f"{'publish again, blobs uploaded':<44} {pub['publish_second_blobs']:>10}  0")
        lines.append(f"{'merge of the platforms from digest files':<44} {pub['merge_s']:>9.2f}s  "
                     f"< {TARGET_MERGE_S:.0f} s")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = options.argument_parser("bench", description=__doc__)
    parser.add_argument("--skip-alone", action="store_true",
                        help="skip the one-platform runs (no ratio)")
    args, _unknown = parser.parse_known_args(argv)
    cfg = harness_config.load(Path.cwd(), platforms=args.platforms, report_dir=args.report_dir)
    out = cfg.report_dir / "bench"
    out.mkdir(parents=True, exist_ok=True)
    names = [p.name for p in cfg.platforms]
    result = measure(names, out, alone=not args.skip_alone)
    result["audit_peer"] = measure_audit_peer(cfg.image, names)
    result["publish"] = measure_publish(cfg.image, names, out)
    (out / "bench.json").write_text(json.dumps(result, indent=2) + "\n")
    print("\n".join(render(result)))
    print(f"bench: written to {out / 'bench.json'}")
    return EXIT_OK if all(v != "error" for v in result["verdicts"].values()) \
        else EXIT_CANNOT_CHECK
