"""Why something went wrong, decided in one place: what happened in, a kind, message and fix out.

Every stage that can fail (provisioning the machine, making a base, building, starting a probe
container, probing, publishing, checking a reference) describes what happened as an
:class:`Event`: the stage, the command, its exit status or signal, what it printed, and how the
platform runs on this host. :func:`diagnose` walks one table of causes, first match wins, and
returns a :class:`Diagnosis` whose kind fixes the verdict and the exit status (see
``harness.core.outcomes``). This is the only module that matches the text of an error: a CI retries
an ``error`` and blocks on a ``fail``, so the cause must not be guessed in several places.

Pure: no I/O. The patterns come from output captured on real engines, mirrors and registries
(``tests/core/test_diagnosis.py`` holds it).
"""

from __future__ import annotations

import re
import signal as signals
from dataclasses import replace

from harness.core import sinks
from harness.core.failures.events import (
    ALL,
    ENGINE_FIX,
    ENGINE_STAGES,
    INTERRUPTED_FIX,
    INTERRUPTIONS,
    LOGIN_FIX,
    MIRROR_FIX,
    MIRROR_STAGES,
    REGISTRY_STAGES,
    TRANSIENT,
    Cause,
    Diagnosis,
    Event,
    Stage,
    _first_line,
    _rx,
    _see,
    _where,
    clean,
    no_handler_fix,
    signal_name,
    signal_of,
    tail,
)
from harness.core.outcomes import Kind, RunKind

# Read from here by the rest of the harness: the table's words and its event's types.
__all__ = [
    "CAUSES",
    "ENGINE_FIX",
    "INTERRUPTED_FIX",
    "INTERRUPTIONS",
    "LOGIN_FIX",
    "MIRROR_FIX",
    "TRANSIENT",
    "Cause",
    "Diagnosis",
    "Event",
    "Stage",
    "bounded",
    "clean",
    "diagnose",
    "machine_fault",
    "no_handler_fix",
    "signal_name",
    "signal_of",
    "tail",
]


_REFUSED = re.compile(r"unauthorized|denied|authentication required|no basic auth credentials",
                      re.I)
_NOT_FOUND = re.compile(r"executable file not found|no such file or directory|not found", re.I)


def _absent(event: Event) -> bool:
    """The shell's 127, or the runtime's 126 for a command it could not find."""
    return event.status == 127 or (event.status == 126 and bool(_NOT_FOUND.search(event.output)))


EMULATOR_FIX = (
    "use a newer QEMU for this platform (`docker run --privileged --rm tonistiigi/binfmt "
    "--install all`, or Debian trixie's qemu-user-static), or check it on a native runner "
    "(--engine PLATFORM=ssh://...)"
)
# QEMU's own words when the guest dies by a signal (linux-user/signal.c, dump_core_and_abort).
QEMU_CRASH = _rx(r"qemu: uncaught target signal (\d+)[^\n]*")


def _emulator_fault(event: Event) -> bool:
    """A crash QEMU reported, for an emulated platform, that is not shown to be the image's:
    a build step (no second emulator can run one), or a probe that ran under a second QEMU or
    could not be run there."""
    return event.mode is RunKind.QEMU and event.elsewhere is not False


def _emulator_message(event: Event, m: re.Match[str] | None) -> tuple[str, str]:
    under = event.emulator or "QEMU"
    said = _first_line(event, m)
    if event.stage is Stage.BUILD:
        return (f"{_where(event)}{under} crashed in a build step, twice ({said}): an emulator "
                f"fault until shown otherwise{_see(event)}",
                EMULATOR_FIX + "; if the step crashes on a native machine too, fix the step")
    if event.elsewhere:
        return (f"{_where(event)}`{event.command}` died under {under} ({said}) and ran under "
                f"{event.second}: a fault of the emulator, not of the image", EMULATOR_FIX)
    return (f"{_where(event)}`{event.command}` died under {under} ({said}), and no second "
            f"emulator could tell whether QEMU or the image is at fault ({event.why_not})",
            EMULATOR_FIX + "; the harness asks Debian trixie's QEMU when apt can download it")


def _foreign(event: Event) -> bool:
    """An exec format error is the image's fault once the image's own code has run here:
    during probes (the container's shell is up), or for a platform the CPU runs natively."""
    return event.stage is Stage.PROBE or event.mode is RunKind.NATIVE


# buildx cancelled by its client's signal: BuildKit's word for it, or the docker CLI's and
# buildx's own when signals come faster than the cancel (three of them: a cancel passed on by
# each process of the run, then stop()'s), which exits 1 at once with nothing else said.
_CANCELLED = _rx(r"Canceled: context canceled|got \d+ SIGTERM/SIGINTs, (forcefully exiting|"
                 r"forcing shutdown)")
_STOPPING = frozenset({signals.SIGINT, signals.SIGTERM, signals.SIGHUP, signals.SIGKILL})


def _cancelled(event: Event) -> bool:
    """The build's client (buildx) was stopped: it said so, or died by a stopping signal (its
    own exit status: a step of the image killed by one shows in the output, not here)."""
    return bool(_CANCELLED.search(event.output)) or (
        event.status is not None and event.status < 0 and -event.status in _STOPPING)


CAUSES: tuple[Cause, ...] = (
    # -- the run itself ---------------------------------------------------------------------------
    Cause("interrupted", Kind.ERROR, ALL,
          lambda e, m: (f"{_where(e)}the {e.stage} was interrupted{_see(e)}", INTERRUPTED_FIX),
          when=lambda e: e.interrupted,
          why="the run was interrupted (Ctrl-C, a CI cancel's SIGTERM) while the stage ran: "
              "what it printed as it was stopped (a step killed, buildx forced out) says "
              "nothing of the image or the machine"),
    # -- the machine --------------------------------------------------------------------------
    Cause("disk-full", Kind.ERROR, ALL,
          lambda e, m: (f"{_where(e)}the disk is full: {_first_line(e, m)}",
                        "free space where Docker keeps its data and on this machine "
                        "(docker image prune, docker builder prune), then run again"),
          _rx(r"^.*no space left on device.*$"),
          why="a write failed for want of space (ENOSPC): in Docker's data root, its build "
              "cache or a temporary directory; whatever step it interrupted, the image is "
              "not to blame"),
    Cause("arch-test-missing", Kind.ERROR, frozenset({Stage.PROVISION, Stage.BASE}),
          lambda e, m: (f"{_where(e)}mmdebstrap cannot make a foreign base: arch-test is not "
                        "installed", "apt-get install arch-test (as root, `nox -s preflight` "
                        "installs it)"),
          _rx(r"install arch-test for foreign architecture support"),
          why="mmdebstrap asks arch-test whether this machine can run the platform's "
              "binaries before it makes a foreign base, and refuses without it (it is only "
              "a Recommends of mmdebstrap)"),
    Cause("no-emulation-for-bootstrap", Kind.ERROR, frozenset({Stage.PROVISION, Stage.BASE}),
          lambda e, m: (f"{_where(e)}binaries of the platform cannot run on this host: "
                        f"{_first_line(e, m)}", no_handler_fix(e.platform or "the platform")),
          # mmdebstrap's words, and arch-test's own.
          _rx(r"^E: .*(can neither be executed natively nor via qemu|arch-test succeeded "
              r"without emu but not|no mapping from \S+ to qemu-user).*$|"
              r"^\S+: not supported on this machine/kernel$"),
          why="a base of another architecture is made by running its own dpkg and "
              "maintainer scripts, which needs a QEMU handler registered in binfmt_misc for "
              "it"),
    Cause("apt-locked", Kind.ERROR, frozenset({Stage.PROVISION}),
          lambda e, m: (f"another program holds apt's lock ({_first_line(e, m)}), and it was "
                        "waited for in vain", "let that program finish (unattended-upgrades, "
                        "another apt-get), then run again"),
          _rx(r"Could not get lock \S+?\.?( It is held by process \d+ \([^)]*\))?|"
              r"Unable to acquire the dpkg frontend lock"),
          why="another program (unattended-upgrades, an apt-get of someone's) held apt's "
              "lock for longer than the harness waits (5 minutes)"),
    Cause("tool-not-installed", Kind.ERROR, frozenset({Stage.PROVISION}),
          lambda e, m: (f"{e.subject} is not installed on this machine",
                        f"apt-get install {e.subject} (as root, `nox -s preflight` installs it)"),
          when=lambda e: e.status == 127 and bool(e.subject),
          why="the harness runs that program of this machine's, and it is not on PATH"),
    Cause("mirror-out-of-sync", Kind.ERROR, MIRROR_STAGES,
          lambda e, m: (f"{_where(e)}the Debian mirror is out of sync or mid-update: "
                        f"{_first_line(e, m)}", MIRROR_FIX + "; it is retried, and usually "
                        "passes within minutes"),
          _rx(r"Hash Sum mismatch|File has unexpected size|Mirror sync in progress|"
              r"^E: Failed to fetch \S+\.deb\s+404\s+Not Found"),
          why="a Debian mirror being updated serves index files and packages that do not "
              "match for a while; it passes again within minutes"),
    Cause("mirror-unreachable", Kind.ERROR, MIRROR_STAGES,
          lambda e, m: (f"{_where(e)}the Debian mirror cannot be reached: {_first_line(e, m)}",
                        MIRROR_FIX),
          _rx(r"^E: Failed to fetch .*(Could not connect|Could not resolve|Connection (refused|"
              r"timed out|failed)|Temporary failure resolving|Network is unreachable|"
              r"Unable to connect).*$|Temporary failure resolving .*$"),
          why="the bases and apt steps fetch packages from the Debian mirror, and it did "
              "not answer"),
    Cause("mirror-invalid", Kind.ERROR, MIRROR_STAGES,
          lambda e, m: (f"{_where(e)}the Debian mirror has no such suite or is not a mirror: "
                        f"{_first_line(e, m)}", MIRROR_FIX),
          _rx(r"^E: (Failed to fetch \S+/(In)?Release\s+\d{3}.*|The repository .* (does not "
              r"have a Release file|is not signed).*)$"),
          why="the mirror answered, but not as a Debian archive with that suite"),
    Cause("bridge-missing", Kind.ERROR, ENGINE_STAGES | {Stage.PROVISION},
          lambda e, m: (f"{_where(e)}the engine's bridge network is gone "
                        f"({clean(m[0]) if m else ''}): no container can start with a network",
                        "restart the engine so that it makes its bridge again; a second dockerd "
                        "started with --bridge=none deletes the first engine's docker0 (give it "
                        "a bridge of its own with --bridge=NAME)"),
          _rx(r"could not find bridge \S+"),
          why="containers with a network attach to the engine's bridge; a second dockerd "
              "started with --bridge=none deletes the first engine's docker0"),
    # -- the docker context and buildx builder named ----------------------------------------
    Cause("context-unknown", Kind.USAGE, frozenset({Stage.ENGINE}),
          lambda e, m: (f"there is no docker context {sinks.terminal(e.subject, 80)!r}",
                        "name one that `docker context ls` lists (--docker-context, "
                        "DOCKER_CONTEXT), or make it with `docker context create`"),
          _rx(r'context "[^"\n]*": context not found|context "[^"\n]*" does not exist'),
          why="the docker context named by --docker-context or DOCKER_CONTEXT is not in the "
              "docker CLI's store: the name is wrong"),
    Cause("builder-unknown", Kind.USAGE, frozenset({Stage.ENGINE}),
          lambda e, m: (f"there is no buildx builder {sinks.terminal(e.subject, 80)!r}",
                        "name one that `docker buildx ls` lists (--builder NAME), or make it "
                        "with `docker buildx create --name NAME`"),
          _rx(r"no builder \S+ found"),
          why="the builder --builder names is not one buildx knows: the name is wrong"),
    Cause("engine-tls", Kind.ERROR, frozenset({Stage.ENGINE}),
          lambda e, m: (f"the engine at {e.host} ({e.subject}) refused TLS: "
                        f"{_first_line(e, m)}",
                        "give the context the engine's CA and a client certificate it "
                        "accepts (`docker context update NAME --docker host=...,ca=...,"
                        "cert=...,key=...`), or DOCKER_CERT_PATH for --engine"),
          _rx(r"certificate verify failed.*|x509: .*|tls: .*|SSLError.*|"
              r"wrong version number.*"),
          why="the engine and the TLS material of this machine (the docker context's CA "
              "and client certificate, DOCKER_CERT_PATH) do not agree: the name given was "
              "right, the machine's setup is not, and which side is wrong (material, or an "
              "engine's certificate rotated or expired) cannot be told from here, as for a "
              "registry's TLS"),
    Cause("no-engine", Kind.ERROR, ALL,
          lambda e, m: (f"{_where(e)}no container engine answers ({_first_line(e, m)})",
                        ENGINE_FIX),
          _rx(r"Cannot connect to the Docker daemon|Error while fetching server API version|"
              r"docker\.sock.*(No such file|Connection refused)"),
          why="every build and probe talks to a container engine, and none answered at the "
              "address in use"),
    Cause("engine-gone", Kind.ERROR, ENGINE_STAGES,
          lambda e, m: (f"{_where(e)}the engine went away during the {e.stage}: "
                        f"{_first_line(e, m)}", ENGINE_FIX),
          _rx(r"error reading from server: EOF|transport is closing|Connection aborted|"
              r"RemoteDisconnected|docker\.sock.*(reset|broken pipe)"),
          why="the connection to the engine broke while it was working"),
    # The engine stopping kills the running step (the classic builder then says "returned a
    # non-zero code: 137"): text cannot tell that from a failing step, the engine's silence can.
    Cause("engine-stopped", Kind.ERROR, ENGINE_STAGES,
          lambda e, m: (f"{_where(e)}the engine stopped answering during the {e.stage}"
                        f"{_see(e)}", ENGINE_FIX),
          when=lambda e: e.engine_answers is False,
          why="the build or probe failed and the engine no longer answers: the engine "
              "stopping is the likelier cause than the image"),
    # -- the base a Dockerfile names ------------------------------------------------------------
    Cause("base-refused", Kind.ERROR, frozenset({Stage.BUILD, Stage.BASE}),
          lambda e, m: (f"{_where(e)}the registry refused to serve the base image: "
                        f"{_first_line(e, m)}", LOGIN_FIX),
          _rx(r"pull access denied.*|unauthorized: .*|denied: .*|authentication required.*|"
              r"no basic auth credentials.*|failed with status code \[[^\]]*\]: 40[13] .*"),
          why="the registry of the Dockerfile's FROM image asks for credentials the engine "
              "does not have"),
    Cause("base-unknown", Kind.BUILD, frozenset({Stage.BUILD, Stage.BASE}),
          lambda e, m: (f"{_where(e)}the base image the Dockerfile names does not exist: "
                        f"{_first_line(e, m)}", "correct the FROM line (name and tag)"),
          _rx(r"manifest for \S+ not found.*|not found: manifest unknown.*|"
              r"failed to resolve source metadata for \S+: \S+: not found.*|"
              r"failed to create LLB definition: \S+: not found.*"),
          why="the registry answered, and has no image of that name and tag: the Dockerfile "
              "names something that does not exist"),
    Cause("base-unreachable", Kind.ERROR, frozenset({Stage.BUILD, Stage.BASE}),
          lambda e, m: (f"{_where(e)}the registry of a base image cannot be reached: "
                        f"{_first_line(e, m)}",
                        "declare `ARG BASE_IMAGE` and use `FROM $BASE_IMAGE`, so the harness "
                        "provides a base of each platform; or build with buildx on Docker 23+, "
                        "where the harness serves Debian FROMs itself; or make the registry "
                        "reachable"),
          _rx(r"(failed to do request|Get|Head) \"?https?://[^\s\"]+\"?: (dial tcp|net/http|"
              r"proxyconnect).*(no such host|connection refused|i/o timeout|network is "
              r"unreachable|TLS handshake timeout).*"),
          why="the registry of the Dockerfile's FROM image could not be reached from the "
              "engine"),
    # -- emulation -------------------------------------------------------------------------------
    Cause("foreign-binary", Kind.BROKEN, frozenset({Stage.BUILD, Stage.START, Stage.PROBE}),
          lambda e, m: (f"{_where(e)}{e.subject or 'a binary'} in the image cannot be executed "
                        f"here: it is a binary of another architecture ({_first_line(e, m)})",
                        f"install {e.subject or 'the binary'} for the image's own platform "
                        f"({e.platform or 'the platform'}); `file` on it shows what it is"),
          _rx(r"exec format error"), when=_foreign,
          why="a binary of another architecture cannot run where the image's own code "
              "already runs (its shell under emulation, or natively): the image holds the "
              "wrong binary"),
    Cause("no-emulation", Kind.ERROR, frozenset({Stage.BUILD, Stage.START, Stage.BASE}),
          lambda e, m: (f"{_where(e)}binaries of the platform cannot run on this host "
                        f"(exec format error){_see(e)}", no_handler_fix(e.platform or "it")),
          _rx(r"exec format error"),
          why="binaries of the platform cannot run on the engine's host: no QEMU handler "
              "for them in binfmt_misc"),
    # -- bad input found late ----------------------------------------------------------------
    Cause("dockerfile-invalid", Kind.USAGE, frozenset({Stage.BUILD}),
          lambda e, m: (f"{_where(e)}the Dockerfile cannot be used: {_first_line(e, m)}",
                        "fix the Dockerfile (the line named above) or pass --dockerfile"),
          _rx(r"dockerfile parse error.*|unknown instruction: .*|the Dockerfile \(\S+\) cannot "
              r"be empty.*|file with no instructions.*|Dockerfile cannot be empty.*|"
              r"forbidden path outside the build context.*|"
              r"failed to read dockerfile: .*|Cannot locate specified Dockerfile.*"),
          why="the builder could not read the Dockerfile: bad input, found only once the "
              "build began"),
    Cause("emulator-crash", Kind.EMULATOR, frozenset({Stage.BUILD, Stage.PROBE}),
          _emulator_message, QEMU_CRASH, when=_emulator_fault,
          why="QEMU has bugs of its own (a guest dies under one version and runs under the "
              "next); a crash only one QEMU shows, or one no second QEMU could be asked "
              "about, is not shown to be the image's"),
    Cause("build-cancelled", Kind.ERROR, frozenset({Stage.BUILD}),
          lambda e, m: (f"{_where(e)}the build was cancelled{_see(e)}", INTERRUPTED_FIX),
          when=_cancelled,
          why="BuildKit cancels a build when its client stops (Ctrl-C, a CI cancel), and "
              "buildx exits at once after three signals (\"got 3 SIGTERM/SIGINTs, forcefully "
              "exiting\"): the run was interrupted, which says nothing of the image; the step "
              "it cancelled must not be taken for a failing one"),
    # -- the image ------------------------------------------------------------------------------
    Cause("step-failed", Kind.BUILD, frozenset({Stage.BUILD}),
          lambda e, m: (f"{_where(e)}a build step failed: {_first_line(e, m)}{_see(e)}",
                        "fix the failing step for this platform (its log ends with the error)"),
          _rx(r"returned a non-zero code: \d+|did not complete successfully: exit code: \d+|"
              r"executor failed running \[.*\]: exit code: \d+"),
          why="a RUN step exited non-zero: the image's own build failed for this platform"),
    Cause("no-command", Kind.MISSING, frozenset({Stage.START}),
          lambda e, m: (f"{_where(e)}the image has no command to start (no ENTRYPOINT or "
                        "CMD)", "give the image its service's CMD or ENTRYPOINT, or drop the "
                        "service check"),
          _rx(r"no command specified"),
          why="a service check starts the image's own command; an image without one has no "
              "service to start"),
    # -- probes -----------------------------------------------------------------------------------
    Cause("no-shell", Kind.ABSENT, frozenset({Stage.START}),
          lambda e, m: (f"{_where(e)}the image has no /bin/sh: each probe runs in a container "
                        "of its own", ""),
          _rx(r'exec: "/bin/sh": stat /bin/sh: no such file or directory'),
          why="each probe is a command run in the image; without /bin/sh every command runs "
              "in a container of its own, which is fine"),
    Cause("probe-timeout", Kind.ERROR, frozenset({Stage.START, Stage.PROBE}),
          lambda e, m: (f"{_where(e)}`{e.command}` did not answer",
                        "raise --probe-timeout, or find why it hangs (see the probe log)"),
          when=lambda e: e.timed_out,
          why="the command did not answer within the probe's time limit; under emulation "
              "commands are several times slower"),
    Cause("interpreter-missing", Kind.BROKEN, frozenset({Stage.START, Stage.PROBE}),
          lambda e, m: (f"{_where(e)}{e.subject or 'a binary'} cannot start: its program "
                        f"interpreter {m[1] if m else ''} is not in the image",
                        f"install the C library {e.subject or 'the binary'} was linked against "
                        f"for {e.platform or 'the platform'} (a binary built for another libc or "
                        "/usr layout shows this)"),
          _rx(r"Could not open '([^']*ld[-.][^']*)': No such file or directory"),
          why="a dynamically linked program names its program interpreter (ld.so); without "
              "it in the image the kernel cannot start the program"),
    Cause("tool-unrunnable", Kind.BROKEN, frozenset({Stage.PROBE}),
          lambda e, m: (f"{_where(e)}{e.subject} is in the image but cannot be executed "
                        f"(exit {e.status}: {tail(e.output) or 'no output'})",
                        f"its program interpreter or a library is missing: `file` on "
                        f"{e.subject} shows which it wants; install it for {e.platform}"),
          when=lambda e: _absent(e) and e.exists,
          why="the file is there, but the system says it is not found: its program "
              "interpreter or a library it needs is missing"),
    Cause("tool-absent", Kind.MISSING, frozenset({Stage.PROBE}),
          lambda e, m: (f"{_where(e)}{e.subject} is not in the image, and it is required",
                        f"install {e.subject} in the image, or drop it from `require`"),
          when=lambda e: _absent(e) and e.required,
          why="a source the run requires (require) asks a tool the image does not have"),
    Cause("tool-optional-absent", Kind.ABSENT, frozenset({Stage.PROBE}),
          lambda e, m: (f"{_where(e)}{e.subject} is not in the image; not checked", ""),
          when=_absent,
          why="a source that is not required asks a tool the image does not have: nothing "
              "to check"),
    Cause("tool-killed", Kind.BROKEN, frozenset({Stage.PROBE}),
          lambda e, m: (f"{_where(e)}`{e.command}` died by "
                        f"{signal_name(e.signal or signal_of(e.status) or 0)}"
                        f"{f' under {e.emulator} and {e.second} alike' if e.second else ''}: "
                        f"{tail(e.output) or 'no output'}",
                        f"run `{e.command}` in the image for {e.platform or 'the platform'} and "
                        "find why it crashes"),
          when=lambda e: e.signal is not None or ((e.status or 0) > 128 and
          signal_of(e.status) is not None),
          why="the tool died by a signal (SIGSEGV, SIGILL, ...); under emulation only when "
              "a second QEMU crashed too"),
    Cause("tool-failed", Kind.BROKEN, frozenset({Stage.PROBE}),
          lambda e, m: (f"{_where(e)}`{e.command}` exited {e.status}: "
                        f"{tail(e.output) or 'no output'}",
                        f"{e.subject or 'the tool'} is in the image but does not work: run "
                        f"`{e.command}` in it and fix what it says (a rustup proxy without a "
                        "default toolchain exits 1 like this)"),
          when=lambda e: (e.status or 0) != 0,
          why="the tool is there and runs, and exits non-zero: it does not work in the "
              "image"),
    # -- registries --------------------------------------------------------------------------------
    Cause("registry-refused", Kind.ERROR, REGISTRY_STAGES,
          lambda e, m: (f"{_where(e)}registry {e.host} refused the credentials "
                        f"({e.status or clean(tail(e.output, 1), 200)}) for {e.command}",
                        LOGIN_FIX),
          when=lambda e: e.status in (401, 403) or (e.status is None and bool(
              _REFUSED.search(e.output))),
          why="the registry refused the credentials the harness found in docker's stored "
              "logins"),
    Cause("registry-tls", Kind.ERROR, REGISTRY_STAGES,
          lambda e, m: (f"registry {e.host}: TLS failed ({_first_line(e, m)})",
                        "a registry that speaks plain HTTP needs --insecure-registry; one whose "
                        "certificate is not trusted needs its CA in the system's store"),
          _rx(r"SSLError.*|certificate verify failed.*|wrong version number.*|"
              r"server gave HTTP response to HTTPS client.*"),
          why="the registry and the harness could not agree on TLS: plain HTTP, or a "
              "certificate this machine does not trust"),
    Cause("registry-garbled", Kind.ERROR, REGISTRY_STAGES,
          lambda e, m: (f"registry {e.host}: {e.command} answered no JSON document the "
                        f"harness reads: {clean(_first_line(e, m).partition(': ')[2], 200)}",
                        "retry; if it stays, check the registry (or a proxy in front of it): "
                        "it serves what it would not have accepted as a push"),
          _rx(r"^not a JSON document: .*"),
          why="the registry served a manifest, index or config too big (over 4 MiB for a "
              "manifest), nested too deep, not a JSON object, or without a field the "
              "image-spec requires (harness.core.oci.documents): a registry checks what is pushed "
              "(distribution parses every manifest, and Go's JSON reader refuses "
              "10,000 levels), so the registry or a proxy is at fault, not the image"),
    Cause("registry-unreachable", Kind.ERROR, REGISTRY_STAGES,
          lambda e, m: (f"registry {e.host} cannot be reached: {_first_line(e, m)}",
                        "start the registry or check HOST[:PORT] (`nox -s registry` starts a "
                        "local one)"),
          _rx(r"Connection refused|Failed to establish a new connection|Name or service not "
              r"known|timed out|Max retries exceeded|RemoteDisconnected"),
          when=lambda e: e.status is None,
          why="the registry did not answer at that address"),
)

# What a stage means when no row explains it: the engine answered and the build failed, so
# the image is the suspect; anything else is the machine's until shown otherwise.
_FALLBACK = {
    Stage.BUILD: (Kind.BUILD, "the build failed",
                  "fix the failing step for this platform (its log ends with the error)"),
    Stage.PROBE: (Kind.BROKEN, "a probe failed", "see the probe log"),
}


# What of an output is read: its end, in lines of bounded length. An image decides what its
# tools print, and patterns over megabytes of one line would take minutes.
READ_BYTES = 16_384
READ_LINE = 2_000


def bounded(output: str) -> str:
    return "\n".join(line[-READ_LINE:] for line in output[-READ_BYTES:].splitlines())


def machine_fault(stage: Stage, output: str) -> Diagnosis | None:
    """A fault of this machine that any stage may meet (a full disk), for an error nothing
    else expected, before it is called a bug of the harness; None if it is none of those."""
    for cause in CAUSES:
        if cause.stages == ALL and cause.kind is Kind.ERROR and cause.pattern is not None:
            m = cause.match(Event(stage, output=output))
            if isinstance(m, re.Match):
                message, fix = cause.make(Event(stage, output=output), m)
                return Diagnosis(cause.name, cause.kind, message, fix)
    return None


def diagnose(event: Event) -> Diagnosis:
    """The cause of ``event``: the first row of :data:`CAUSES` that explains it."""
    if len(event.output) > READ_BYTES or "\n" not in event.output[:READ_LINE + 1]:
        event = replace(event, output=bounded(event.output))
    for cause in CAUSES:
        m = cause.match(event)
        if m is False:
            continue
        message, fix = cause.make(event, m if isinstance(m, re.Match) else None)
        return Diagnosis(cause.name, cause.kind, message, fix)
    kind, what, fix = _FALLBACK.get(event.stage, (Kind.ERROR, f"the {event.stage} failed",
                                                 "see the log"))
    detail = tail(event.output)
    status = f" (exit {event.status})" if event.status is not None else ""
    return Diagnosis(f"{event.stage}-failed", kind,
                     f"{_where(event)}{what}{status}{': ' + detail if detail else ''}{_see(event)}",
                     fix)
