"""A fake Docker engine for the unit tests of ``harness/containers``: an HTTP server on a unix
socket of the test's own, answering the Engine API from a table of canned answers and
recording every call, as docker-py's tests/unit/fake_api.py does for its own client.

Unlike docker-py's (a mock of APIClient's methods), this one is a real endpoint: the
harness's own client, the one testcontainers makes from DOCKER_HOST, and the hijacked
connection of an exec's output all go through the real docker SDK and its transport; only
the engine is canned. Nothing real is touched: the socket lives in the test's tmp_path.
"""

from __future__ import annotations

import contextlib
import fcntl
import http.server
import json
import re
import socket
import socketserver
import struct
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import docker

API_VERSION = "1.43"
VERSIONED = re.compile(r"^/v\d+\.\d+")
RAW_STREAM = "application/vnd.docker.raw-stream"
SIOCOUTQ = 0x5411  # Linux: the bytes a unix socket sent that its peer has not read yet


@dataclass(frozen=True)
class Call:
    """One request the engine was sent (the path without its /vX.Y prefix)."""

    method: str
    path: str
    query: dict[str, list[str]]
    body: Any  # the JSON body, else the raw bytes

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


@dataclass
class Answer:
    """What the engine says: a status and a JSON (or raw) body; ``frames`` an exec's output
    in the engine's multiplexed stream format ((stream, bytes): 1 stdout, 2 stderr)."""

    status: int = 200
    body: Any = None
    frames: list[tuple[int, bytes]] = field(default_factory=list)
    content_type: str = "application/json"
    stream: bool = False  # sent chunked, a line a chunk, as the engine streams a pull or build


Handler = Callable[[Call, "re.Match[str]"], Answer]


def error(status: int, message: str) -> Answer:
    return Answer(status, {"message": message})


def frames_of(*chunks: tuple[int, bytes]) -> bytes:
    return b"".join(struct.pack(">BxxxL", stream, len(data)) + data for stream, data in chunks)


class FakeEngine:
    """The engine's state (containers, networks, execs) and its table of answers. ``on``
    puts an answer (or a handler) before the defaults, for the case a test is about."""

    def __init__(self, where: Path) -> None:
        self.socket = where / "engine.sock"
        self.calls: list[Call] = []
        self.containers: dict[str, dict[str, Any]] = {}
        self.networks: dict[str, dict[str, Any]] = {}
        self.execs: dict[str, dict[str, Any]] = {}
        self.images: dict[str, dict[str, Any]] = {}
        self.exec_output: list[tuple[int, bytes]] = [(1, b"")]
        self.exec_code = 0
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._overrides: list[tuple[str, re.Pattern[str], Handler]] = []
        self._lock = threading.Lock()
        self._defaults()

    # -- the table -------------------------------------------------------------------------

    def on(self, method: str, pattern: str, answer: Answer | Handler) -> None:
        handler: Handler = answer if callable(answer) else (lambda _c, _m, a=answer: a)
        self._overrides.insert(0, (method, re.compile(f"^{pattern}$"), handler))

    def _route(self, method: str, pattern: str, handler: Handler) -> None:
        self._routes.append((method, re.compile(f"^{pattern}$"), handler))

    def image(self, name: str, os: str = "linux", arch: str = "amd64",
              variant: str | None = None, config: dict[str, Any] | None = None) -> str:
        """An image the engine has; its id."""
        image_id = "sha256:" + uuid.uuid5(uuid.NAMESPACE_URL, name).hex * 2
        attrs = {"Id": image_id, "RepoTags": [name], "Os": os, "Architecture": arch,
                 "Config": config or {"Cmd": ["/bin/sh"], "Env": ["PATH=/usr/bin:/bin"]}}
        if variant:
            attrs["Variant"] = variant
        self.images[name] = self.images[image_id] = attrs
        return image_id

    def _defaults(self) -> None:
        ok = Answer(204)
        self._route("GET", "/_ping", lambda _c, _m: Answer(200, b"OK", content_type="text/plain"))
        self._route("HEAD", "/_ping", lambda _c, _m: Answer(200, b"", content_type="text/plain"))
        self._route("GET", "/version", lambda _c, _m: Answer(200, {
            "Version": "24.0.7", "ApiVersion": API_VERSION, "MinAPIVersion": "1.12",
            "KernelVersion": "6.1.0", "Os": "linux", "Arch": "amd64", "Components": []}))
        self._route("GET", "/info", lambda _c, _m: Answer(200, {
            "Architecture": "x86_64", "OSType": "linux", "Name": "fake-engine",
            "DriverStatus": [["driver-type", "io.containerd.snapshotter.v1"]],
            "Driver": "overlayfs", "CgroupVersion": "2"}))
        self._route("GET", "/images/(?P<name>.+)/json", self._inspect_image)
        self._route("POST", "/images/create", self._pull)
        self._route("POST", "/build", self._build)
        self._route("POST", "/containers/create", self._create)
        self._route("POST", "/containers/(?P<id>[^/]+)/start", self._start)
        self._route("POST", "/containers/(?P<id>[^/]+)/(stop|kill|wait)",
                    lambda c, m: self._known(m, Answer(200, {"StatusCode": 0})
                                             if c.path.endswith("wait") else ok))
        self._route("GET", "/containers/(?P<id>[^/]+)/json", self._inspect_container)
        self._route("GET", "/containers/(?P<id>[^/]+)/logs",
                    lambda _c, m: self._known(m, Answer(200, frames=[(1, b"")])))
        self._route("DELETE", "/containers/(?P<id>[^/]+)", self._remove_container)
        self._route("POST", "/containers/(?P<id>[^/]+)/exec", self._exec_create)
        self._route("POST", "/exec/(?P<id>[^/]+)/start",
                    lambda _c, _m: Answer(200, frames=list(self.exec_output),
                                          content_type=RAW_STREAM))
        self._route("GET", "/exec/(?P<id>[^/]+)/json",
                    lambda _c, m: Answer(200, {"ExitCode": self.exec_code, "Running": False}))
        self._route("POST", "/networks/create", self._network_create)
        self._route("GET", "/networks/(?P<id>[^/]+)", self._network_get)
        self._route("DELETE", "/networks/(?P<id>[^/]+)", self._network_remove)
        self._route("GET", "/containers/json", lambda _c, _m: Answer(200, [
            {"Id": i, "Names": [f"/{c['Name']}"], "Labels": c["Config"].get("Labels") or {}}
            for i, c in self.containers.items()]))

    # -- default answers --------------------------------------------------------------------

    def _find(self, table: dict[str, dict[str, Any]], key: str) -> str | None:
        for ident, thing in table.items():
            if key in (ident, ident[:12], thing.get("Name", "").lstrip("/")):
                return ident
        return None

    def _known(self, m: re.Match[str], answer: Answer) -> Answer:
        if self._find(self.containers, m["id"]) is None:
            return error(404, f"No such container: {m['id']}")
        return answer

    def _inspect_image(self, _c: Call, m: re.Match[str]) -> Answer:
        attrs = self.images.get(m["name"])
        if attrs is None:
            return error(404, f"No such image: {m['name']}")
        return Answer(200, attrs)

    def _pull(self, c: Call, _m: re.Match[str]) -> Answer:
        name = f"{c.param('fromImage')}"
        tag = c.param("tag")
        ref = f"{name}@{tag}" if tag and tag.startswith("sha256:") else \
            f"{name}:{tag}" if tag else name
        self.image(ref)
        return Answer(200, b'{"status":"Pulling"}\n{"status":"Downloaded"}\n', stream=True)

    def _build(self, c: Call, _m: re.Match[str]) -> Answer:
        tag = c.param("t") or "built"
        image_id = self.image(tag)
        lines = [{"stream": "Step 1/1 : FROM tiny:1\n"}, {"aux": {"ID": image_id}},
                 {"stream": f"Successfully tagged {tag}\n"}]
        return Answer(200, b"".join(json.dumps(line).encode() + b"\n" for line in lines),
                      stream=True)

    def _create(self, c: Call, _m: re.Match[str]) -> Answer:
        image = c.body.get("Image", "")
        if image not in self.images:
            return error(404, f"No such image: {image}")
        ident = uuid.uuid4().hex * 2
        name = c.param("name") or ident[:12]
        self.containers[ident] = {"Id": ident, "Name": f"/{name}", "Config": c.body,
                                  "HostConfig": c.body.get("HostConfig") or {},
                                  "State": {"Status": "created", "Running": False,
                                            "ExitCode": 0},
                                  "NetworkSettings": {"Networks": {}}}
        return Answer(201, {"Id": ident, "Warnings": []})

    def _start(self, _c: Call, m: re.Match[str]) -> Answer:
        ident = self._find(self.containers, m["id"])
        if ident is None:
            return error(404, f"No such container: {m['id']}")
        container = self.containers[ident]
        container["State"] = {"Status": "running", "Running": True, "ExitCode": 0}
        network = container["HostConfig"].get("NetworkMode")
        if network and network in {n["Name"] for n in self.networks.values()}:
            container["NetworkSettings"]["Networks"][network] = {"IPAddress": "10.99.0.2"}
        return Answer(204)

    def _inspect_container(self, _c: Call, m: re.Match[str]) -> Answer:
        ident = self._find(self.containers, m["id"])
        if ident is None:
            return error(404, f"No such container: {m['id']}")
        return Answer(200, self.containers[ident])

    def _remove_container(self, _c: Call, m: re.Match[str]) -> Answer:
        ident = self._find(self.containers, m["id"])
        if ident is None:
            return error(404, f"No such container: {m['id']}")
        del self.containers[ident]
        return Answer(204)

    def _exec_create(self, c: Call, m: re.Match[str]) -> Answer:
        if self._find(self.containers, m["id"]) is None:
            return error(404, f"No such container: {m['id']}")
        ident = uuid.uuid4().hex * 2
        self.execs[ident] = {"Container": m["id"], **c.body}
        return Answer(201, {"Id": ident})

    def _network_create(self, c: Call, _m: re.Match[str]) -> Answer:
        ident = uuid.uuid4().hex * 2
        self.networks[ident] = {"Id": ident, **c.body}
        return Answer(201, {"Id": ident, "Warning": ""})

    def _network_get(self, _c: Call, m: re.Match[str]) -> Answer:
        ident = self._find(self.networks, m["id"])
        if ident is None:
            return error(404, f"network {m['id']} not found")
        return Answer(200, self.networks[ident])

    def _network_remove(self, _c: Call, m: re.Match[str]) -> Answer:
        ident = self._find(self.networks, m["id"])
        if ident is None:
            return error(404, f"network {m['id']} not found")
        del self.networks[ident]
        return Answer(204)

    # -- serving ------------------------------------------------------------------------------

    def answer(self, call: Call) -> Answer:
        with self._lock:
            self.calls.append(call)
            for method, pattern, handler in [*self._overrides, *self._routes]:
                m = pattern.match(call.path)
                if m and method == call.method:
                    return handler(call, m)
        return error(404, f"the fake engine has no answer for {call.method} {call.path}")

    def called(self, method: str, pattern: str) -> list[Call]:
        """The calls of ``method`` whose path matches ``pattern`` (the whole path)."""
        rx = re.compile(f"^{pattern}$")
        return [c for c in self.calls if c.method == method and rx.match(c.path)]

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def client(self, timeout: int = 60) -> docker.DockerClient:
        """A real docker SDK client of this engine."""
        return docker.DockerClient(base_url=self.url, version=API_VERSION, timeout=timeout)


class _Server(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True
    engine: FakeEngine


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"  # one request per connection: an answer ends at its close

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            raw = b""
            while size := int(self.rfile.readline().split(b";")[0], 16):
                raw += self.rfile.read(size)
                self.rfile.readline()
            self.rfile.readline()
        else:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        call = Call(self.command, VERSIONED.sub("", unquote(parts.path)),
                    parse_qs(parts.query), body)
        answer = self.server.engine.answer(call)
        if answer.frames:
            data = frames_of(*answer.frames)
        elif isinstance(answer.body, bytes):
            data = answer.body
        elif answer.body is None:
            data = b""
        else:
            data = json.dumps(answer.body).encode()
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Api-Version", API_VERSION)
        if answer.content_type == RAW_STREAM:
            # The SDK reads a raw stream from the socket itself, under http.client's
            # buffered reader: what that reader took with the head would be lost. The body
            # goes once the client has read the head (nothing of it left unread).
            self.end_headers()
            _drained(self.connection)
            self.wfile.write(data)
            return
        if answer.stream:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for line in data.splitlines(keepends=True):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
            self.wfile.write(b"0\r\n\r\n")
            return
        if answer.status != 204:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD" and answer.status != 204:
            self.wfile.write(data)

    do_GET = do_POST = do_DELETE = do_HEAD = do_PUT = _serve

    def address_string(self) -> str:
        return "fake-engine"

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _drained(conn: socket.socket, cap: float = 5.0) -> None:
    """Until the peer has read all that was sent on ``conn`` (at most ``cap`` seconds)."""
    end = time.monotonic() + cap
    while time.monotonic() < end:
        unread = struct.unpack("i", fcntl.ioctl(conn.fileno(), SIOCOUTQ, b"\0" * 4))[0]
        if unread == 0:
            return
        time.sleep(0.001)


@contextlib.contextmanager
def serve(where: Path) -> Iterator[FakeEngine]:
    """A fake engine listening on ``where``/engine.sock until the block ends."""
    engine = FakeEngine(where)
    server = _Server(str(engine.socket), _Handler)
    server.engine = engine
    # polled often: a test's teardown waits one poll for the server to stop
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True,
                              name="fake engine")
    thread.start()
    try:
        yield engine
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
