"""The diagnosis table: one row per cause, each from output captured on a real engine, mirror,
apt or registry (Docker 20.10 with buildx 0.13 and the classic builder, mmdebstrap 1.3.5,
distribution 2.8), and the kind, verdict and exit status each must give."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from harness.core.failures.diagnosis import CAUSES, Event, Stage, clean, diagnose, machine_fault
from harness.core.outcomes import Exit, Kind, RunKind

# -- output as captured ----------------------------------------------------------------------

ARCH_TEST = """I: automatically chosen mode: root
I: chroot architecture armhf is different from the host architecture amd64.
E: install arch-test for foreign architecture support"""

NO_EMULATION_BOOTSTRAP = """I: automatically chosen mode: root
I: chroot architecture arm64 is different from the host architecture amd64.
E: arm64 can neither be executed natively nor via qemu user emulation with binfmt_misc"""

MIRROR_REFUSED = """Ign:1 http://127.0.0.1:9/debian bookworm InRelease
Err:1 http://127.0.0.1:9/debian bookworm InRelease
  Could not connect to 127.0.0.1:9 (127.0.0.1). - connect (111: Connection refused)
E: Failed to fetch http://127.0.0.1:9/debian/dists/bookworm/InRelease  Could not connect to 127.0.0.1:9 (127.0.0.1). - connect (111: Connection refused)
E: Some index files failed to download. They have been ignored, or old ones used instead.
E: apt-get update --error-on=any -oAPT::Status-Fd=<$fd> -oDpkg::Use-Pty=false failed"""  # noqa: E501

MIRROR_UNRESOLVED = """Err:1 http://nonexistent.invalid/debian bookworm InRelease
E: Failed to fetch http://nonexistent.invalid/debian/dists/bookworm/InRelease  Could not resolve 'nonexistent.invalid'
E: Some index files failed to download. They have been ignored, or old ones used instead.
E: apt-get update --error-on=any -oAPT::Status-Fd=<$fd> -oDpkg::Use-Pty=false failed"""  # noqa: E501

MIRROR_NOT_A_MIRROR = """Err:1 http://deb.debian.org/nonexist bookworm InRelease
E: Failed to fetch http://deb.debian.org/nonexist/dists/bookworm/InRelease  400  Bad Request [IP: 203.0.113.80 80]
E: The repository 'http://deb.debian.org/nonexist bookworm InRelease' is not signed.
E: apt-get update --error-on=any -oAPT::Status-Fd=<$fd> -oDpkg::Use-Pty=false failed"""  # noqa: E501

MIRROR_SYNC = """Get:12 http://deb.debian.org/debian bookworm/main amd64 libc6 amd64 2.36-9+deb12u13 [2758 kB]
E: Failed to fetch http://deb.debian.org/debian/pool/main/g/glibc/libc6_2.36-9%2bdeb12u13_amd64.deb  File has unexpected size (2757124 != 2758000). Mirror sync in progress? [IP: 203.0.113.80 80]
   Hashes of expected file:
    - SHA256:0f3c4e5a
E: Unable to fetch some archives, maybe run apt-get update or try with --fix-missing?"""  # noqa: E501

MIRROR_HASH = """E: Failed to fetch http://deb.debian.org/debian/dists/bookworm/main/binary-arm64/Packages.xz  Hash Sum mismatch
   Hashes of expected file:
    - Filesize:8786244 [weak]
E: Some index files failed to download. They have been ignored, or old ones used instead."""  # noqa: E501

MIRROR_404 = """Err:7 http://deb.debian.org/debian bookworm/main arm64 rustc arm64 1.63.0+dfsg1-2
  404  Not Found [IP: 203.0.113.80 80]
E: Failed to fetch http://deb.debian.org/debian/pool/main/r/rustc/rustc_1.63.0+dfsg1-2_arm64.deb  404  Not Found [IP: 203.0.113.80 80]"""  # noqa: E501

SDK_NO_ENGINE = ("Error while fetching server API version: ('Connection aborted.', "
                 "FileNotFoundError(2, 'No such file or directory'))")
BUILDX_NO_ENGINE = ("ERROR: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
                    "Is the docker daemon running?")

BUILDX_ENGINE_GONE = """#5 [2/2] RUN sleep 30
ERROR: failed to solve: Unavailable: error reading from server: EOF"""
CLASSIC_ENGINE_STOPPED = """Step 2/2 : RUN sleep 30
 ---> Running in 4215d3a896b3
The command '/bin/sh -c sleep 30' returned a non-zero code: 137"""

BUILDX_BRIDGE = """ > [2/2] RUN echo step; false:
------
ERROR: failed to solve: executor failed running [/bin/sh -c echo step; false]: failed to create endpoint mjxhjq7dg7ouf1ob9l65c4fwz on network bridge: adding interface vethc6f73f8 to bridge docker0 failed: could not find bridge docker0: route ip+net: no such network interface"""  # noqa: E501
CLASSIC_BRIDGE = """Step 2/2 : RUN echo step; false
 ---> Running in c9fb47decbae
failed to create endpoint nostalgic_rosalind on network bridge: adding interface vethfb22a88 to bridge docker0 failed: could not find bridge docker0: route ip+net: no such network interface"""  # noqa: E501

BUILDX_NO_REGISTRY = """#3 [internal] load metadata for docker.io/library/debian:bookworm-slim
#3 ERROR: failed to do request: Head "https://registry-1.docker.io/v2/library/debian/manifests/bookworm-slim": dial tcp: lookup registry-1.docker.io on 10.255.255.53:53: no such host
ERROR: failed to solve: rpc error: code = Unknown desc = failed to solve with frontend dockerfile.v0: failed to create LLB definition: failed to do request: Head "https://registry-1.docker.io/v2/library/debian/manifests/bookworm-slim": dial tcp: lookup registry-1.docker.io on 10.255.255.53:53: no such host"""  # noqa: E501
CLASSIC_NO_REGISTRY = """Step 1/2 : FROM debian:bookworm-slim
Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io on 10.255.255.53:53: no such host"""  # noqa: E501
CLASSIC_BASE_UNKNOWN = """Step 1/3 : FROM 127.0.0.1:32773/nothing-here:1
manifest for 127.0.0.1:32773/nothing-here:1 not found: manifest unknown: manifest unknown"""
BUILDX_BASE_UNKNOWN = """ > [internal] load metadata for 127.0.0.1:32773/nothing-here:1:
------
ERROR: failed to solve: rpc error: code = Unknown desc = failed to solve with frontend dockerfile.v0: failed to create LLB definition: 127.0.0.1:32773/nothing-here:1: not found"""  # noqa: E501
CLASSIC_BASE_REFUSED = """Step 1/3 : FROM 127.0.0.1:32775/private:1
Head "http://127.0.0.1:32775/v2/private/manifests/1": no basic auth credentials"""
BUILDX_BASE_REFUSED = """ > [internal] load metadata for 127.0.0.1:32775/private:1:
------
ERROR: failed to solve: rpc error: code = Unknown desc = failed to solve with frontend dockerfile.v0: failed to create LLB definition: pulling from host 127.0.0.1:32775 failed with status code [manifests 1]: 401 Unauthorized"""  # noqa: E501

BUILDX_NO_HANDLER = """ > [2/2] RUN echo hi:
0.123 exec /bin/sh: exec format error
------
ERROR: failed to solve: executor failed running [/bin/sh -c echo hi]: exit code: 1"""
CLASSIC_NO_HANDLER = """ ---> Running in e3007ba7af08
exec /bin/sh: exec format error
The command '/bin/sh -c echo hi' returned a non-zero code: 1"""
START_NO_HANDLER = "exec /bin/sh: exec format error"

PROBE_FOREIGN_EXEC = "exec /usr/local/bin/rustc: exec format error\n"
PROBE_FOREIGN_SH = "sh: 1: rustc: Exec format error\n"

BUILDX_STEP = """#5 ERROR: executor failed running [/bin/sh -c echo step; false]: exit code: 1
------
 > [2/2] RUN echo step; false:
0.132 step
------
ERROR: failed to solve: executor failed running [/bin/sh -c echo step; false]: exit code: 1"""
CLASSIC_STEP = """Step 2/2 : RUN echo step; false
 ---> Running in 20496ac0b25a
step
The command '/bin/sh -c echo step; false' returned a non-zero code: 1"""

BUILDX_PARSE = ("ERROR: failed to solve: rpc error: code = Unknown desc = failed to solve with "
                "frontend dockerfile.v0: failed to create LLB definition: dockerfile parse error "
                "line 1: unknown instruction: FORM")
CLASSIC_PARSE = "dockerfile parse error line 1: unknown instruction: FORM"

RUSTUP_PROXY = """error: rustup could not choose a version of rustc to run, because one wasn't specified explicitly, and no default is configured.
help: run 'rustup default stable' to download the latest stable release of Rust and set it as your default toolchain.
"""  # noqa: E501
SH_NOT_FOUND = "sh: 1: rustc: not found\n"
RUNC_NOT_FOUND = ('OCI runtime exec failed: exec failed: unable to start container process: exec: '
                  '"rustc": executable file not found in $PATH: unknown\r\n')
NO_INTERPRETER = "exec /usr/local/bin/rustc: no such file or directory\n"
QEMU_NO_INTERPRETER = ("aarch64-binfmt-P: Could not open '/lib/ld-linux-aarch64.so.1': "
                       "No such file or directory\n")

A64, NATIVE, QEMU, NONE = "linux/arm64", RunKind.NATIVE, RunKind.QEMU, RunKind.UNAVAILABLE


# QEMU 7.2's words when the guest dies by a signal, in a BuildKit step and in a probe.
QEMU_STEP_CRASH = """#5 [2/2] RUN /opt/marked/busybox true
#5 0.326 qemu: uncaught target signal 11 (Segmentation fault) - core dumped
#5 ERROR: executor failed running [/bin/sh -c /opt/marked/busybox true]: exit code: 139
------
 > [2/2] RUN /opt/marked/busybox true:
0.326 qemu: uncaught target signal 11 (Segmentation fault) - core dumped
------
ERROR: failed to solve: executor failed running [/bin/sh -c /opt/marked/busybox true]: exit code: 139"""  # noqa: E501
QEMU_PROBE_CRASH = "qemu: uncaught target signal 11 (Segmentation fault) - core dumped\n"


def ev(stage: Stage, output: str = "", **kw: object) -> Event:
    return Event(stage, output=output, platform=kw.pop("platform", A64), **kw)  # type: ignore[arg-type]


# (row id, event, cause, kind)
# apt-get update and install while another process held apt's locks (apt 2.6, bookworm).
APT_LISTS_LOCKED = ("E: Could not get lock /var/lib/apt/lists/lock. It is held by process 27248 "
                    "(python3)\nE: Unable to lock directory /var/lib/apt/lists/")
APT_FRONTEND_LOCKED = """Waiting for cache lock: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 27793 (python3)...
E: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), is another process using it?"""  # noqa: E501

CONTEXT_NOT_FOUND = ('context "nowhere": context not found: open /root/.docker/contexts/meta/'
                     '3b5a5ac0c8e2d3f0a4b1f7a45d9e6f0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f/'
                     'meta.json: no such file or directory\n')
ENGINE_TLS = ("Error while fetching server API version: HTTPSConnectionPool(host='127.0.0.1', "
              "port=41583): Max retries exceeded with url: /version (Caused by SSLError("
              "SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify "
              "failed: unable to get local issuer certificate (_ssl.c:1006)')))")

TABLE = [
    ("apt's lists locked", ev(Stage.PROVISION, APT_LISTS_LOCKED, status=100), "apt-locked",
     Kind.ERROR),
    ("dpkg's frontend locked", ev(Stage.PROVISION, APT_FRONTEND_LOCKED, status=100),
     "apt-locked", Kind.ERROR),
    ("arch-test missing", ev(Stage.BASE, ARCH_TEST, status=1), "arch-test-missing", Kind.ERROR),
    ("no emulation for the bootstrap", ev(Stage.BASE, NO_EMULATION_BOOTSTRAP, status=1),
     "no-emulation-for-bootstrap", Kind.ERROR),
    ("mirror refuses connections", ev(Stage.BASE, MIRROR_REFUSED, status=1),
     "mirror-unreachable", Kind.ERROR),
    ("mirror host unknown", ev(Stage.BASE, MIRROR_UNRESOLVED, status=1), "mirror-unreachable",
     Kind.ERROR),
    ("mirror is no mirror", ev(Stage.BASE, MIRROR_NOT_A_MIRROR, status=1), "mirror-invalid",
     Kind.ERROR),
    ("mirror mid-sync", ev(Stage.BASE, MIRROR_SYNC, status=1), "mirror-out-of-sync", Kind.ERROR),
    ("mirror hash sum mismatch", ev(Stage.PROVISION, MIRROR_HASH, status=100),
     "mirror-out-of-sync", Kind.ERROR),
    ("mirror 404 on a package, in a RUN step", ev(Stage.BUILD, MIRROR_404, status=1),
     "mirror-out-of-sync", Kind.ERROR),
    ("no engine (SDK)", ev(Stage.START, SDK_NO_ENGINE), "no-engine", Kind.ERROR),
    ("no engine (buildx)", ev(Stage.BUILD, BUILDX_NO_ENGINE, status=1), "no-engine", Kind.ERROR),
    ("engine gone mid-build (buildx)", ev(Stage.BUILD, BUILDX_ENGINE_GONE, status=1),
     "engine-gone", Kind.ERROR),
    ("engine stopped mid-build (classic: a step killed)",
     ev(Stage.BUILD, CLASSIC_ENGINE_STOPPED, engine_answers=False), "engine-stopped", Kind.ERROR),
    ("bridge missing (buildx)", ev(Stage.BUILD, BUILDX_BRIDGE, status=1, mode=NATIVE),
     "bridge-missing", Kind.ERROR),
    ("bridge missing (classic)", ev(Stage.BUILD, CLASSIC_BRIDGE, mode=NATIVE), "bridge-missing",
     Kind.ERROR),
    ("registry unreachable for FROM (buildx)", ev(Stage.BUILD, BUILDX_NO_REGISTRY, status=1),
     "base-unreachable", Kind.ERROR),
    ("registry unreachable for FROM (classic)", ev(Stage.BUILD, CLASSIC_NO_REGISTRY),
     "base-unreachable", Kind.ERROR),
    ("base name unknown (classic)", ev(Stage.BUILD, CLASSIC_BASE_UNKNOWN), "base-unknown",
     Kind.BUILD),
    ("base name unknown (buildx)", ev(Stage.BUILD, BUILDX_BASE_UNKNOWN, status=1),
     "base-unknown", Kind.BUILD),
    ("base refused (classic)", ev(Stage.BUILD, CLASSIC_BASE_REFUSED), "base-refused",
     Kind.ERROR),
    ("base refused (buildx)", ev(Stage.BUILD, BUILDX_BASE_REFUSED, status=1), "base-refused",
     Kind.ERROR),
    ("no handler, build (buildx)", ev(Stage.BUILD, BUILDX_NO_HANDLER, status=1, mode=NONE),
     "no-emulation", Kind.ERROR),
    ("no handler, build (classic)", ev(Stage.BUILD, CLASSIC_NO_HANDLER, mode=NONE),
     "no-emulation", Kind.ERROR),
    ("no handler, probe container start", ev(Stage.START, START_NO_HANDLER, status=1, mode=NONE),
     "no-emulation", Kind.ERROR),
    ("no shell in the image (distroless, FROM scratch)",
     ev(Stage.START, 'failed to create shim task: OCI runtime create failed: runc create '
        'failed: unable to start container process: exec: "/bin/sh": stat /bin/sh: no such '
        'file or directory: unknown', mode=NATIVE, platform="linux/amd64"),
     "no-shell", Kind.ABSENT),
    ("a build cancelled by an interruption",
     ev(Stage.BUILD, '#5 [2/2] RUN sleep 300\n#5 CANCELED\nERROR: failed to solve: Canceled: '
        'context canceled', status=1), "build-cancelled", Kind.ERROR),
    ("buildx forced out by repeated signals (the docker CLI's words, and buildx's own)",
     ev(Stage.BUILD, "#5 [2/2] RUN sleep 300\ngot 3 SIGTERM/SIGINTs, forcefully exiting",
        status=1), "build-cancelled", Kind.ERROR),
    ("buildx itself ended by a signal", ev(Stage.BUILD, "#5 [2/2] RUN sleep 300", status=-15),
     "build-cancelled", Kind.ERROR),
    ("a build that failed while the run was being interrupted, whatever it printed",
     ev(Stage.BUILD, "#5 [2/2] RUN sleep 300\n#5 ERROR: process \"/bin/sh -c sleep 300\" did "
        "not complete successfully: exit code: 137", status=1, interrupted=True),
     "interrupted", Kind.ERROR),
    ("a probe that died while the run was being interrupted", ev(
        Stage.PROBE, "Killed", status=137, interrupted=True, command="rustc -vV"),
     "interrupted", Kind.ERROR),
    ("a service image with no command",
     ev(Stage.START, "Error response from daemon: No command specified"), "no-command",
     Kind.MISSING),
    ("foreign shell on a native platform", ev(Stage.START, START_NO_HANDLER, status=1,
                                              mode=NATIVE, platform="linux/amd64"),
     "foreign-binary", Kind.BROKEN),
    ("foreign binary after the shell ran (exec)",
     ev(Stage.PROBE, PROBE_FOREIGN_EXEC, status=1, mode=QEMU, subject="rustc"),
     "foreign-binary", Kind.BROKEN),
    ("foreign binary after the shell ran (sh -c)",
     ev(Stage.PROBE, PROBE_FOREIGN_SH, status=126, mode=NATIVE, subject="rustc"),
     "foreign-binary", Kind.BROKEN),
    ("RUN step fails (buildx)", ev(Stage.BUILD, BUILDX_STEP, status=1, mode=QEMU), "step-failed",
     Kind.BUILD),
    ("RUN step fails (classic)", ev(Stage.BUILD, CLASSIC_STEP, mode=QEMU, engine_answers=True),
     "step-failed", Kind.BUILD),
    ("required tool absent (sh)", ev(Stage.PROBE, SH_NOT_FOUND, status=127, subject="rustc",
                                     required=True), "tool-absent", Kind.MISSING),
    ("required tool absent (runc)", ev(Stage.PROBE, RUNC_NOT_FOUND, status=126, subject="rustc",
                                       required=True), "tool-absent", Kind.MISSING),
    ("optional tool absent", ev(Stage.PROBE, SH_NOT_FOUND, status=127, subject="getconf"),
     "tool-optional-absent", Kind.ABSENT),
    ("tool there but its interpreter is not",
     ev(Stage.PROBE, NO_INTERPRETER, status=127, subject="rustc", exists=True, required=True),
     "tool-unrunnable", Kind.BROKEN),
    ("required tool exits non-zero (rustup proxy)",
     ev(Stage.PROBE, RUSTUP_PROXY, status=1, subject="rustc", command="rustc -vV",
        required=True), "tool-failed", Kind.BROKEN),
    ("program interpreter missing under QEMU (exit 255)",
     ev(Stage.PROBE, QEMU_NO_INTERPRETER, status=255, subject="rustc", mode=QEMU),
     "interpreter-missing", Kind.BROKEN),
    ("tool killed by a signal", ev(Stage.PROBE, "Segmentation fault (core dumped)\n", status=139,
                                   subject="cargo", command="cargo -V"), "tool-killed",
     Kind.BROKEN),
    ("QEMU crashes in a build step", ev(Stage.BUILD, QEMU_STEP_CRASH, status=1, mode=QEMU,
                                        emulator="QEMU 7.2.22"), "emulator-crash", Kind.EMULATOR),
    ("QEMU crashes in a probe, another QEMU runs it",
     ev(Stage.PROBE, QEMU_PROBE_CRASH, status=139, mode=QEMU, command="rustc -vV",
        emulator="QEMU 7.2.22", second="QEMU 10.0.13", elsewhere=True),
     "emulator-crash", Kind.EMULATOR),
    ("QEMU crashes in a probe, no other QEMU to ask",
     ev(Stage.PROBE, QEMU_PROBE_CRASH, status=139, mode=QEMU, command="rustc -vV",
        emulator="QEMU 7.2.22", why_not="the engine does not run on this machine"),
     "emulator-crash", Kind.EMULATOR),
    ("QEMU crashes in a probe, and the other QEMU too",
     ev(Stage.PROBE, QEMU_PROBE_CRASH, status=139, mode=QEMU, command="rustc -vV",
        emulator="QEMU 7.2.22", second="QEMU 10.0.13", elsewhere=False),
     "tool-killed", Kind.BROKEN),
    ("probe hangs", ev(Stage.PROBE, command="uname -m", timed_out=True), "probe-timeout",
     Kind.ERROR),
    ("registry refuses credentials", ev(Stage.PUBLISH, status=401, host="127.0.0.1:5000",
                                        command="PUT /v2/rust/manifests/latest"),
     "registry-refused", Kind.ERROR),
    ("registry refuses a pull by digest (check)",
     ev(Stage.CHECK, "Head \"http://127.0.0.1:5000/v2/rust/manifests/sha256:ab\": no basic auth "
        "credentials", host="127.0.0.1:5000", command="pull 127.0.0.1:5000/rust@sha256:ab"),
     "registry-refused", Kind.ERROR),
    ("registry unreachable for a pull by digest (check)",
     ev(Stage.CHECK, "Get \"http://127.0.0.1:5999/v2/\": dial tcp 127.0.0.1:5999: connect: "
        "connection refused", host="127.0.0.1:5999"), "registry-unreachable", Kind.ERROR),
    ("registry speaks no TLS", ev(Stage.PUBLISH, "SSLError: HTTPSConnectionPool(host='reg.test', "
                                  "port=5000): Max retries exceeded with url: /v2/ (Caused by "
                                  "SSLError(SSLError(1, '[SSL: WRONG_VERSION_NUMBER] wrong "
                                  "version number (_ssl.c:1006)')))", host="reg.test:5000"),
     "registry-tls", Kind.ERROR),
    ("registry unreachable", ev(Stage.PUBLISH, "HTTPConnectionPool(host='127.0.0.1', port=9): "
                                "Max retries exceeded with url: /v2/ (Caused by "
                                "NewConnectionError('Failed to establish a new connection: "
                                "[Errno 111] Connection refused'))", host="127.0.0.1:9"),
     "registry-unreachable", Kind.ERROR),
    ("registry serving a manifest nested 100k deep (check)",
     ev(Stage.CHECK, "not a JSON document: more than 64 levels of nesting",
        host="127.0.0.1:5000", command="GET /v2/rust/manifests/1"), "registry-garbled",
     Kind.ERROR),
    ("arch-test: the platform's binaries cannot run",
     ev(Stage.PROVISION, "arm64: not supported on this machine/kernel\n", status=1,
        command="arch-test arm64", subject="arch-test"), "no-emulation-for-bootstrap",
     Kind.ERROR),
    ("a tool of the harness not installed", ev(Stage.PROVISION, "mmdebstrap: command not found",
                                               status=127, subject="mmdebstrap"),
     "tool-not-installed", Kind.ERROR),
    ("bridge missing, seen by preflight", ev(Stage.PROVISION, "could not find bridge docker0"),
     "bridge-missing", Kind.ERROR),
    # `docker context inspect nowhere` (docker 20.10), `docker buildx inspect nope` (0.13.1),
    # and the docker SDK to an engine whose certificate is from another CA than the context's.
    ("docker context unknown", ev(Stage.ENGINE, CONTEXT_NOT_FOUND, status=1,
                                  subject="nowhere"), "context-unknown", Kind.USAGE),
    ("buildx builder unknown", ev(Stage.ENGINE, 'ERROR: no builder "nope" found\n', status=1,
                                  subject="nope"), "builder-unknown", Kind.USAGE),
    ("engine TLS: the context's CA is not the engine's", ev(
        Stage.ENGINE, ENGINE_TLS, host="tcp://127.0.0.1:41583", subject="docker context far"),
     "engine-tls", Kind.ERROR),
    ("Dockerfile unparsable (buildx)", ev(Stage.BUILD, BUILDX_PARSE, status=1),
     "dockerfile-invalid", Kind.USAGE),
    ("Dockerfile unparsable (classic)", ev(Stage.BUILD, CLASSIC_PARSE), "dockerfile-invalid",
     Kind.USAGE),
    # A build step that died for want of space is the machine's, not the image's (a fail).
    ("disk full during a build step", ev(Stage.BUILD, "#7 12.3 dpkg: error processing archive "
                                         "/var/cache/apt/archives/rustc.deb (--unpack):\n"
                                         "#7 12.3  cannot copy extracted data: failed to "
                                         "write (No space left on device)\nERROR: process "
                                         "did not complete successfully", status=1),
     "disk-full", Kind.ERROR),
    ("disk full while the engine exports for publish",
     ev(Stage.PUBLISH, '500 Server Error: Internal Server Error ("write /var/lib/docker/tmp/'
        'docker-export-603140099/layer.tar: no space left on device")'), "disk-full",
     Kind.ERROR),
]


@pytest.mark.parametrize(("event", "cause", "kind"), [row[1:] for row in TABLE],
                         ids=[row[0] for row in TABLE])
def test_each_cause_is_diagnosed(event: Event, cause: str, kind: Kind) -> None:
    got = diagnose(event)
    assert (got.cause, got.kind) == (cause, kind)
    assert got.message and (got.fix or kind is Kind.ABSENT)
    assert "\n" not in got.message and len(got.message) < 700


def test_every_cause_has_a_row() -> None:
    assert {c.name for c in CAUSES} <= {row[2] for row in TABLE}


@pytest.mark.parametrize(("kind", "verdict", "status"), [
    (Kind.BUILD, "fail", Exit.IMAGE_WRONG), (Kind.BROKEN, "fail", Exit.IMAGE_WRONG),
    (Kind.MISSING, "fail", Exit.IMAGE_WRONG), (Kind.ERROR, "error", Exit.CANNOT_CHECK),
    (Kind.USAGE, "error", Exit.USAGE), (Kind.INTERNAL, "error", Exit.SOFTWARE),
    (Kind.ABSENT, "pass", Exit.OK), (Kind.EMULATOR, "error", Exit.CANNOT_CHECK),
])
def test_kind_gives_verdict_and_status(kind: Kind, verdict: str, status: Exit) -> None:
    assert (kind.verdict, kind.exit_status) == (verdict, status)


def test_a_failing_step_is_not_blamed_on_the_machine() -> None:
    """The bridge message contains the failing step's text too: the machine's cause wins."""
    assert diagnose(ev(Stage.BUILD, BUILDX_BRIDGE)).kind is Kind.ERROR
    assert diagnose(ev(Stage.BUILD, CLASSIC_STEP)).kind is Kind.BUILD


def test_exec_format_error_needs_the_run_mode() -> None:
    """The same text is the machine's fault under emulation and the image's when native."""
    text = CLASSIC_NO_HANDLER
    assert diagnose(ev(Stage.BUILD, text, mode=NONE)).kind is Kind.ERROR
    assert diagnose(ev(Stage.BUILD, text, mode=QEMU)).kind is Kind.ERROR
    assert diagnose(ev(Stage.BUILD, text, mode=NATIVE)).kind is Kind.BROKEN


def test_the_rustup_proxy_finding_names_the_tool_status_and_output() -> None:
    got = diagnose(ev(Stage.PROBE, RUSTUP_PROXY, status=1, subject="rustc",
                      command="rustc -vV", required=True))
    assert "rustc -vV" in got.message and "exited 1" in got.message
    assert "no default is configured" in got.message


def test_signal_is_named_and_only_statuses_of_signals_are_signals() -> None:
    got = diagnose(ev(Stage.PROBE, "", status=139, subject="cargo", command="cargo -V"))
    assert "SIGSEGV" in got.message
    got = diagnose(ev(Stage.PROBE, "", status=255, subject="cargo", command="cargo -V"))
    assert got.cause == "tool-failed" and "exited 255" in got.message


def test_transient_causes_are_retried_and_others_not() -> None:
    assert diagnose(ev(Stage.BASE, MIRROR_SYNC)).transient
    assert not diagnose(ev(Stage.BASE, ARCH_TEST)).transient


def test_unexplained_failures_fall_back_by_stage() -> None:
    assert diagnose(ev(Stage.BUILD, "COPY failed: file not found in build context")).kind \
        is Kind.BUILD
    assert diagnose(ev(Stage.BASE, "something odd", status=3)).kind is Kind.ERROR


def test_output_from_an_image_is_escaped_and_bounded() -> None:
    hostile = "A" * 10_000_000 + "\x1b[2J\x1b[Hforged line"
    got = diagnose(ev(Stage.PROBE, hostile, status=1, subject="dpkg", command="dpkg"))
    assert "\x1b" not in got.message and "\\x1b" in got.message
    assert len(got.message) < 700
    assert clean("a\rb\x07") == "a\\x0db\\x07"


def test_a_held_apt_lock_is_named_with_its_holder() -> None:
    got = diagnose(ev(Stage.PROVISION, APT_LISTS_LOCKED, status=100))
    assert "/var/lib/apt/lists/lock. It is held by process 27248 (python3)" in got.message
    assert "then run again" in got.fix


def test_a_qemu_crash_is_the_images_fault_only_with_evidence() -> None:
    """Natively the same words cannot be QEMU's; under QEMU, a crash is called the image's
    only where a second QEMU crashed too, and both are named."""
    native = diagnose(ev(Stage.BUILD, QEMU_STEP_CRASH, status=1, mode=NATIVE))
    assert native.cause == "step-failed"
    both = diagnose(ev(Stage.PROBE, QEMU_PROBE_CRASH, status=139, mode=QEMU, command="x",
                       emulator="QEMU 7.2.22", second="QEMU 10.0.13", elsewhere=False))
    assert "under QEMU 7.2.22 and QEMU 10.0.13 alike" in both.message
    one = diagnose(ev(Stage.PROBE, QEMU_PROBE_CRASH, status=139, mode=QEMU, command="x",
                      emulator="QEMU 7.2.22", second="QEMU 10.0.13", elsewhere=True))
    assert "ran under QEMU 10.0.13" in one.message and "native runner" in one.fix


def test_a_full_disk_met_by_a_command_is_the_machine_and_nothing_else_is() -> None:
    full = machine_fault(Stage.PUBLISH, "APIError: 500 Server Error (\"write /var/lib/docker/"
                                        "tmp/x/layer.tar: no space left on device\")")
    assert full is not None and (full.cause, full.kind) == ("disk-full", Kind.ERROR)
    assert "docker image prune" in full.fix
    assert machine_fault(Stage.PUBLISH, "KeyError: 'digest'") is None


# What a builder, apt or a registry client prints with a URL that holds a password, for the
# rows that quote the output (and the fallback, which quotes its tail).
WITH_CREDENTIALS = (
    'ERROR: failed to do request: Head "https://u:{pw}@reg.example/v2/app/manifests/1": dial '
    "tcp: lookup reg.example: no such host",
    "E: Failed to fetch http://u:{pw}@mirror.example/debian/dists/bookworm/InRelease  Could "
    "not connect to mirror.example:80 - connect (111: Connection refused)",
    "pull access denied for u:{pw}@reg.example/app, repository does not exist",
    "Invalid bind address format: tcp://u:{pw}@127.0.0.1:1",
    "qemu: uncaught target signal 11 (Segmentation fault) - core dumped tcp://u:{pw}@h:1",
)


@given(st.sampled_from(WITH_CREDENTIALS), st.sampled_from(list(Stage)),
       st.sampled_from([None, 1, 2, 137]), st.sampled_from([None, *RunKind]),
       st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=1, max_size=20))
@example(WITH_CREDENTIALS[0], Stage.BUILD, 1, RunKind.NATIVE, "PW")
def test_no_diagnosis_quotes_a_password(line: str, stage: Stage, status: int | None,
                                       mode: RunKind | None, secret: str) -> None:
    output = line.format(pw=secret + "Z9")
    for event in (Event(stage, output=output, status=status, mode=mode, command="docker build",
                        subject="rustc"),
                  Event(stage, output=output, status=status, mode=mode, elsewhere=True)):
        d = diagnose(event)
        assert f":{secret}Z9@" not in d.message + d.fix, d
    fault = machine_fault(stage, "no space left on device " + output)
    assert fault is not None and f":{secret}Z9@" not in fault.message


def test_an_interruption_outranks_every_other_cause() -> None:
    """When the run was interrupted, a stage that ended during it is interrupted, whatever
    it printed: a step killed by the cancel (137), a full disk, an engine that stopped."""
    for output, status in (("no space left on device", 1), ("exit code: 137", 137),
                           ("Cannot connect to the Docker daemon", 1), ("", -2)):
        for stage in Stage:
            d = diagnose(Event(stage, output=output, status=status, interrupted=True,
                               engine_answers=False))
            assert d.cause == "interrupted" and d.interruption, (stage, output, d)
            assert d.kind is Kind.ERROR and "interrupted" in d.message
    # Without the run's interruption, the same failure is what it says.
    step = diagnose(Event(Stage.BUILD, output="did not complete successfully: exit code: 137",
                          status=1))
    assert step.cause == "step-failed" and not step.interruption
    # A step of the image killed by a signal is the image's: only buildx's own status counts.
    killed = diagnose(Event(Stage.PROBE, output="Segmentation fault", status=139))
    assert killed.cause == "tool-killed" and not killed.interruption


def test_what_an_image_prints_of_tls_or_contexts_is_not_the_engines() -> None:
    """The engine's rows are for reaching the engine: a probe or build step that prints the
    same words is the image's own output."""
    for stage in (Stage.PROBE, Stage.BUILD, Stage.START):
        for output in (ENGINE_TLS, CONTEXT_NOT_FOUND, 'ERROR: no builder "nope" found'):
            assert diagnose(ev(stage, output, status=1)).cause not in (
                "engine-tls", "context-unknown", "builder-unknown")


def test_a_context_or_builder_row_is_one_line_naming_its_fix() -> None:
    context = diagnose(ev(Stage.ENGINE, CONTEXT_NOT_FOUND, status=1, subject="nowhere"))
    assert context.message == "there is no docker context 'nowhere'"
    assert "`docker context ls`" in context.fix
    tls = diagnose(ev(Stage.ENGINE, ENGINE_TLS, host="tcp://127.0.0.1:41583",
                      subject="docker context far"))
    assert "\n" not in tls.message and "certificate verify failed" in tls.message
    assert tls.message.startswith("the engine at tcp://127.0.0.1:41583 (docker context far) "
                                  "refused TLS: ")
    # A name from the environment is data: escaped and bounded in the one line.
    odd = diagnose(ev(Stage.ENGINE, 'context "x": context not found', subject="\x1b[2J" * 50))
    assert "\x1b" not in odd.message and len(odd.message) < 140
