"""Faults for tests and the production-mode harness: a TCP proxy on 127.0.0.1 between the platform and
PostgreSQL that can take the database away (refuse new connections and cut the open ones) and bring it
back, and ``database_outage`` that does both around a wait.

    proxy = TcpProxy(("127.0.0.1", 5432)).start()      # DATABASE_URL=postgres://…@127.0.0.1:{proxy.port}/…
    database_outage(proxy, seconds=30, during=check)   # the harness: 30 s; tests: a few seconds
    proxy.stop()
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable


class TcpProxy:
    """Forward connections from ``127.0.0.1:port`` (``port`` 0: any free port) to ``upstream``.

    ``close()`` stops listening (new connections are refused at once) and cuts every open connection;
    ``reopen()`` listens again on the same port. ``stop()`` ends it for good."""

    def __init__(self, upstream: tuple[str, int], port: int = 0) -> None:
        self.upstream = upstream
        self.port = port
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> TcpProxy:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed
            if self._listener is not listener:  # accepted as it closed: refused after all
                client.close()
                return
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self._lock:
                self._open.update((client, server))
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        for end in (source, target):
            self._cut(end)

    def _cut(self, end: socket.socket) -> None:
        with self._lock:
            self._open.discard(end)
        try:
            end.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        end.close()

    @property
    def connections(self) -> int:
        """Connections open through the proxy (two sockets each)."""
        with self._lock:
            return len(self._open) // 2

    def close(self) -> None:
        """The database goes away: refuse new connections, cut every open one."""
        listener, self._listener = self._listener, None
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread: no connection slips in
            except OSError:
                pass
            listener.close()
        with self._lock:
            ends = list(self._open)
        for end in ends:
            self._cut(end)

    def reopen(self) -> None:
        """The database is back, on the same port."""
        self.start()

    def stop(self) -> None:
        self.close()


def database_outage(proxy: TcpProxy, *, seconds: float, during: Callable[[], None] | None = None) -> None:
    """Take the database away through ``proxy`` for ``seconds`` (the issue's production check: 30),
    calling ``during()`` once while it is away (requests that must answer 503, a job that must be
    retried), then bring it back. ``during`` runs first; the rest of the time is waited out."""
    proxy.close()
    started = time.monotonic()
    try:
        if during is not None:
            during()
        remaining = seconds - (time.monotonic() - started)
        if remaining > 0:
            time.sleep(remaining)
    finally:
        proxy.reopen()
