"""A whole HTTP answer's deadline, for every reader of a socket's other side (the service
under check, a registry).

A read timeout bounds each read, not the answer: a peer that drips a byte every few seconds
never trips it, in the status line, the headers or the body. Under :class:`Deadline`, every
socket a :func:`session` opens or reuses is registered, and at the deadline a timer shuts
them down, so that a read blocked on a dripping or silent peer returns at once (as an end of
stream); readers also check :meth:`Deadline.expired` between their reads. One mechanism, for
every HTTP reader of the harness.
"""

from __future__ import annotations

import contextlib
import contextvars
import socket
import threading
import time
from typing import Any

import requests
import requests.adapters
import urllib3.connection
import urllib3.connectionpool

_current: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar(
    "harness_deadline", default=None)


class Deadline:
    """``seconds`` from now for everything asked under it (``with Deadline(60):``)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self.fired = False  # the deadline passed while something was being read
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._token: contextvars.Token[Deadline | None] | None = None

    def remaining(self) -> float:
        return max(self.end - time.monotonic(), 0.0)

    @property
    def expired(self) -> bool:
        return self.fired or time.monotonic() >= self.end

    def __enter__(self) -> Deadline:
        self._token = _current.set(self)
        self._timer = threading.Timer(self.remaining(), self._expire)
        self._timer.daemon = True
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._token is not None:
            _current.reset(self._token)
        with self._lock:
            self._sockets.clear()

    def watch(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            self._sockets.append(sock)
            late = self.fired
        if late:
            _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.fired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    # shutdown, not close: the reading thread owns the descriptor; its blocked recv returns.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _watch(sock: Any) -> None:
    deadline = _current.get()
    if deadline is not None and isinstance(sock, socket.socket):
        deadline.watch(sock)


class _Connection(urllib3.connection.HTTPConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _watch(sock)  # before a TLS handshake, which a silent peer can stall too
        return sock

    def request(self, *args: Any, **kw: Any) -> None:
        _watch(self.sock)  # a kept-alive connection, opened under an earlier deadline
        super().request(*args, **kw)


class _TLSConnection(urllib3.connection.HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _watch(sock)
        return sock

    def request(self, *args: Any, **kw: Any) -> None:
        _watch(self.sock)
        super().request(*args, **kw)


class _Pool(urllib3.connectionpool.HTTPConnectionPool):
    ConnectionCls = _Connection


class _TLSPool(urllib3.connectionpool.HTTPSConnectionPool):
    ConnectionCls = _TLSConnection


_POOLS = {"http": _Pool, "https": _TLSPool}


class _Adapter(requests.adapters.HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kw: Any) -> None:
        super().init_poolmanager(*args, **kw)
        self.poolmanager.pool_classes_by_scheme = _POOLS

    def proxy_manager_for(self, proxy: str, **kw: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **kw)
        manager.pool_classes_by_scheme = _POOLS
        return manager


def session() -> requests.Session:
    """A requests session whose sockets a :class:`Deadline` bounds."""
    s = requests.Session()
    s.mount("http://", _Adapter())
    s.mount("https://", _Adapter())
    return s


def read(raw: Any, limit: int, deadline: Deadline) -> tuple[bytes, Exception | None]:
    """Up to ``limit`` bytes of a streamed body (urllib3's response), as they arrive, and why
    the reading stopped short (None: the whole body, or ``limit`` bytes, was read). What was
    sent before a stall, a close or the deadline is kept."""
    chunks: list[bytes] = []
    size = 0
    try:
        while size < limit:
            if deadline.expired:
                raise TimeoutError(f"no whole answer within {deadline.seconds:g} s")
            chunk = raw.read1(min(1 << 16, limit - size), decode_content=True)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except (urllib3.exceptions.HTTPError, requests.RequestException, OSError) as exc:
        if deadline.expired and not isinstance(exc, TimeoutError):
            exc = TimeoutError(f"no whole answer within {deadline.seconds:g} s")
        return b"".join(chunks), exc
    if deadline.fired:  # shut down: the end of stream was ours, not the peer's
        return b"".join(chunks), TimeoutError(f"no whole answer within {deadline.seconds:g} s")
    return b"".join(chunks), None
