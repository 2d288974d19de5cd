"""The platform table: every name each architecture source uses for one Docker platform.

Docker says ``386``, dpkg ``i386``, the kernel ``i686`` or ``x86_64``, Rust ``i686``.
Each row maps all of them onto one canonical :class:`Platform`; the facts are those of
``shared/notes/platforms.md`` (measured rows marked there).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.core.jsondoc import JSON

# ELF e_machine values (elf.h).
EM_386 = 3
EM_ARM = 40
EM_PPC64 = 21
EM_S390 = 22
EM_X86_64 = 62
EM_AARCH64 = 183
EM_RISCV = 243


class UnknownPlatform(ValueError):
    """A platform string that is malformed or not in the table."""

    def __init__(self, text: str) -> None:
        known = ", ".join(p.name for p in PLATFORMS)
        super().__init__(
            f"unknown platform {text!r}: use one of {known} (os/architecture[/variant])"
        )
        self.text = text


@dataclass(frozen=True)
class Platform:
    """One Docker platform and what every source should say for it."""

    architecture: str
    variant: str | None
    # The first dpkg architecture is the one a base is bootstrapped with; the others are
    # userlands that also run correctly on this platform.
    dpkg_arches: tuple[str, ...]
    rust_triples: tuple[str, ...]
    bits: int
    big_endian: bool
    elf_machine: int
    # EF_ARM_ABI_FLOAT_HARD set in e_flags (armhf) or not (armel); None where irrelevant.
    arm_hard_float: bool | None
    # What `uname -m` says when the platform's own kind of CPU (or QEMU for it) runs it.
    uname: tuple[str, ...]
    os: str = "linux"

    @property
    def name(self) -> str:
        parts = [self.os, self.architecture] + ([self.variant] if self.variant else [])
        return "/".join(parts)

    @property
    def dpkg_arch(self) -> str:
        return self.dpkg_arches[0]

    @property
    def rust_triple(self) -> str:
        return self.rust_triples[0]

    @property
    def slug(self) -> str:
        """The name as a tag or file name component: ``linux-arm-v7``."""
        return self.name.replace("/", "-")

    def __str__(self) -> str:
        return self.name


PLATFORMS: tuple[Platform, ...] = (
    Platform("amd64", None, ("amd64",), ("x86_64-unknown-linux-gnu",), 64, False, EM_X86_64,
             None, ("x86_64",)),
    # The x86-64 micro-architecture levels, as OCI's image spec names them (linux/amd64/v2
    # to v4): the same userland, for CPUs that have SSE4.2/POPCNT (v2), AVX2/BMI2/FMA (v3),
    # AVX-512 (v4). Plain linux/amd64 promises the baseline (v1) only.
    *(Platform("amd64", level, ("amd64",), ("x86_64-unknown-linux-gnu",), 64, False, EM_X86_64,
               None, ("x86_64",)) for level in ("v2", "v3", "v4")),
    Platform("386", None, ("i386",), ("i686-unknown-linux-gnu", "i586-unknown-linux-gnu"), 32,
             False, EM_386, None, ("i686", "i586", "i486", "i386")),
    Platform("arm64", None, ("arm64",), ("aarch64-unknown-linux-gnu",), 64, False, EM_AARCH64,
             None, ("aarch64", "arm64")),
    Platform("arm", "v7", ("armhf",), ("armv7-unknown-linux-gnueabihf",), 32, False, EM_ARM,
             True, ("armv7l",)),
    # Debian has no armv6 port: armel runs there, and Raspbian's armhf is built for v6.
    Platform("arm", "v6", ("armel", "armhf"),
             ("arm-unknown-linux-gnueabihf", "arm-unknown-linux-gnueabi",
              "armv5te-unknown-linux-gnueabi"), 32, False, EM_ARM, None, ("armv6l",)),
    Platform("arm", "v5", ("armel",),
             ("armv5te-unknown-linux-gnueabi", "arm-unknown-linux-gnueabi"), 32, False, EM_ARM,
             False, ("armv5tel", "armv5tejl")),
    Platform("ppc64le", None, ("ppc64el",), ("powerpc64le-unknown-linux-gnu",), 64, False,
             EM_PPC64, None, ("ppc64le",)),
    Platform("s390x", None, ("s390x",), ("s390x-unknown-linux-gnu",), 64, True, EM_S390, None,
             ("s390x",)),
    Platform("riscv64", None, ("riscv64",), ("riscv64gc-unknown-linux-gnu",), 64, False,
             EM_RISCV, None, ("riscv64",)),
)

DEFAULT_PLATFORMS: tuple[str, ...] = ("linux/amd64", "linux/386", "linux/arm64", "linux/arm/v7")

# Docker's own normalisation (containerd platforms.Normalize) plus the kernel's spellings.
_ARCH_ALIASES = {"x86_64": "amd64", "x86-64": "amd64", "i386": "386", "i686": "386",
                 "aarch64": "arm64", "armhf": "arm", "armel": "arm"}
_DEFAULT_VARIANT = {"arm": "v7"}
_PLATFORM_RE = re.compile(r"^(?P<os>[a-z0-9_]+)/(?P<arch>[a-z0-9_-]+)(?:/(?P<variant>[a-z0-9]+))?$")


def parse_platform(text: str) -> Platform:
    """Parse ``os/arch[/variant]`` the way Docker does; raise :class:`UnknownPlatform`."""
    m = _PLATFORM_RE.match(text.strip().lower())
    if not m:
        raise UnknownPlatform(text)
    return lookup(m["arch"], m["variant"], os=m["os"], original=text)


def lookup(architecture: str, variant: str | None, *, os: str = "linux",
           original: str | None = None) -> Platform:
    """The table row for an image config's os/architecture/variant."""
    arch = _ARCH_ALIASES.get(architecture, architecture)
    if arch == "arm" and architecture == "armel" and not variant:
        variant = "v5"
    variant = variant or _DEFAULT_VARIANT.get(arch)
    if arch == "arm64" and variant == "v8":
        variant = None  # arm64 has a single variant; v8 is optional in configs.
    if arch == "amd64" and variant == "v1":
        variant = None  # containerd's normalisation: amd64/v1 is amd64.
    for p in PLATFORMS:
        if p.os == os and p.architecture == arch and p.variant == variant:
            return p
    raise UnknownPlatform(original or "/".join(x for x in (os, architecture, variant) if x))


def find(architecture: str, variant: str | None, *, os: str = "linux") -> Platform | None:
    """The row for a config's or index entry's os/architecture/variant; None if unknown."""
    try:
        return lookup(architecture, variant, os=os)
    except UnknownPlatform:
        return None


def find_in(data: JSON) -> Platform | None:
    """The same from a JSON object with ``os``, ``architecture`` and ``variant`` keys."""
    return find(str(data.get("architecture", "")), data.get("variant"),
                os=str(data.get("os") or "linux"))


def canonical(text: str) -> str:
    """``text`` as the table names it (``linux/arm`` is ``linux/arm/v7``, ``linux/arm64/v8``
    is ``linux/arm64``), so that two spellings are one platform; a name the table does not
    know is kept as given."""
    try:
        return parse_platform(text).name
    except UnknownPlatform:
        return text


def parse_platforms(texts: list[str] | tuple[str, ...]) -> list[Platform]:
    """Parse and de-duplicate a list of platforms, keeping the order given."""
    seen: dict[str, Platform] = {}
    for text in texts:
        for part in text.split(","):
            if part.strip():
                p = parse_platform(part)
                seen.setdefault(p.name, p)
    return list(seen.values())


def runnable_architectures(buildx_inspect: str) -> set[tuple[str, str]]:
    """The (os, architecture) pairs in the ``Platforms:`` lines of ``docker buildx inspect``
    (``linux/amd64/v2``, ``linux/arm/v7*``: variants and the user-set mark dropped)."""
    found = set()
    for line in buildx_inspect.splitlines():
        if line.strip().startswith("Platforms:"):
            for item in line.split(":", 1)[1].split(","):
                parts = item.strip().rstrip("*").split("/")
                if len(parts) >= 2 and parts[0] and parts[1]:
                    found.add((parts[0], parts[1]))
    return found
