"""FakeCoupang's gateway: the three ways in (MockTransport handler, WSGI app, loopback
server), the signature, skew, IP and throttle checks, fault injection and the routing."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta, timezone
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qsl, quote
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import httpx

from consign_core.testing._coupang_items import ITEM_ROUTE, ItemBook
from consign_core.testing._coupang_model import FakeCall, Fault, Reply, error
from consign_core.testing._coupang_sheets import SheetBook


__all__ = ["Gateway"]

_AUTH = re.compile(
    r"CEA algorithm=HmacSHA256, ?access-key=([^,]+), ?signed-date=(\d{6}T\d{6}Z), "
    r"?signature=([0-9a-f]{64})"
)
_ROUTE = re.compile(r"/v2/providers/openapi/apis/api/(v\d+)/vendors/([^/]+)/(.+)")


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Keep test output clean."""


class Gateway(SheetBook, ItemBook):
    """The gateway in front of the :class:`SheetBook` and the :class:`ItemBook`: checks each
    request, then routes it."""

    timeout_delay: float
    calls: list[FakeCall]
    rejected: list[tuple[int, str]]
    _lock: threading.RLock
    _access_key: str
    _secret: bytes
    _max_skew: timedelta
    _rate: float | None
    _monotonic: Callable[[], float]
    _tokens: float
    _refilled: float
    _allowed_ips: frozenset[str] | None
    _faults: list[list[Any]]
    _server: _Server | None
    _thread: threading.Thread | None
    _serve_lock: threading.Lock

    # --- the three ways in -----------------------------------------------------------------

    def __call__(self, request: httpx.Request) -> httpx.Response:
        """The ``httpx.MockTransport`` handler."""
        raw = request.url.raw_path.decode("ascii")
        path, _, query = raw.partition("?")
        status, headers, body, fault = self._handle(
            request.method, path, query, request.headers, request.read(), "127.0.0.1"
        )
        if fault is Fault.TIMEOUT:
            msg = "the fake gateway did not answer in time"
            raise httpx.ReadTimeout(msg, request=request)
        return httpx.Response(status, headers=headers, content=body)

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        """The WSGI app (for ``httpx.WSGITransport`` or any WSGI server)."""
        path = quote(environ.get("PATH_INFO", ""), safe="/:@!$&'()*+,;=-._~")
        query = environ.get("QUERY_STRING", "")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        status, out_headers, content, fault = self._handle(
            environ["REQUEST_METHOD"], path, query, headers, body, environ.get("REMOTE_ADDR", "")
        )
        if fault is Fault.TIMEOUT:
            time.sleep(self.timeout_delay)
        reason = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
                  404: "Not Found", 429: "Too Many Requests", 500: "Internal Server Error",
                  504: "Gateway Timeout"}.get(status, "Status")  # fmt: skip
        out_headers["Content-Length"] = str(len(content))
        start_response(f"{status} {reason}", list(out_headers.items()))
        return [content]

    @contextlib.contextmanager
    def serve(self) -> Iterator[str]:
        """Serve the fake on a loopback socket (port 0) for the ``with`` block; yields the URL."""
        url = self.start()
        try:
            yield url
        finally:
            self.stop()

    def start(self) -> str:
        """Start serving on ``127.0.0.1`` (a free port) in a thread; returns the base URL."""
        with self._serve_lock:
            if self._server is None:
                server = make_server(
                    "127.0.0.1", 0, self.wsgi, server_class=_Server, handler_class=_QuietHandler
                )
                thread = threading.Thread(
                    target=server.serve_forever,
                    kwargs={"poll_interval": 0.05},
                    name="fake-coupang",
                    daemon=True,
                )
                thread.start()
                self._server, self._thread = server, thread
            return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        """Stop serving (idempotent)."""
        with self._serve_lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    # --- request handling ------------------------------------------------------------------

    def _handle(  # noqa: PLR0917 - one request's parts
        self,
        method: str,
        path: str,
        query: str,
        headers: Mapping[str, str],
        body: bytes,
        client_ip: str,
    ) -> tuple[int, dict[str, str], bytes, Fault | None]:
        fault: Fault | None = None
        try:
            with self._lock:
                self._check_ip(client_ip)
                self._check_signature(method, path, query, headers)
                self._check_throttle()
                pairs = tuple(parse_qsl(query, keep_blank_values=True))
                parsed = self._parse_body(body)
                self.calls.append(
                    FakeCall(method=method, path=path, query=pairs, raw_query=query, body=parsed)
                )
                fault = self._take_fault(method, path)
                if fault is Fault.RATE_LIMITED:
                    raise error(429, "Too many requests")
                if fault is Fault.SERVER_ERROR:
                    raise error(500, "Internal Server Error")
                reply = self._route(method, path, dict(pairs), parsed)
        except Reply as early:
            reply = early
            if reply.status in (401, 403, 429) and fault is None:
                said = reply.body.get("message") if isinstance(reply.body, dict) else None
                self.rejected.append((reply.status, str(said)))
        if fault is Fault.GATEWAY_TIMEOUT:
            reply = error(
                504,
                "Request timed out, if the situation continues "
                "consider applying timeout extension.",
            )
        content = json.dumps(reply.body, ensure_ascii=False).encode()
        if fault is Fault.MALFORMED:
            content = content[: max(1, len(content) // 2)]
        out = {"Content-Type": "application/json;charset=UTF-8", **reply.headers}
        return reply.status, out, content, fault

    def _check_ip(self, client_ip: str) -> None:
        if self._allowed_ips is not None and client_ip not in self._allowed_ips:
            raise error(403, f"Not allowed IP: {client_ip}")

    def _check_signature(
        self, method: str, path: str, query: str, headers: Mapping[str, str]
    ) -> None:
        header = headers.get("authorization") or headers.get("Authorization")
        if not header:
            raise error(401, "Request is not authorized.")
        match = _AUTH.fullmatch(header.strip())
        if match is None:
            raise error(401, "HMAC format is invalid.")
        access_key, signed_date, signature = match.groups()
        try:
            signed = datetime.strptime(signed_date, "%y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
        except ValueError:
            raise error(401, "HMAC format is invalid.") from None
        if abs(self._clock() - signed) > self._max_skew:
            raise error(401, "Specified signature is expired.")
        message = f"{signed_date}{method}{path}{query}".encode()
        expected = hmac.new(self._secret, message, hashlib.sha256).hexdigest()
        if access_key != self._access_key or not hmac.compare_digest(expected, signature):
            raise error(401, "Invalid signature.")

    def _check_throttle(self) -> None:
        if self._rate is None:
            return
        now = self._monotonic()
        self._tokens = min(self._rate, self._tokens + (now - self._refilled) * self._rate)
        self._refilled = now
        if self._tokens < 1.0:
            raise error(429, "Too many requests")
        self._tokens -= 1.0

    @staticmethod
    def _parse_body(body: bytes) -> Any:
        if not body:
            return None
        try:
            return json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise error(400, "Request body is not valid JSON.") from None

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for staged in self._faults:
            fault, times, where, verb = staged
            if (where is None or where in path) and (verb is None or verb == method):
                staged[1] = times - 1
                if staged[1] <= 0:
                    self._faults.remove(staged)
                return fault  # type: ignore[no-any-return]
        return None

    def _route(self, method: str, path: str, query: dict[str, str], body: Any) -> Reply:
        item = ITEM_ROUTE.fullmatch(path)
        if item is not None:  # the product API: the vendor is the signer, not in the path
            return self._item_route(method, item[1])
        match = _ROUTE.fullmatch(path)
        if match is None:
            raise error(404, "Not Found")
        version, vendor, tail = match.groups()
        if vendor != self.vendor_id:
            raise error(403, "Request is not authorized.")
        v5 = version >= "v5"
        if isinstance(body, dict) and body.get("vendorId") not in (None, self.vendor_id):
            raise error(400, "vendorId does not match the path.")
        writes = method in ("PUT", "PATCH")
        get = method == "GET"
        post = method == "POST"
        routes: list[tuple[str, bool, Callable[[re.Match[str]], Reply]]] = [
            (r"ordersheets", get, lambda _: self._list(query, v5=v5)),
            (r"ordersheets/acknowledgement", writes, lambda _: self._ack(body)),
            (r"ordersheets/(\d+)", get, lambda m: self._one(int(m[1]), v5=v5)),
            (r"ordersheets/(\d+)/history", get, lambda m: self._history(int(m[1]))),
            (r"(\d+)/ordersheets", get, lambda m: self._by_order(int(m[1]), v5=v5)),
            (r"orders/invoices", post, lambda _: self._invoices(body, update=False)),
            (r"orders/updateInvoices", post, lambda _: self._invoices(body, update=True)),
            (r"orders/(\d+)/cancel", post, lambda m: self._cancel(int(m[1]), body)),
            (r"returnRequests", get, lambda _: self._returns(query)),
            (r"returnRequests/(\d+)/stoppedShipment", writes,
             lambda m: self._stopped(int(m[1]), body)),
            (r"returnRequests/(\d+)/completedShipment", writes,
             lambda m: self._completed(int(m[1]), body)),
        ]  # fmt: skip
        for pattern, allowed, handler in routes:
            found = re.fullmatch(pattern, tail)
            if found is not None:
                if not allowed:
                    raise error(405, f"Method {method} is not allowed.")
                return handler(found)
        raise error(404, "Not Found")
