"""One base image per platform, under a tag of its own: pulled where it can be, else made.

The engine silently reuses a local FROM tag of another platform (measured: a linux/386
``debian:bookworm-slim`` satisfied a ``--platform linux/arm64`` build), so no build here
ever sees a shared base tag: every platform gets ``harness.invalid/base/NAME:TAG-PLATFORM``
(``.invalid`` never resolves, so nothing is ever pulled under that name), checked for its
architecture before use. Where no registry is reachable, a Debian base is bootstrapped
with mmdebstrap from Debian's archive and cached as that tag.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import docker
import docker.errors
from filelock import FileLock

from harness.containers.engine import image_platform
from harness.core.buildspec import buildcache
from harness.core.failures.diagnosis import Event, Stage, diagnose
from harness.core.failures.errors import BaseUnavailable, ImageWrong, UsageError, from_diagnosis
from harness.core.platforms.table import Platform, find
from harness.machine import files, interrupts
from harness.machine.debian import debian_mirror, debian_suite

LOCAL_REGISTRY = "harness.invalid/base"
LOCK_DIR = Path(tempfile.gettempdir()) / "harness-locks"
ATTEMPTS = 3

# Bumped whenever what bootstrap() makes changes, so that cached bases are made anew.
RECIPE = "3"
RECIPE_LABEL = "dev.harness.base-recipe"
BOOTSTRAPPED_LABEL = "dev.harness.bootstrapped"  # on a base the harness made, not pulled
# What the official debian:*-slim images leave out (their /etc/dpkg/dpkg.cfg.d/docker); set
# in the bootstrapped base, it also keeps every later apt-get in the image from unpacking
# docs and running man-db under QEMU.
SLIM_EXCLUDES = ("/usr/share/doc/*", "/usr/share/man/*", "/usr/share/groff/*",
                 "/usr/share/info/*", "/usr/share/lintian/*", "/usr/share/linda/*",
                 "/usr/share/locale/*")
SLIM_INCLUDES = ("/usr/share/doc/*/copyright", "/usr/share/locale/locale.alias")
# What every official debian image adds to the bootstrapped system (debuerreotype's
# minimizing-config), so that a build on a base made here behaves as on the one pulled: no
# service started by a package's postinst, no apt caches left in the layers, dpkg without
# fsync. (path, mode, text)
_CLEAN = ('"rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb '
          '/var/cache/apt/*.bin || true";')
MINIMIZING = (
    ("usr/sbin/policy-rc.d", 0o755, "#!/bin/sh\nexit 101\n"),
    ("etc/dpkg/dpkg.cfg.d/docker-apt-speedup", 0o644, "force-unsafe-io\n"),
    ("etc/apt/apt.conf.d/docker-autoremove-suggests", 0o644,
     'Apt::AutoRemove::SuggestsImportant "false";\n'),
    ("etc/apt/apt.conf.d/docker-clean", 0o644,
     f"DPkg::Post-Invoke {{ {_CLEAN} }};\nAPT::Update::Post-Invoke {{ {_CLEAN} }};\n"
     'Dir::Cache::pkgcache "";\nDir::Cache::srcpkgcache "";\n'),
    ("etc/apt/apt.conf.d/docker-gzip-indexes", 0o644, 'Acquire::GzipIndexes "true";\n'),
    ("etc/apt/apt.conf.d/docker-no-languages", 0o644, 'Acquire::Languages "none";\n'),
)

Say = Callable[[str], None]


def split_tag(ref: str) -> tuple[str, str]:
    """``(name, tag)`` of ``NAME[:TAG]``; the tag is ``latest`` when none is given (a colon in
    a registry's ``HOST:PORT`` is not a tag)."""
    name, _, tag = ref.rpartition(":") if ":" in ref.split("/")[-1] else (ref, "", "latest")
    return name, tag


def local_tag(base: str, platform: Platform) -> str:
    name, tag = split_tag(base)
    name = name.split("/", 1)[1] if "." in name.split("/")[0] else name  # drop a registry
    return f"{LOCAL_REGISTRY}/{name}:{tag}-{platform.slug}"


def matches(client: docker.DockerClient, ref: str, platform: Platform) -> bool:
    os, arch, variant = image_platform(client, ref)
    return find(arch, variant, os=os) == platform


def ensure(client: docker.DockerClient, base: str, platform: Platform, *, mirror: str | None,
           refresh: bool = False, say: Say = print, log_path: Path | None = None,
           offline: bool = False, cache: str | None = None) -> str:
    """The local tag of ``base`` for ``platform``, pulling (unless ``offline``) or
    bootstrapping it if needed; with ``cache`` (--cache), a base made on another machine is
    taken from beside the build cache before one is made here (the same base is what makes
    the cache hit)."""
    tag = local_tag(base, platform)
    LOCK_DIR.mkdir(parents=True, exist_ok=True)
    with FileLock(str(LOCK_DIR / (re.sub(r"[^\w.-]", "_", tag) + ".lock"))):
        # A base made by an older recipe is made anew, where the harness can make it.
        if not refresh and _cached(client, tag, platform,
                                   accept_old=debian_suite(base) is None):
            say(f"base {tag} cached")
            return tag
        local = _local_platform(client, base)
        if local == platform.name:
            # The user's own image of this platform, used as it is (under the per-platform
            # tag, so that no other platform's build can pick it up).
            client.images.get(base).tag(*split_tag(tag))
            say(f"base {base} is a local {platform.name} image; used as it is")
            return tag
        if not offline and _pull(client, base, platform, tag, say):
            return tag
        if cache is not None and not refresh and _from_cache(client, cache, platform, tag, say):
            return tag
        suite = debian_suite(base)
        if suite is None and local is not None:
            raise UsageError(f"BASE_IMAGE {base} is a local {local} image, not {platform.name}, "
                             "and no registry serves it for that platform",
                             "give a base of each platform (one run per platform with its own "
                             "BASE_IMAGE), or build only --platform " + local)
        if suite is None:
            raise BaseUnavailable(
                f"cannot pull {base} for {platform.name}, and only Debian bases can be "
                "bootstrapped here",
                "make the registry reachable, or pass --build-arg BASE_IMAGE=debian:SUITE",
            )
        mirror = mirror or debian_mirror()
        if not mirror:
            raise BaseUnavailable(f"cannot pull {base}, and no Debian mirror is configured",
                                  "pass --mirror URL (or set mirror in [tool.harness])")
        extra = slim_options() if base.split(":")[-1].endswith("-slim") else ()
        bootstrap(client, suite, platform, tag, mirror=mirror, say=say, log_path=log_path,
                  extra=extra, added=MINIMIZING)
    return tag


def made_here(client: docker.DockerClient, tag: str) -> bool:
    """Whether the local base ``tag`` was made by the harness (bootstrapped), not pulled."""
    try:
        return bool((client.images.get(tag).labels or {}).get(BOOTSTRAPPED_LABEL))
    except docker.errors.ImageNotFound:
        return False


def _from_cache(client: docker.DockerClient, cache: str, platform: Platform, tag: str,
                say: Say) -> bool:
    """The base made by the same recipe on another machine, from beside the build cache."""
    source = buildcache.base_tag(cache, tag)
    repo, version = split_tag(source)
    try:
        image = client.images.pull(repo, tag=version, platform=platform.name)
    except docker.errors.APIError:
        say(f"no base in the cache at {source}; making it here")
        return False
    if (image.labels or {}).get(RECIPE_LABEL) != RECIPE or not matches(client, source, platform):
        client.images.remove(source, force=True)
        say(f"the base at {source} is of another recipe or platform; making it here")
        return False
    image.tag(tag)
    client.images.remove(source, noprune=True)
    say(f"base {tag} taken from the cache ({source})")
    return True


def slim_options() -> tuple[str, ...]:
    return (*(f"--dpkgopt=path-exclude={p}" for p in SLIM_EXCLUDES),
            *(f"--dpkgopt=path-include={p}" for p in SLIM_INCLUDES))


def _local_platform(client: docker.DockerClient, ref: str) -> str | None:
    """The platform of a local image ``ref`` (its name, or os/arch as given); None if absent."""
    try:
        os_, arch, variant = image_platform(client, ref)
    except docker.errors.ImageNotFound:
        return None
    except docker.errors.APIError:  # not a valid local reference: not a local image
        return None
    p = find(arch, variant, os=os_)
    return p.name if p else "/".join(x for x in (os_, arch, variant) if x)


def _cached(client: docker.DockerClient, tag: str, platform: Platform,
            accept_old: bool = False) -> bool:
    try:
        ok = matches(client, tag, platform)
        labels = client.images.get(tag).labels or {}
    except docker.errors.ImageNotFound:
        return False
    if not accept_old and labels.get(BOOTSTRAPPED_LABEL) and \
            labels.get(RECIPE_LABEL) != RECIPE:
        return False
    if not ok:
        client.images.remove(tag, force=True)  # a stale tag of another platform: never use it
    return ok


def _pull(client: docker.DockerClient, base: str, platform: Platform, tag: str,
          say: Say) -> bool:
    repo, version = split_tag(base)
    # Pulls share the name `base` across platforms: one at a time, re-tagged at once.
    with FileLock(str(LOCK_DIR / "pull.lock")):
        try:
            image = client.images.pull(repo, tag=version, platform=platform.name)
        except docker.errors.APIError as exc:
            why = str(getattr(exc, "explanation", None) or exc).splitlines()[0][:160]
            say(f"cannot pull {base} for {platform.name} ({why}); "
                "making it from Debian's archive instead")
            return False
        image.tag(tag)
    if not matches(client, tag, platform):
        client.images.remove(tag, force=True)
        raise ImageWrong(f"the registry served {base} of another platform than "
                         f"{platform.name}", "pin the base by a digest of the right platform")
    return True


def bootstrap(client: docker.DockerClient, suite: str, platform: Platform, tag: str, *,
              mirror: str, say: Say = print, log_path: Path | None = None,
              variant: str = "minbase", extra: tuple[str, ...] = (),
              added: tuple[tuple[str, int, str], ...] = ()) -> None:
    """mmdebstrap ``suite`` for the platform and load it as ``tag``.

    ``extra`` goes to mmdebstrap as is (``--include=…``, ``--customize-hook=…``); ``added``:
    files (path, mode, text) added to the root file system it makes.
    """
    if not shutil.which("mmdebstrap"):
        raise BaseUnavailable("no registry reachable and no mmdebstrap to make a base",
                              "apt-get install mmdebstrap (or `nox -s preflight` as root)")
    with tempfile.TemporaryDirectory(prefix="harness-base-") as tmp:
        rootfs = Path(tmp) / "rootfs.tar"
        cmd = ["mmdebstrap", f"--variant={variant}", f"--architectures={platform.dpkg_arch}",
               *extra, suite, str(rootfs), f"deb {mirror} {suite} main"]
        _run_with_retries(cmd, platform, mirror, say, log_path)
        _add_files(rootfs, added)
        say(f"loading the {suite} {platform.dpkg_arch} base as {tag}")
        load_rootfs(client, rootfs, platform, tag,
                    {"org.opencontainers.image.base.name": f"debian:{suite}",
                     BOOTSTRAPPED_LABEL: f"mmdebstrap {variant}",
                     RECIPE_LABEL: RECIPE})


def _add_files(rootfs: Path, added: tuple[tuple[str, int, str], ...]) -> None:
    """Files appended to the root file system's tarball, owned by root. (Appended, not
    written by an mmdebstrap hook: mmdebstrap removes the policy-rc.d it finds at its end.)"""
    if not added:
        return
    now = int(time.time())
    with tarfile.open(rootfs, "a") as tar:
        for path, mode, text in added:
            data = text.encode()
            info = tarfile.TarInfo(f"./{path}")
            info.size, info.mode, info.mtime = len(data), mode, now
            tar.addfile(info, io.BytesIO(data))


def _run_with_retries(cmd: list[str], platform: Platform, mirror: str, say: Say,
                      log_path: Path | None) -> None:
    """Run mmdebstrap; a failure the diagnosis calls transient (a mirror mid-sync) is retried."""
    for attempt in range(1, ATTEMPTS + 1):
        say(f"bootstrapping a {platform.dpkg_arch} base from {mirror} (attempt {attempt})")
        # stdin closed: without a mirror argument mmdebstrap would read sources from it.
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False,
                              stdin=subprocess.DEVNULL)
        if log_path:
            files.append_log(log_path, f"$ {' '.join(cmd)}\n{proc.stdout}{proc.stderr}\n")
        if proc.returncode == 0:
            return
        d = diagnose(Event(Stage.BASE, output=proc.stdout + proc.stderr,
                           status=proc.returncode, command="mmdebstrap",
                           platform=platform.name, host=mirror,
                           log=str(log_path) if log_path else "",
                           interrupted=interrupts.stopping()))
        if not d.transient or attempt == ATTEMPTS:
            raise from_diagnosis(d, BaseUnavailable)
        time.sleep(5 * attempt)


def load_rootfs(client: docker.DockerClient, rootfs: Path, platform: Platform, tag: str,
                labels: dict[str, str]) -> None:
    """Make ``tag`` from a root filesystem tarball, with the platform in its config."""
    # FROM scratch + ADD, built with --platform, is what gives the config the right
    # os/architecture/variant (`docker import --platform` does not, on engine 20.10).
    dockerfile = b'FROM scratch\nADD rootfs.tar /\nCMD ["sh"]\n'
    context = rootfs.parent / "context.tar"
    with tarfile.open(context, "w") as tar:
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(dockerfile)
        tar.addfile(info, io.BytesIO(dockerfile))
        tar.add(rootfs, arcname="rootfs.tar")
    with context.open("rb") as fh:
        client.images.build(
            fileobj=fh, custom_context=True, tag=tag, platform=platform.name, rm=True,
            forcerm=True, pull=False, labels=labels,
        )
