"""Hostile HTTP peers on loopback, each in a thread, for the tests of every reader's deadline:
one that drips its answer, one that sends less than its Content-Length and then closes or
stalls, one that accepts and never answers. Each gives up on its own after ``CAP`` seconds,
so that a reader without a deadline makes its test fail, not hang the suite."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator

CAP = 30.0  # seconds any peer here keeps a connection, at most
Handler = Callable[[socket.socket, threading.Event], None]


@contextlib.contextmanager
def serve(handler: Handler) -> Iterator[int]:
    """A listener on 127.0.0.1 running ``handler`` for each connection; yields its port."""
    stop = threading.Event()
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.02)  # how soon the block's end is seen: each test waits for it

    def one(conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            handler(conn, stop)

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=one, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def _request(conn: socket.socket, stop: threading.Event) -> bool:
    """Read one request's head; False when the client went away."""
    conn.settimeout(0.2)
    seen = b""
    end = time.monotonic() + CAP
    while b"\r\n\r\n" not in seen:
        if stop.is_set() or time.monotonic() > end:
            return False
        try:
            data = conn.recv(4096)
        except TimeoutError:
            continue
        if not data:
            return False
        seen += data
    return True


def _wait(stop: threading.Event, seconds: float) -> None:
    stop.wait(seconds)


def dripping(interval: float, head: bool = False) -> Handler:
    """An answer a byte every ``interval`` seconds: its body (announced 1000 bytes long), or
    with ``head`` its status line and headers already."""

    def handler(conn: socket.socket, stop: threading.Event) -> None:
        if not _request(conn, stop):
            return
        answer = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
        if not head:
            conn.sendall(answer)
            answer = b"o" * 1000
        end = time.monotonic() + CAP
        for byte in answer:
            if stop.is_set() or time.monotonic() > end:
                return
            conn.sendall(bytes([byte]))
            _wait(stop, interval)

    return handler


def short(body: bytes, length: int, stall: bool) -> Handler:
    """``body`` under a Content-Length of ``length``, then a close, or with ``stall`` nothing
    more (until CAP)."""

    def handler(conn: socket.socket, stop: threading.Event) -> None:
        if not _request(conn, stop):
            return
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                     b"Content-Length: %d\r\n\r\n%s" % (length, body))
        if stall:
            _wait(stop, CAP)

    return handler


def silent(conn: socket.socket, stop: threading.Event) -> None:
    """Accepts, reads the request, and never answers."""
    _request(conn, stop)
    _wait(stop, CAP)


def answering(body: bytes, then: Handler | None = None) -> Handler:
    """A whole answer, kept alive; a second request on the connection goes to ``then``."""

    def handler(conn: socket.socket, stop: threading.Event) -> None:
        if not _request(conn, stop):
            return
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     b"Docker-Distribution-API-Version: registry/2.0\r\n"
                     b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        if then is not None:
            then(conn, stop)

    return handler
