"""FakeDomeme on a real loopback socket (port 0): a threading WSGI server that can drop a
connection without an answer, as a timed-out call does."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from types import TracebackType
from typing import Any, Protocol
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer, make_server

from consign_core.testing._domeme_common import FakeDomemeDroppedError


__all__ = ["FakeDomemeServer", "WsgiFake"]


class WsgiFake(Protocol):
    """What the server serves: a fake with a WSGI application."""

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """The WSGI application."""
        ...


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    """Serves one request per connection; a dropped call closes it without an answer."""

    def log_message(self, *args: Any) -> None:  # noqa: ARG002 - silenced on purpose
        return

    def handle(self) -> None:
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536 or not self.parse_request():
            return
        wfile: Any = self.wfile
        handler = _DroppingHandler(
            self.rfile, wfile, sys.stderr, self.get_environ(), multithread=True
        )
        handler.request_handler = self  # type: ignore[attr-defined]
        handler.run(self.server.get_app())  # type: ignore[attr-defined]


class _DroppingHandler(ServerHandler):
    def handle_error(self) -> None:
        if isinstance(sys.exc_info()[1], FakeDomemeDroppedError):
            return
        super().handle_error()

    def log_exception(
        self,
        exc_info: tuple[type[BaseException], BaseException, TracebackType]  # noqa: ARG002
        | tuple[None, None, None],
    ) -> None:
        return


class FakeDomemeServer:
    """A :class:`~consign_core.testing.fake_domeme.FakeDomeme` on a real loopback socket
    (port 0); start and stop are thread-safe and idempotent."""

    def __init__(self, fake: WsgiFake, host: str = "127.0.0.1") -> None:
        self.fake = fake
        self.host = host
        self._server: _ThreadingServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        """The API endpoint, ``http://127.0.0.1:<port>/ssl/api/``."""
        if self._server is None:
            msg = "the server is not running"
            raise RuntimeError(msg)
        return f"http://{self.host}:{self._server.server_address[1]}/ssl/api/"

    def start(self) -> None:
        """Start serving (no-op when running)."""
        with self._lock:
            if self._server is not None:
                return
            server = make_server(
                self.host,
                0,
                self.fake.wsgi,
                server_class=_ThreadingServer,
                handler_class=_QuietHandler,
            )
            thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            thread.start()
            self._server, self._thread = server, thread

    def stop(self) -> None:
        """Stop serving and release the port (no-op when stopped)."""
        with self._lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> FakeDomemeServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
