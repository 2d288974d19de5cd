"""Service checks: the image started with its own ENTRYPOINT and CMD, asked over HTTP.

    multiarch-harness build --service-check '8080/health=ok {dpkg}'

    [tool.harness.service]        # or [[tool.harness.service]], one table per check
    port = 8080
    path = "/health"              # default "/"
    expect = 'ok {dpkg}'          # searched in the body; placeholders as declared checks
    status = 200                  # the HTTP status expected (default 200)
    timeout = 30                  # seconds to become ready natively (default 30)

The service must become ready (its HEALTHCHECK healthy where the image has one, else the
port accepting connections) within ``timeout`` seconds, times :data:`EMULATED_FACTOR` under
QEMU; then one GET must give the status and a body the pattern is found in, the whole
answer within :meth:`ServiceCheck.answer_seconds`. A service that exits, turns unhealthy,
never becomes ready, or drips, holds or cuts short its answer fails the platform, with its
exit status or what it sent, and its last log lines. Pure: no I/O.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from harness.core.declared.usercheck import matches, parse_pattern
from harness.core.failures.diagnosis import clean, tail
from harness.core.failures.errors import UsageError, check_known
from harness.core.platforms.table import Platform

PREFIX = "service:"  # a service check's source: service:PORT/PATH
KEYS = ("port", "path", "expect", "status", "timeout")
DEFAULT_TIMEOUT = 30.0
# Under QEMU a service starts several times slower (every instruction of its start-up is
# translated); its readiness wait is this many times longer.
EMULATED_FACTOR = 5.0
BODY_LIMIT = 1 << 20  # bytes of a response body read
MIN_ANSWER = 10.0  # seconds a ready service has at least to answer a GET whole
LOG_LINES = 10  # a failed service's last log lines in its finding
_OPTION = re.compile(r"(\d+)(/[^=]*)?=(.*)", re.S)


@dataclass(frozen=True)
class ServiceCheck:
    port: int
    path: str = "/"
    expect: str = ""
    status: int = 200
    timeout: float = DEFAULT_TIMEOUT

    @property
    def source(self) -> str:
        return f"{PREFIX}{self.port}{self.path}"

    def wait_seconds(self, emulated: bool) -> float:
        return self.timeout * (EMULATED_FACTOR if emulated else 1.0)

    def answer_seconds(self) -> float:
        """The whole answer's time, once the service is ready: its status, headers and body
        (a read timeout alone bounds each read, and a dripping service never trips it)."""
        return max(self.timeout, MIN_ANSWER)


def parse_option(text: str) -> ServiceCheck:
    """``PORT[/PATH]=REGEX`` of ``--service-check`` (the first ``=`` ends the path)."""
    m = _OPTION.fullmatch(text.strip())
    if not m:
        raise UsageError(f"--service-check {text!r} is not PORT/PATH=REGEX",
                         "write --service-check '8080/health=ok'")
    return _checked(int(m[1]), m[2] or "/", m[3], 200, DEFAULT_TIMEOUT,
                    f"--service-check {text!r}")


def parse_table(table: Any, where: str = "[tool.harness.service]") -> tuple[ServiceCheck, ...]:
    """``[tool.harness.service]`` (one check) or ``[[tool.harness.service]]`` (several)."""
    tables = table if isinstance(table, list) else [table]
    found = []
    for spec in tables:
        if not isinstance(spec, dict):
            raise UsageError(f"{where} is not a table", "write port = 8080 and expect = 'ok'")
        check_known(spec, KEYS, where)
        port, path = spec.get("port"), spec.get("path", "/")
        status, timeout = spec.get("status", 200), spec.get("timeout", DEFAULT_TIMEOUT)
        if not isinstance(port, int) or isinstance(port, bool):
            raise UsageError(f"{where}: port must be a number, not {port!r}", "write port = 8080")
        if not isinstance(path, str):
            raise UsageError(f"{where}: path must be a string", 'write path = "/health"')
        if isinstance(timeout, bool) or not isinstance(timeout, int | float):
            raise UsageError(f"{where}: timeout must be a number of seconds", "write timeout = 30")
        if isinstance(status, bool) or not isinstance(status, int):
            raise UsageError(f"{where}: status must be an HTTP status", "write status = 200")
        found.append(_checked(port, path, spec.get("expect", ""), status, float(timeout), where))
    return tuple(found)


def _checked(port: int, path: str, expect: Any, status: int, timeout: float,
             where: str) -> ServiceCheck:
    if not 0 < port < 65536:
        raise UsageError(f"{where}: port {port} is not a TCP port", "use 1-65535")
    if not path.startswith("/"):
        raise UsageError(f"{where}: path {path!r} does not start with /", 'write "/health"')
    if not 100 <= status <= 599:
        raise UsageError(f"{where}: status {status} is not an HTTP status", "write status = 200")
    if not math.isfinite(timeout) or timeout <= 0:
        raise UsageError(f"{where}: timeout must be above 0 seconds", "write timeout = 30")
    if not isinstance(expect, str):
        raise UsageError(f"{where}: expect must be a regular expression (a string)",
                         "write expect = 'ok'")
    parse_pattern(expect, where, "expect")
    return ServiceCheck(port, path, expect, status, timeout)


# -- what the engine side saw, and the judgement ---------------------------------------------

@dataclass(frozen=True)
class ServiceAnswer:
    """How the service went: ready and answered, or why not."""

    ready: bool
    waited: float  # seconds until ready, or until given up
    http_status: int | None = None
    body: str = ""
    exited: int | None = None  # its exit status, when it stopped
    unhealthy: bool = False  # its HEALTHCHECK said unhealthy
    refused: str = ""  # why the request failed (connection reset, timed out)
    short: str = ""  # why the body stopped before its end (a close, a stall, the deadline)
    logs: str = ""  # its last log lines
    health: bool = False  # it had a HEALTHCHECK to wait for
    # Why the engine would not start it, where that is the image's own doing (no command to
    # start: the diagnosis said so): the check's only error.
    not_started: str = ""


@dataclass(frozen=True)
class Seen:
    """What the engine side saw of one service check: judged by harness.core.judging.verdicts
    (through :func:`judge`), never on the engine side."""

    check: ServiceCheck
    answer: ServiceAnswer
    wait: float  # the seconds it had to become ready


def judge(check: ServiceCheck, answer: ServiceAnswer, platform: Platform,
          wait: float) -> list[str]:
    """What is wrong with the service's answer, for ``platform`` (empty: it answered)."""
    if answer.not_started:
        return [answer.not_started]
    logs = tail(answer.logs, LOG_LINES, 1500)
    said = f"; its last log lines: {logs}" if logs else "; it logged nothing"
    if answer.exited is not None:
        return [f"the service exited with status {answer.exited} after {answer.waited:.1f} s, "
                f"before answering on port {check.port}{said}"]
    if answer.unhealthy:
        return [f"the service's HEALTHCHECK said unhealthy after {answer.waited:.1f} s{said}"]
    if not answer.ready:
        never = "healthy (its HEALTHCHECK)" if answer.health else \
            f"accepting connections on port {check.port}"
        return [f"the service was not ready within {wait:.0f} s: never {never}{said}"]
    if answer.http_status is None:
        return [f"GET {check.path} on port {check.port} failed: {clean(answer.refused, 300)}"
                f"{said}"]
    if answer.short:
        sent = clean(repr(answer.body[:200]), 220) if answer.body else "nothing"
        return [f"GET {check.path} answered HTTP {answer.http_status}, and then "
                f"{clean(answer.short, 200)}; it sent {sent}{said}"]
    errors = []
    if answer.http_status != check.status:
        errors.append(f"GET {check.path} answered HTTP {answer.http_status}, not "
                      f"{check.status}")
    if not matches(check.expect, platform, answer.body):
        errors.append(f"GET {check.path} answered {clean(repr(answer.body[:200]), 220)}, "
                      f"which does not match /{clean(check.expect, 200)}/ for "
                      f"{platform.name}")
    return errors
