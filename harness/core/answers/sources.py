"""Every built-in source of what an image is, declared once.

Each source is one question put to an image and the rules for its answer: the command asked
(if it is one), how the answer is told in a finding, the fix of a mismatch, the text when it
is absent, whether it names a platform, and the line the JUnit case and the docs say of it.
Everything that lists sources reads them from here, in this order: the probes (commands), the
verdicts (labels, fixes, absence), the plugin (one JUnit case per source and platform), the
reports (the HTML matrix's columns), the options (``--require``). Pure: data only.
"""

from __future__ import annotations

from dataclasses import dataclass

USERLAND_FIX = (
    "the image's userland is of another architecture: build FROM a base of the requested "
    "platform (a per-platform base tag, or FROM --platform=$TARGETPLATFORM) and check "
    "`docker image inspect` of the base"
)
TOOLCHAIN_FIX = (
    "install the toolchain for the image's own architecture: choose the rustup host triple "
    "from `dpkg --print-architecture` (`rustup-init --default-host TRIPLE`), never from "
    "`uname -m`, or use Debian's rustc package"
)


@dataclass(frozen=True)
class Source:
    name: str  # as report.json names it: observed.NAME, findings[].source
    doc: str  # what it checks, in a sentence (the JUnit case's and the docs' line)
    command: tuple[str, ...] = ()  # the command asked in the image, if the source is one
    says: str = ""  # how a finding quotes its answer: "uname -m says"
    fix: str = ""  # the fix of an answer that names another platform
    when_absent: str = ""  # the finding's text when there is nothing to ask
    maps: bool = True  # whether its answer names a platform (cargo's and hello's do not)
    # Whether its answer may change with the machine that asks (uname -m under QEMU, a
    # program run, the CPU model): such answers are not compared with a publisher's.
    host_bound: bool = False


BUILTIN: tuple[Source, ...] = (
    Source("config", "the image config's os/architecture/variant is the platform",
           says="the image config says",
           fix="the engine built another platform than requested: usually the FROM tag "
               "already existed locally for another platform; give every platform its own "
               "base tag"),
    Source("dpkg", "the userland dpkg installed is of the platform",
           ("dpkg", "--print-architecture"), "the userland (dpkg) is", USERLAND_FIX),
    Source("apk", "the Alpine userland is of the platform (asked where there is no dpkg)",
           ("apk", "--print-arch"), "the userland (apk) is", USERLAND_FIX),
    Source("rpm", "the RPM userland is of the platform (asked where there is no dpkg or apk)",
           ("rpm", "--eval", "%{_arch}"), "the userland (rpm) is", USERLAND_FIX),
    Source("uname", "uname -m names the platform (or a known quirk of the host)",
           ("uname", "-m"), "uname -m says", USERLAND_FIX, host_bound=True),
    Source("getconf", "the libc's word size is the platform's", ("getconf", "LONG_BIT"),
           "the libc word size is", USERLAND_FIX, "there is no getconf"),
    Source("sh-elf", "/bin/sh is an ELF program of the platform", says="/bin/sh is",
           fix=USERLAND_FIX, when_absent="there is no /bin/sh"),
    Source("rustc", "rustc's host triple is the platform's", ("rustc", "-vV"),
           "rustc's host triple is", TOOLCHAIN_FIX),
    Source("rustc-elf", "the rustc binary is an ELF program of the platform",
           says="the rustc binary is", fix=TOOLCHAIN_FIX),
    Source("cargo", "cargo runs", ("cargo", "-V"), maps=False),
    Source("hello", "a hello-world crate compiles (`cargo build` as CI runs it: no "
           "incremental cache, no debug info) and runs in the image", maps=False,
           when_absent="there is no cargo to compile a hello-world crate with",
           host_bound=True),
    Source("hello-elf", "the program rustc compiled is of the platform",
           says="the program rustc compiled is", fix=TOOLCHAIN_FIX),
    Source("elf-audit", "every ELF executable and shared object of the image is of the "
           "platform (or where foreign code is expected: --allow-foreign, Debian's multiarch "
           "and cross directories)"),
    Source("linkage", "every dynamically linked program can start: its program interpreter "
           "and every library it needs are in the image, found as the loader finds them",
           maps=False),
    Source("packages", "the package database can be listed (its names and versions are "
           "compared across platforms in the reports' parity section)", maps=False,
           when_absent="there is no package database to compare"),
    Source("baseline-cpu", "the commands that answered run on the platform's oldest CPU "
           "too (QEMU's model of it; asked for platforms emulated here)", maps=False,
           host_bound=True),
    Source("isa", "no program needs a later CPU than the platform offers (ARM build "
           "attributes against arm/v5, v6, v7; x86-64 ISA level notes against amd64's "
           "baseline; asked on those platforms)", maps=False),
    Source("native-modules", "every Python extension module of the image (under any "
           "site-packages or dist-packages, venvs included) and every Node addon (under any "
           "node_modules) loads with the image's own interpreter, on the platform and on its "
           "oldest CPU (found with no configuration; native-modules, native-skip)",
           maps=False, host_bound=True,
           when_absent="there is no native module to load"),
)
BY_NAME = {s.name: s for s in BUILTIN}
NAMES = tuple(s.name for s in BUILTIN)
USERLANDS = ("dpkg", "apk", "rpm")  # each asked only where the one before is absent
# How each userland lists its packages, tab-separated where the tool can say so.
PACKAGE_LISTS = {
    "dpkg": ("dpkg-query", "-W", "-f=${Package}\t${Version}\t${Architecture}\n"),
    "apk": ("apk", "info", "-v"),
    "rpm": ("rpm", "-qa", "--qf", "%{NAME}\t%{VERSION}-%{RELEASE}\t%{ARCH}\n"),
}
# The file each userland keeps of what was installed by hand (harness.core.answers.parity.manual),
# read from the image as a file: no tool needed (apt-mark needs apt; minimal images have
# only dpkg). apt writes the packages it pulled in as dependencies, apk the names asked for.
# RPM's are in dnf 4's history database (an SQLite file, and its write-ahead log beside it),
# its rows read by harness.containers.dnf_history; dnf 5's packages.toml is not read yet.
PACKAGE_MARKS = {"dpkg": "/var/lib/apt/extended_states", "apk": "/etc/apk/world",
                 "rpm": "/var/lib/dnf/history.sqlite"}
MARKS_BYTES = 8 << 20  # of a marks file read (20,000 packages' stanzas take ~1.5 MB)
HISTORY_BYTES = 64 << 20  # of dnf's history and its log, each (an image's: under 1 MB)


def rank(name: str) -> int:
    """A source's place in the reports: the built-in order, then the rest as found."""
    return NAMES.index(name) if name in BY_NAME else len(NAMES)
