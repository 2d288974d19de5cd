"""Service checks run: one platform's image started with its own ENTRYPOINT and CMD (under
QEMU where the host cannot run it) on a network of the harness's own, asked over HTTP from
this machine, and everything removed afterwards, on Ctrl-C too. The network is internal (no
route out), and its bridge's way into this host is shut (harness.machine.firewall: the
gateway is this host's address, where every service listening on 0.0.0.0 would answer), so
the service reaches nothing but itself.

The harness reaches the container at its address on that network, which only a local
engine's host can: a service check of a platform on a tcp:// or ssh:// engine is an error
(this machine could not check), never a failing service. Each check's answer is returned
as it was seen: the judgement is in :mod:`harness.core.declared.service`, made by
:mod:`harness.core.judging.verdicts`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import socket
import time
import uuid
from pathlib import Path
from typing import Any, TextIO

import docker
import docker.errors
import requests

from harness.containers import engine
from harness.containers.engine import CLIENT_ERRORS
from harness.containers.probe_container import container_labels
from harness.core.answers import observation as obs
from harness.core.answers.observation import Observation
from harness.core.declared import service as svc
from harness.core.failures.diagnosis import Event, Stage, diagnose
from harness.core.failures.errors import CannotCheck
from harness.core.outcomes import Kind, RunKind, Verdict
from harness.core.platforms.engine_kind import EngineKind
from harness.core.platforms.table import Platform
from harness.core.sinks import visible
from harness.machine import deadline, files, firewall, polling

POLL = 0.2  # seconds between looks at a starting service
LOG_TAIL = 50  # log lines fetched of a service that failed
# Seconds a container may take to show up once its creation was asked for and the asking
# was interrupted (the engine goes on creating it).
CREATE_GRACE = 3.0


def observe(client: docker.DockerClient, image: str, platform: Platform,
            checks: tuple[svc.ServiceCheck, ...], *, mode: RunKind | None = None,
            docker_host: str | None = None, log_path: Path | None = None
            ) -> list[Observation]:
    """Each check's answer from one run of the image's service (judged by
    harness.core.judging.verdicts)."""
    if docker_host and not docker_host.startswith("unix://"):
        return [obs.failed(c.source, f"the service check of {platform.name} needs the engine "
                           f"on this machine to reach the container; {platform.name} runs on "
                           "another engine", Kind.ERROR, "run service checks with a local "
                           "engine for the platform (--engine PLATFORM=unix://...)")
                for c in checks]
    log = files.open_log(log_path, append=True) if log_path else None
    try:
        with _Service(client, image, platform, log) as service:
            emulated = mode is RunKind.QEMU
            return [_ask(service, c, c.wait_seconds(emulated)) for c in checks]
    except docker.errors.APIError as exc:  # the engine would not start it
        d = diagnose(Event(Stage.START, output=str(exc.explanation or exc),
                           platform=platform.name, mode=mode))
        if d.kind.verdict is Verdict.FAIL:  # the image's own (no command to start)
            return [obs.answered(c.source, svc.Seen(c, svc.ServiceAnswer(
                False, 0.0, not_started=d.message), 0.0)) for c in checks]
        return [obs.failed(c.source, d.message, d.kind, d.fix, d.cause) for c in checks]
    except CannotCheck as exc:  # its way to this host could not be shut: not started
        return [obs.failed(c.source, f"{platform.name}: {exc.message}", exc.kind, exc.fix,
                           exc.cause or None) for c in checks]
    finally:
        if log:
            log.close()


def _ask(service: _Service, check: svc.ServiceCheck, wait: float) -> Observation:
    answer = service.ready(check.port, wait)
    if answer.ready:
        answer = service.get(check, answer)
    service.note(f"# {check.source}: ready={answer.ready} after {answer.waited:.1f} s, "
                 f"HTTP {answer.http_status}, exited {answer.exited}")
    return obs.answered(check.source, svc.Seen(check, answer, wait))


class _Service:
    """The image's own command running detached on an internal network of its own."""

    def __init__(self, client: docker.DockerClient, image: str, platform: Platform,
                 log: TextIO | None) -> None:
        self.client, self.image, self.platform, self.log = client, image, platform, log
        self.network: Any = None
        self.container: Any = None
        self.name = ""
        self.bridge = ""  # the network's bridge on this host
        self.shut = False  # a rule shuts the bridge's way into this host
        self.address = ""
        self.started = 0.0
        # What the engine was asked to create: only those can have been created unseen.
        self.asked: set[str] = set()
        config = client.api.inspect_image(image)["Config"] or {}
        test = (config.get("Healthcheck") or {}).get("Test") or []
        self.health = bool(test) and test[0] != "NONE"

    def __enter__(self) -> _Service:
        name = self.name = f"harness-service-{self.platform.slug}-{uuid.uuid4().hex[:8]}"
        try:
            firewall.sweep()
            self.bridge = f"{firewall.PREFIX}{name.rsplit('-', 1)[1]}"  # 15 characters at most
            self.asked.add("network")
            podman = engine.kind(self.client) is EngineKind.PODMAN
            self.network = _podman_network(self.client, name, self.bridge) if podman else \
                self.client.networks.create(
                    name, internal=True, labels=container_labels(),
                    options={"com.docker.network.bridge.name": self.bridge})
            self.shut = True  # from here on, the rule may be there: always taken away
            firewall.shut(self.bridge, made_later=podman)
            self.asked.add("container")
            self.container = self.client.containers.run(
                self.image, detach=True, name=name, platform=self.platform.name,
                network=name, labels=container_labels(), security_opt=["no-new-privileges"],
                pids_limit=512, mem_limit="4g")
            self.started = time.monotonic()
            if podman:  # its bridge came with the container: the one the rule names
                firewall.there(self.bridge)
            firewall.addressed(self.bridge)  # the address asked is reached through it
            self.container.reload()
            self.address = self.container.attrs["NetworkSettings"]["Networks"][name][
                "IPAddress"]
            self.note(f"# service {self.image} started as {name} at {self.address}")
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        # Interrupted while the engine created one of them: the request went out, so it may
        # be there (or about to be) without our knowing it; it is found by its name. (CI saw
        # a Ctrl-C land while the network's creation was answered: both were left.)
        if self.network is None and "network" in self.asked:
            self.network = self._created_meanwhile(self.client.networks)
        if self.container is None and "container" in self.asked:
            self.container = self._created_meanwhile(self.client.containers)
        for thing in (self.container, self.network):
            if thing is not None:
                with contextlib.suppress(*CLIENT_ERRORS):
                    if thing is self.container:
                        thing.remove(force=True)
                    else:
                        thing.remove()
        self.container = self.network = None
        if self.shut:
            firewall.reopen(self.bridge)
            self.shut = False
        self.name = ""  # all removed: nothing is left to look for
        self.asked.clear()

    def _created_meanwhile(self, collection: Any) -> Any:
        if not self.name:  # never asked for
            return None
        def made() -> Any:
            with contextlib.suppress(*CLIENT_ERRORS):
                return collection.get(self.name)
            return None

        return polling.until(made, CREATE_GRACE, POLL)

    def note(self, line: str) -> None:
        if self.log:
            self.log.write(line + "\n")
            self.log.flush()

    def _logs(self) -> str:
        with contextlib.suppress(*CLIENT_ERRORS):
            text = self.container.logs(tail=LOG_TAIL).decode(errors="replace")
            self.note(visible(text, keep="\n"))
            return str(text)
        return ""

    def ready(self, port: int, wait: float) -> svc.ServiceAnswer:
        """Healthy (HEALTHCHECK) or accepting on ``port``, within ``wait`` seconds of start."""
        def settled() -> svc.ServiceAnswer | None:
            self.container.reload()
            state = self.container.attrs["State"]
            waited = time.monotonic() - self.started
            if state.get("Status") in ("exited", "dead"):
                return svc.ServiceAnswer(False, waited, exited=int(state.get("ExitCode", -1)),
                                         logs=self._logs(), health=self.health)
            if self.health:
                status = (state.get("Health") or {}).get("Status")
                if status == "healthy":
                    return svc.ServiceAnswer(True, waited, health=True)
                if status == "unhealthy":
                    return svc.ServiceAnswer(False, waited, unhealthy=True, logs=self._logs(),
                                             health=True)
            elif self._accepts(port):
                return svc.ServiceAnswer(True, waited)
            return None

        answer = polling.until(settled, self.started + wait - time.monotonic(), POLL)
        if answer is not None:
            return answer
        return svc.ServiceAnswer(False, time.monotonic() - self.started, logs=self._logs(),
                                 health=self.health)

    def _accepts(self, port: int) -> bool:
        try:
            with socket.create_connection((self.address, port), timeout=1.0):
                return True
        except OSError:
            return False

    def get(self, check: svc.ServiceCheck, ready: svc.ServiceAnswer) -> svc.ServiceAnswer:
        """One GET of the check's path (see :func:`ask`); the service's logs where it failed."""
        answer = ask(self.address, check, ready.waited, self.health)
        if answer.http_status is None or answer.short:
            answer = dataclasses.replace(answer, logs=self._logs())
        return answer


def ask(address: str, check: svc.ServiceCheck, waited: float = 0.0,
        health: bool = False) -> svc.ServiceAnswer:
    """One GET of the check's path at ``address``; the body read up to BODY_LIMIT, all of it
    within the check's answer deadline (a service dripping its answer a byte at a time is
    cut off there, with what it sent), and a body cut short (a close or a stall before its
    Content-Length) said with the part that came."""
    seconds = check.answer_seconds()
    with deadline.Deadline(seconds) as limit, deadline.session() as session:
        session.trust_env = False  # never through this machine's proxy
        try:
            with session.get(f"http://{address}:{check.port}{check.path}",
                             timeout=(10, seconds), stream=True,
                             allow_redirects=False) as response:
                if limit.fired:  # its head cut off: no status to judge
                    raise requests.ConnectionError("the head of its answer was cut off")
                body, stopped = deadline.read(response.raw, svc.BODY_LIMIT, limit)
                return svc.ServiceAnswer(True, waited, response.status_code,
                                         body.decode(errors="replace"), health=health,
                                         short=_why(stopped, response, len(body)))
        except requests.RequestException as exc:
            said = f"no answer within {seconds:g} s" if limit.expired else str(exc)
            return svc.ServiceAnswer(True, waited, refused=said, health=health)


def _why(stopped: Exception | None, response: requests.Response, got: int) -> str:
    """Why the body ended before its end, in a few words (empty: it did not)."""
    if stopped is None:
        return ""
    length = response.headers.get("Content-Length", "")
    of = f" of {length[:20]}" if length.isdigit() else ""
    if isinstance(stopped, TimeoutError):
        what = str(stopped)
    elif "timed out" in str(stopped).lower():
        what = "it stopped sending"
    else:
        what = "it closed the connection"
    return f"{what} after {got}{of} bytes of its body"


# Podman's own API: its compatible one ignores the bridge name (com.docker.network.bridge.name)
# and names the bridge itself, so the rule could not name it. Any libpod version of 4.0 on.
_LIBPOD = "/v4.0.0/libpod"


def _podman_network(client: docker.DockerClient, name: str, bridge: str) -> Any:
    """An internal network on Podman whose bridge is ``bridge``; the compatible API's model of
    it (what is removed afterwards)."""
    api = client.api
    answer = api._post_json(f"{api.base_url}{_LIBPOD}/networks/create", data={
        "name": name, "driver": "bridge", "network_interface": bridge, "internal": True,
        "labels": container_labels()})
    api._raise_for_status(answer)
    return client.networks.get(name)
