"""A CNCF distribution registry on loopback, in a container (testcontainers).

The image is configurable (``registry:2`` by default, or ``HARNESS_REGISTRY_IMAGE``); where it
cannot be pulled, it is made locally from Debian's ``docker-registry`` package, which is that
registry, unpacked with mmdebstrap (no emulation needed) into an image of the host's platform.
"""

from __future__ import annotations

import os
import platform as host_platform
import socket
import time
from pathlib import Path
from typing import Any, cast

import docker
import docker.errors
from testcontainers.core.container import DockerContainer
from testcontainers.core.wait_strategies import HttpWaitStrategy
from testcontainers.core.waiting_utils import WaitStrategyTarget

from harness.containers import bases, engine
from harness.core.answers.normalise import from_uname
from harness.core.failures.errors import CannotCheck, UsageError
from harness.core.platforms.table import parse_platform
from harness.core.settings.options import ArgumentParser
from harness.machine import debian, interrupts

DEFAULT_IMAGE = "registry:2"
LOCAL_IMAGE = "harness.invalid/registry:2.8"
CONFIG = "/etc/harness-registry.yml"
_CONFIG_TEXT = ("version: 0.1\\nlog:\\n  level: warn\\nstorage:\\n  filesystem:\\n"
                "    rootdirectory: /var/lib/registry\\n  delete:\\n    enabled: true\\n"
                "http:\\n  addr: :5000\\n")
READY_TIMEOUT = 30.0  # seconds a started registry has to answer /v2/


def wait_answering(registry: WaitStrategyTarget, timeout: float = READY_TIMEOUT) -> None:
    """Until ``registry`` answers ``/v2/`` (200, or 401 where it wants a login), within
    ``timeout`` seconds; else CannotCheck (testcontainers' HTTP wait, its message ours)."""
    ready = (HttpWaitStrategy(5000, "/v2/").for_status_code_matching(lambda c: c in (200, 401))
             .with_startup_timeout(int(timeout)).with_poll_interval(0.2))
    try:
        ready.wait_until_ready(registry)
    except TimeoutError:
        raise CannotCheck(f"the registry did not answer within {timeout:.0f} s",
                          "see `docker logs` of the registry container") from None


def registry_image(client: docker.DockerClient, image: str | None = None) -> tuple[str, list[str]]:
    """The image to run and its command: the configured one if present or pullable, else
    one made from Debian's package."""
    wanted = image or os.environ.get("HARNESS_REGISTRY_IMAGE") or DEFAULT_IMAGE
    if wanted != LOCAL_IMAGE:
        if engine.image_exists(client, wanted):
            return wanted, []
        try:
            client.images.pull(wanted)
            return wanted, []
        except docker.errors.APIError:
            pass
    if not engine.image_exists(client, LOCAL_IMAGE):
        mirror = debian.debian_mirror()
        if not mirror:
            raise CannotCheck(f"cannot pull {wanted} and no Debian mirror to make one",
                              "set HARNESS_REGISTRY_IMAGE to a registry image you have")
        # The host's own platform: the registry runs natively.
        platform = parse_platform((from_uname(host_platform.machine()) or ("linux/amd64",))[0])
        hook = (f"--extract-hook=printf '{_CONFIG_TEXT}' > \"$1{CONFIG}\"; "
                'mkdir -p "$1/var/lib/registry" "$1/tmp"')
        bases.bootstrap(client, "bookworm", platform, LOCAL_IMAGE, mirror=mirror,
                        variant="extract", say=lambda _line: None,
                        extra=("--include=docker-registry,ca-certificates", hook))
    return LOCAL_IMAGE, ["/usr/bin/docker-registry", "serve", CONFIG]


class LocalRegistry(DockerContainer):
    """``with LocalRegistry() as r: r.host`` -> ``127.0.0.1:PORT``.

    ``htpasswd``: a file of bcrypt htpasswd lines; the registry then wants basic auth.
    ``port``: a fixed host port (0 picks a free one), kept across stop()/start_again().
    """

    def __init__(self, client: docker.DockerClient, *, image: str | None = None,
                 htpasswd: Path | None = None, port: int = 0, **kwargs: Any) -> None:
        engine.local_reaper_only()
        name, command = registry_image(client, image)
        super().__init__(name, **kwargs)
        self._port = port
        # Loopback only: with_bind_ports() cannot name a host address, docker-py's mapping can.
        cast(dict[str, Any], self.ports)["5000/tcp"] = ("127.0.0.1", port or None)
        self.with_kwargs(labels={"dev.harness.distribution.registry": "1"})
        if command:
            self.with_command(command)
        if htpasswd is not None:
            self.with_volume_mapping(str(htpasswd.parent), "/auth", "ro")
            self.with_env("REGISTRY_AUTH", "htpasswd")
            self.with_env("REGISTRY_AUTH_HTPASSWD_REALM", "harness")
            self.with_env("REGISTRY_AUTH_HTPASSWD_PATH", f"/auth/{htpasswd.name}")

    def start(self) -> LocalRegistry:
        super().start()
        wait_answering(self)
        return self

    # Where the wait asks: the port is bound on loopback only, which testcontainers' own
    # guess of the host (a gateway, a bridge, DOCKER_HOST's) need not be.
    def get_container_host_ip(self) -> str:
        return self.host.rsplit(":", 1)[0]

    def get_exposed_port(self, port: int) -> int:
        return int(self.host.rsplit(":", 1)[1])

    @property
    def host(self) -> str:
        container = self.get_wrapped_container()
        container.reload()
        binding = container.attrs["NetworkSettings"]["Ports"]["5000/tcp"][0]
        return f"127.0.0.1:{binding['HostPort']}"

    def pause_serving(self) -> None:
        """Stop the registry process (the container and its data stay)."""
        self.get_wrapped_container().stop(timeout=2)

    def resume_serving(self) -> None:
        self.get_wrapped_container().start()
        wait_answering(self)


def main(argv: list[str]) -> int:
    """``python -m harness registry``: a local registry until Ctrl-C, SIGTERM or SIGHUP, then
    removed."""
    parser = ArgumentParser(prog="python -m harness registry")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--image", default=None)
    interrupts.install()  # stopped by a cancel as by Ctrl-C: the container is removed
    try:
        args = parser.parse_args(argv)
        if not 0 < args.port < 65536:
            raise UsageError(f"--port {args.port} is not a TCP port", "pass --port 1-65535")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", args.port)) == 0:
                raise UsageError(f"port {args.port} on 127.0.0.1 is in use",
                                 "pass --port with a free port, or stop what listens there")
        with LocalRegistry(engine.client(), image=args.image, port=args.port) as registry:
            print(f"registry at {registry.host} (plain HTTP on loopback); Ctrl-C stops and "
                  "removes it", flush=True)
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        return 0
