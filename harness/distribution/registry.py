"""A small client of the OCI distribution API: blobs, manifests, indexes, tags.

Only what publishing by digest needs. Credentials come from where docker keeps them (docker
config, credential helpers) through the docker SDK; basic and token auth both work; no
credential is ever put in a message. A registry that is not on loopback is spoken to over
TLS unless the user explicitly allows it insecure.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Iterable
from typing import Any, BinaryIO

import docker.auth
import requests

from harness.core import jsondoc
from harness.core.failures.diagnosis import Event, Stage, clean, diagnose
from harness.core.failures.errors import CannotCheck
from harness.core.jsondoc import JSON
from harness.core.oci import documents as oci
from harness.machine import deadline

MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"
MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
CONFIG_V1 = "application/vnd.docker.container.image.v1+json"
LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
INDEXES = (MANIFEST_LIST, OCI_INDEX)
MANIFESTS = (MANIFEST_V2, OCI_MANIFEST)
ACCEPT = ", ".join((*INDEXES, *MANIFESTS))
# Bytes of a JSON document read from a registry: distribution (the reference registry)
# accepts manifests of up to 4 MiB; a config names a few hundred layers' history at most.
MANIFEST_BYTES = 4 << 20
CONFIG_BYTES = 8 << 20
ANSWER_BYTES = 1 << 20  # a token, or a registry's errors
CONNECT_TIMEOUT = 10.0  # seconds for a connection to a registry to complete
# An upload's deadline grows with its size: a registry taking less than this many bytes a
# second is treated as one that does not answer.
UPLOAD_RATE = 256 * 1024


class RegistryError(CannotCheck):
    """The registry could not be reached, refused us, or answered something unexpected."""


class AuthError(RegistryError):
    pass


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def is_loopback(host: str) -> bool:
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else host[1:host.index("]")]
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class Registry:
    """One registry host; one session, with its auth, for every request."""

    def __init__(self, host: str, *, insecure: bool = False, timeout: float = 60.0,
                 credentials: dict[str, str] | None = None) -> None:
        self.host = host
        plain = is_loopback(host) or insecure
        self.base = f"{'http' if plain else 'https'}://{host}"
        self.timeout = timeout  # seconds for each whole answer (harness.machine.deadline)
        self.session = deadline.session()
        self._credentials = credentials if credentials is not None else docker_credentials(host)
        self._token: str | None = None
        self._basic_ok = False  # the registry asked for basic auth: send it every time
        self.uploaded_blobs = 0  # counted, so that a re-publish can show it uploaded nothing

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transport ------------------------------------------------------------------------

    def _request(self, method: str, path_or_url: str, *, ok: Iterable[int] = (200,),
                 **kw: Any) -> requests.Response:
        url = path_or_url if path_or_url.startswith("http") else self.base + path_or_url
        for attempt in range(2):
            headers = dict(kw.pop("headers", {}) or {})
            if self._token:
                headers["Authorization"] = f"Bearer {self._token}"
            elif self._credentials and self._basic_ok:
                kw["auth"] = (self._credentials["username"], self._credentials["password"])
            seconds = self._seconds(headers, kw.get("data"))
            try:
                with deadline.Deadline(seconds) as limit:
                    resp = self.session.request(method, url, headers=headers,
                                                timeout=self._timeouts(), **kw)
                if limit.fired:  # its sockets were shut mid-answer: what was read is cut
                    raise requests.ConnectionError("the answer was cut at its deadline")
            except requests.RequestException as exc:
                said = f"{type(exc).__name__}: {exc}"
                if limit.expired:  # a registry dripping or holding its answer
                    said = f"no whole answer within {seconds:g} s (timed out)"
                d = diagnose(Event(Stage.PUBLISH, output=said,
                                   host=self.host, command=f"{method} {_path(url)}"))
                raise RegistryError(d.message, d.fix, cause=d.cause) from exc
            if resp.status_code == 401 and attempt == 0 and self._authenticate(resp):
                kw["headers"] = headers
                if hasattr(kw.get("data"), "seek"):
                    kw["data"].seek(0)
                continue
            break
        if resp.status_code == 401:
            d = diagnose(Event(Stage.PUBLISH, status=401, host=self.host,
                               command=f"{method} {_path(url)}"))
            raise AuthError(d.message, d.fix, cause=d.cause)
        if resp.status_code not in ok:
            raise RegistryError(f"registry {self.host}: {method} {_path(url)} answered "
                                f"{resp.status_code} {_errors(resp)}",
                                "check the registry's log")
        return resp

    def _timeouts(self) -> tuple[float, float]:
        """(connect, each read): a connection that never completes is given up sooner."""
        return min(CONNECT_TIMEOUT, self.timeout), self.timeout

    def _seconds(self, headers: dict[str, str], data: Any) -> float:
        """The whole answer's deadline: the timeout, and the time to send an upload's body."""
        size = headers.get("Content-Length", "")
        sent = int(size) if size.isdigit() else len(data) if isinstance(data, bytes) else 0
        return self.timeout + sent / UPLOAD_RATE

    def _authenticate(self, resp: requests.Response) -> bool:
        challenge = resp.headers.get("WWW-Authenticate", "")
        scheme, params = parse_challenge(challenge)
        if scheme == "basic":
            if not self._credentials:
                return False
            self._basic_ok = True
            return True
        if scheme == "bearer" and "realm" in params:
            query = {k: v for k, v in params.items() if k in ("service", "scope")}
            auth = (self._credentials["username"], self._credentials["password"]) \
                if self._credentials else None
            try:
                with deadline.Deadline(self.timeout) as limit:
                    token_resp = self.session.get(params["realm"], params=query, auth=auth,
                                                  timeout=self._timeouts())
                if limit.fired:  # cut at its deadline, as in _request
                    raise requests.ConnectionError("the answer was cut at its deadline")
            except requests.RequestException as exc:
                raise RegistryError(f"the token service of {self.host} cannot be reached",
                                    "check the registry's auth configuration") from exc
            if token_resp.status_code != 200:
                return False
            body = self.document(token_resp.content, f"the token service {_path(params['realm'])}",
                                 ANSWER_BYTES)
            self._token = body.get("token") or body.get("access_token")
            return bool(self._token)
        return False

    # -- API ------------------------------------------------------------------------------

    def ping(self) -> None:
        self._request("GET", "/v2/")

    def has_blob(self, repo: str, digest: str) -> bool:
        resp = self._request("HEAD", f"/v2/{repo}/blobs/{digest}", ok=(200, 404))
        return resp.status_code == 200

    def push_blob(self, repo: str, digest: str, data: BinaryIO | bytes, size: int) -> bool:
        """Upload a blob unless the repository has it; True when it was uploaded."""
        if self.has_blob(repo, digest):
            return False
        start = self._request("POST", f"/v2/{repo}/blobs/uploads/", ok=(202,))
        location = start.headers["Location"]
        if not location.startswith("http"):
            location = self.base + location
        sep = "&" if "?" in location else "?"
        self._request("PUT", f"{location}{sep}digest={digest}", ok=(201,), data=data,
                      headers={"Content-Type": "application/octet-stream",
                               "Content-Length": str(size)})
        self.uploaded_blobs += 1
        return True

    def get_blob(self, repo: str, digest: str) -> bytes:
        return self._request("GET", f"/v2/{repo}/blobs/{digest}").content

    def put_manifest(self, repo: str, reference: str, body: bytes, media_type: str) -> str:
        resp = self._request("PUT", f"/v2/{repo}/manifests/{reference}", ok=(201,), data=body,
                             headers={"Content-Type": media_type})
        return resp.headers.get("Docker-Content-Digest") or digest_of(body)

    def get_manifest(self, repo: str, reference: str) -> tuple[str, bytes, str]:
        """(media type, body, digest) of a manifest or index."""
        resp = self._request("GET", f"/v2/{repo}/manifests/{reference}",
                             headers={"Accept": ACCEPT})
        media = resp.headers.get("Content-Type", "").split(";")[0]
        body = resp.content
        what = f"GET /v2/{repo}/manifests/{reference}"
        doc = self.document(body, what)
        if not media or media == "application/json":
            media = str(doc.get("mediaType", MANIFEST_V2))
        # Every caller reads a manifest it got here as an index or else as an image manifest:
        # its shape is checked once, here, for them all.
        self.document(body, what, shape="an image index" if media in INDEXES
                      else "an image manifest")
        return media, body, digest_of(body)

    def document(self, body: bytes, what: str, limit: int = MANIFEST_BYTES,
                 shape: str | None = None) -> JSON:
        """``body``, a JSON object the registry served as ``what``, read bounded
        (harness.core.jsondoc), and of the ``shape`` named (harness.core.oci.documents) if any; one
        too
        big, too deep, not a JSON object or of another shape is the registry's fault
        (diagnosis: registry-garbled), never a crash."""
        try:
            doc = jsondoc.parse(body, max_bytes=limit)
        except ValueError as exc:  # jsondoc.Exceeded too
            reason = str(exc)
        else:
            if not isinstance(doc, dict):
                reason = "not a JSON object"
            elif shape is None or (reason := oci.shape_error(doc, shape) or "") == "":
                return doc
        # ``what`` may name a digest the registry gave: bounded like all it says.
        d = diagnose(Event(Stage.CHECK, output=f"not a JSON document: {reason}",
                           host=self.host, command=clean(what, 200)))
        raise RegistryError(d.message, d.fix, cause=d.cause)

    def get_config(self, repo: str, digest: str) -> JSON:
        """The image config ``digest``, read as :meth:`document`."""
        return self.document(self.get_blob(repo, digest), f"GET /v2/{repo}/blobs/{digest}",
                             CONFIG_BYTES, shape="an image config")

    def has_manifest(self, repo: str, reference: str) -> bool:
        resp = self._request("HEAD", f"/v2/{repo}/manifests/{reference}", ok=(200, 404),
                             headers={"Accept": ACCEPT})
        return resp.status_code == 200

    def tags(self, repo: str) -> list[str]:
        resp = self._request("GET", f"/v2/{repo}/tags/list", ok=(200, 404))
        if resp.status_code == 404:
            return []
        return sorted(self.document(resp.content, f"GET /v2/{repo}/tags/list").get("tags") or [])


def unanswered(host: str, *, insecure: bool = False, seconds: float = 10.0) -> str | None:
    """Why the registry at ``host`` gives no answer to ``GET /v2/`` within ``seconds``
    (None: it answers, a refusal of the credentials included): asked before a registry is
    handed to a tool without a deadline of its own (buildx's cache)."""
    try:
        with Registry(host, insecure=insecure, timeout=seconds) as registry:
            registry.ping()
    except AuthError:
        return None
    except RegistryError as exc:
        return exc.message
    return None


def parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """``Bearer realm="…",service="…"`` -> ("bearer", {...})."""
    scheme, _, rest = header.strip().partition(" ")
    params = dict(re.findall(r'(\w+)="([^"]*)"', rest))
    return scheme.lower(), params


def docker_credentials(host: str) -> dict[str, str] | None:
    """Credentials docker has stored for ``host`` (config file or credential helper)."""
    try:
        found = docker.auth.resolve_authconfig(docker.auth.load_config(), registry=host)
    except Exception:  # a broken helper must not stop an anonymous push
        return None
    if found and found.get("username") and found.get("password"):
        return {"username": str(found["username"]), "password": str(found["password"])}
    return None


def _path(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url).split("?")[0]


def _errors(resp: requests.Response) -> str:
    """The registry's errors of a refused request, bounded (what it says is data)."""
    try:
        errors = jsondoc.parse(resp.content, max_bytes=ANSWER_BYTES).get("errors") or []
        return clean("; ".join(f"{e.get('code')}: {e.get('message')}" for e in errors), 300)
    except (ValueError, AttributeError, TypeError):  # not JSON, or not the errors' shape
        return ""

