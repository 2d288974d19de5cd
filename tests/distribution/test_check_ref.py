"""Checking a reference's pure parts: what the controller hands the workers, what is remote."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest

from harness.core.oci.reference import is_registry_ref
from harness.core.outcomes import Exit, Kind
from harness.core.platforms.table import parse_platform
from harness.core.results.finding import Finding
from harness.distribution.check_ref import IndexCheck, resolve
from harness.distribution.registry import (
    MANIFEST_V2,
    OCI_INDEX,
    OCI_MANIFEST,
    Registry,
    RegistryError,
)

DIGEST = "sha256:" + "ab" * 32


def test_an_index_check_round_trips_for_the_workers() -> None:
    check = IndexCheck("127.0.0.1:5000/rust:1", "sha256:x", MANIFEST_V2, {"linux/amd64": "d"},
                       [Finding("index", Kind.MISMATCH, "linux/386 is not in the index", "f")])
    assert IndexCheck.from_dict(json.loads(json.dumps(check.to_dict()))) == check


@pytest.mark.parametrize(("ref", "is_remote"), [
    ("127.0.0.1:5000/rust:latest", True), ("registry.example/a/b@" + DIGEST, True),
    ("harness/rust:linux-amd64", False), ("rust", False),
])
def test_registry_references_are_told_from_local_images(ref: str, is_remote: bool) -> None:
    assert is_registry_ref(ref) is is_remote


DEEP = b"[" * 100_000 + b"]" * 100_000
INDEX = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
    {"mediaType": OCI_MANIFEST, "digest": DIGEST, "size": 2,
     "platform": {"os": "linux", "architecture": "amd64"}}]}).encode()

CONFIG = {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": DIGEST, "size": 2}


def shaped(**fields: object) -> bytes:
    """An image manifest, with ``fields`` in place of its own."""
    return json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": CONFIG,
                       "layers": [], **fields}).encode()


MANIFEST = shaped()


class HostileRegistry(BaseHTTPRequestHandler):
    """A registry that serves ``served`` (path suffix -> media type, body) and 404 else."""

    served: ClassVar[dict[str, tuple[str, bytes]]] = {}

    def log_message(self, *args: object) -> None:
        pass

    def do_HEAD(self) -> None:
        self._answer(with_body=False)

    def do_GET(self) -> None:
        self._answer(with_body=True)

    def _answer(self, with_body: bool) -> None:
        found = next((v for k, v in self.served.items() if self.path.endswith(k)), None)
        media, body = found or ("application/json", b"{}")
        self.send_response(200 if found else 404)
        self.send_header("Content-Type", media)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if with_body:
            self.wfile.write(body)


@pytest.fixture
def hostile() -> Iterator[tuple[str, dict[str, tuple[str, bytes]]]]:
    served: dict[str, tuple[str, bytes]] = {}
    handler = type("Handler", (HostileRegistry,), {"served": served})
    server = HTTPServer(("127.0.0.1", 0), handler)
    # Polled often: shutdown() waits for a poll (0.5 s by default, at every teardown).
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}", served
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(("served", "says"), [
    ({"/manifests/1": (OCI_INDEX, DEEP)}, "more than 64 levels of nesting"),
    ({"/manifests/1": ("application/json", DEEP)}, "more than 64 levels of nesting"),
    ({"/manifests/1": (OCI_INDEX, INDEX), f"/manifests/{DIGEST}": (OCI_MANIFEST, DEEP)},
     "more than 64 levels of nesting"),
    ({"/manifests/1": (OCI_MANIFEST, MANIFEST),
      f"/blobs/{DIGEST}": ("application/octet-stream", DEEP)},
     "more than 64 levels of nesting"),
    # Valid JSON of the wrong shape: KeyError, TypeError or AttributeError before.
    ({"/manifests/1": (OCI_MANIFEST, b'{"layers": []}')}, "'config' is a required property"),
    ({"/manifests/1": (OCI_MANIFEST, shaped(layers={"a": 1}))}, "is not of type 'array'"),
    ({"/manifests/1": (OCI_MANIFEST, shaped(layers=[{"mediaType": "x", "size": 1}]))},
     "'digest' is a required"),
    ({"/manifests/1": (OCI_MANIFEST, shaped(config={**CONFIG, "digest": "../../x"}))},
     "does not match"),
    ({"/manifests/1": (OCI_MANIFEST, shaped(layers=[{**CONFIG, "size": "big"}]))},
     "is not of type 'integer'"),
    ({"/manifests/1": (OCI_INDEX, b'{"manifests": {"a": 1}}')}, "is not of type 'array'"),
    ({"/manifests/1": (OCI_INDEX, b'{"manifests": [{"platform": {}}]}')},
     "is a required property"),
    ({"/manifests/1": (OCI_INDEX, INDEX.replace(b'{"os": "linux", "architecture": "amd64"}',
                                                b'"linux/amd64"'))},
     "is not of type 'object'"),
    ({"/manifests/1": (OCI_INDEX, INDEX), f"/manifests/{DIGEST}": (OCI_MANIFEST, b"{}")},
     "'config' is a required property"),
    ({"/manifests/1": (OCI_MANIFEST, MANIFEST),
      f"/blobs/{DIGEST}": ("application/octet-stream", b'{"os": "linux"}')},
     "'architecture' is a required property"),
    ({"/manifests/1": ("application/json", b'{"mediaType": "%s"}' % OCI_INDEX.encode())},
     "'manifests' is a required property"),
    ({"/manifests/1": (OCI_INDEX, b"[" + b" " * (5 << 20) + b"]")}, "more than 4194304 bytes"),
    ({"/manifests/1": (OCI_INDEX, b"{not json")}, "Expecting property name"),
    ({"/manifests/1": (OCI_INDEX, b"[1, 2]")}, "not a JSON object"),
    ({"/manifests/1": (OCI_INDEX, b'{"manifests": [], "n": NaN}')}, "NaN is not JSON"),
])
def test_a_registry_serving_what_is_no_manifest_is_an_error_never_a_crash(
        hostile: tuple[str, dict[str, tuple[str, bytes]]],
        served: dict[str, tuple[str, bytes]], says: str) -> None:
    """A 100k-deep manifest gave RecursionError: pytest's INTERNALERROR (exit 3)."""
    host, serving = hostile
    serving.update(served)
    with pytest.raises(RegistryError) as info:
        resolve(f"{host}/rust:1", [parse_platform("linux/amd64")])
    error = info.value
    assert error.exit_status == Exit.CANNOT_CHECK and error.cause == "registry-garbled"
    assert says in error.message and host in error.message
    assert "\n" not in error.message and len(error.message) < 500


def test_a_tag_list_or_a_token_answer_nested_too_deep_is_an_error_never_a_crash(
        hostile: tuple[str, dict[str, tuple[str, bytes]]]) -> None:
    host, serving = hostile
    serving["/tags/list"] = ("application/json", DEEP)
    with Registry(host) as registry, pytest.raises(RegistryError) as info:
        registry.tags("rust")
    assert info.value.cause == "registry-garbled"
