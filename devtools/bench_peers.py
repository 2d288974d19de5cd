"""The bench's publish and audit measures, each beside its peer: ``multiarch-harness
publish`` against ``docker push --all-tags`` to an empty registry (and a republish, and a
merge from digest files), and the harness's audit against the same audit by hand (``docker
export | tar -x``, then ``file`` on every file), and at each of its depths alone."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from devtools.bench_record import AuditDepth, AuditPeer, NativeModules, Publish

# An image with native modules to load (the flagship has none): Debian's python3-numpy and
# python3-cryptography (and a node_modules of JavaScript alone), whose modules the engine
# tests prove load on every platform they check (tests/engine/test_native_modules.py).
NATIVE_FIXTURE = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / \
    "native-known-good"
NATIVE_PLATFORMS = ("linux/amd64", "linux/arm64")  # one native, one emulated


def _publish(registry: str, image: str, platforms: list[str], out: Path,
             tag: str) -> tuple[float, int]:
    """`multiarch-harness publish`, as users run it; (wall seconds, blobs uploaded)."""
    # The warm run's report is of the images tagged now: the attestations are made from it.
    cmd = [sys.executable, "-m", "harness", "publish", f"--registry={registry}",
           f"--image={image}", f"--tag={tag}", f"--digest-dir={out / 'digests'}",
           f"--report-dir={out / 'warm'}", *[f"--platform={p}" for p in platforms]]
    start = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.monotonic() - start
    if proc.returncode != 0:
        raise SystemExit(f"bench: publish failed:\n{proc.stdout}{proc.stderr}")
    blobs = sum(int(m) for m in re.findall(r"\((\d+) blobs uploaded\)", proc.stdout))
    return wall, blobs


def measure_publish(image: str, platforms: list[str], out: Path) -> Publish:
    """Publish twice and merge, against a registry on loopback; then `docker push` of the
    same images to an empty one."""
    from harness.containers import engine
    from harness.containers.local_registry import LocalRegistry
    from harness.core.platforms.table import parse_platform
    from harness.distribution import publish
    from harness.distribution.registry import Registry

    client = engine.client()
    walls: dict[str, tuple[float, int]] = {}
    shutil.rmtree(out / "digests", ignore_errors=True)  # an earlier run's are not this one's
    with LocalRegistry(client) as local:
        # The same tag twice: a republish of the same images must upload nothing. (Another
        # tag is another version annotation, hence other manifests and attestations.)
        for run in ("first", "second"):
            wall, blobs = _publish(f"{local.host}/bench", image, platforms, out, "1.0")
            walls[run] = round(wall, 1), blobs
        files = sorted((out / "digests").rglob("*.json"))
        with Registry(local.host) as reg:
            start = time.monotonic()
            publish.write_index(reg, "bench", [publish.Entry.read(f) for f in files],
                                ["merged"])
            merge_s = round(time.monotonic() - start, 3)
    with LocalRegistry(client) as empty:
        peer = f"{empty.host}/peer"
        tags = [f"{peer}:{parse_platform(p).slug}" for p in platforms]
        for p, tag in zip(platforms, tags, strict=True):
            client.images.get(f"{image}:{parse_platform(p).slug}").tag(tag)
        try:
            start = time.monotonic()
            subprocess.run(["docker", "push", "--all-tags", "--quiet", peer], check=True,
                           capture_output=True)
            docker_push_s = round(time.monotonic() - start, 1)
        finally:
            subprocess.run(["docker", "rmi", *tags], capture_output=True, check=False)
    (first_s, first_blobs), (second_s, second_blobs) = walls["first"], walls["second"]
    got = Publish(publish_first_s=first_s, publish_first_blobs=first_blobs,
                  publish_second_s=second_s, publish_second_blobs=second_blobs,
                  merge_s=merge_s, docker_push_s=docker_push_s,
                  push_ratio=round(first_s / docker_push_s, 3))
    print(f"bench: publish {got.publish_first_s} s, again {got.publish_second_s} s "
          f"({got.publish_second_blobs} blobs), merge {got.merge_s} s; docker push "
          f"{got.docker_push_s} s", flush=True)
    return got


def measure_audit_peer(image: str, platforms: list[str]) -> dict[str, AuditPeer]:
    """The same audit done by hand, as people do it today, on the same images: the
    container's filesystem exported and unpacked (`docker export | tar -x`), then `file` on
    every regular file. Timed per platform, with the ELF files it found."""
    from harness.core.platforms.table import parse_platform

    found: dict[str, AuditPeer] = {}
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
        found[name] = AuditPeer(round(seconds, 2), sum(_is_elf(line) for line in out.splitlines()))
        print(f"bench: by hand (export + file), {name}: {seconds:.1f} s, "
              f"{found[name].elf_files} ELF files", flush=True)
    return found


def measure_audit_depth(image: str, platforms: list[str]) -> dict[str, AuditDepth]:
    """The harness's audit of each image, one platform at a time (nothing else running):
    the ELF audit alone and with the linkage and CPU-level audits in the same pass, each
    twice, interleaved, the quicker kept (the first read of an image warms the cache)."""
    from harness.containers import audit_pass, engine, probes
    from harness.core.platforms.table import parse_platform

    client = engine.client()
    found: dict[str, AuditDepth] = {}
    try:
        for name in platforms:
            platform = parse_platform(name)
            with probes.ImageProbe(client, f"{image}:{platform.slug}", platform) as probe:
                times: dict[str, float] = {}
                for deep in (False, True, False, True):
                    start = time.monotonic()
                    audit_pass.audit_files(probe, platform, (), deep=deep)
                    key, took = "deep" if deep else "elf", round(time.monotonic() - start, 2)
                    times[key] = min(times.get(key, took), took)
            got = found[name] = AuditDepth(
                times["elf"], times["deep"],
                round(times["deep"] / times["elf"], 3) if times["elf"] else 0.0)
            print(f"bench: audit of {name} alone: ELF {got.elf} s, with linkage and isa "
                  f"{got.deep} s ({got.ratio}x)", flush=True)
    finally:
        client.close()
    return found


def _is_elf(description: str) -> bool:
    """`file -b` says "ELF 64-bit ...", or "setuid ELF ..." for a setuid program."""
    return "ELF" in description.split(",")[0].split()[:2]


def native_figures(report: dict[str, object]) -> dict[str, NativeModules]:
    """Each platform's native-modules pass in a report.json (read as JSON: a figure it lacks
    is None, as in a run that left the source out)."""

    def field(data: object, key: str) -> object:
        return data.get(key) if isinstance(data, dict) else None

    def number(data: object, key: str) -> int | float | None:
        got = field(data, key)
        return got if isinstance(got, int | float) and not isinstance(got, bool) else None

    found: dict[str, NativeModules] = {}
    platforms = report.get("platforms")
    for p in platforms if isinstance(platforms, list) else []:
        seen = field(field(field(p, "observed"), "native-modules"), "detail")
        count, loaded, seconds = (number(seen, k) for k in ("count", "loaded", "seconds"))
        found[str(field(p, "platform"))] = NativeModules(
            None if count is None else int(count), None if loaded is None else int(loaded),
            None if seconds is None else float(seconds))
    return found
