"""``FakeDomeme``: an in-process Domeme (Domeggook) API for tests, with a supplier actor.

It speaks the wire as the reference describes it, quirks included (errors under ``errors``
with HTTP 200, numbers as strings, one-element lists as objects, ``selectOpt`` as a JSON
string), and keeps the state a real account has: items and their stock, an e-money balance,
sessions that expire, orders moving ``WAITCHK -> WAITDELI -> WAITOK -> DONE`` or cancelled
(``DENYSELL`` by the supplier, ``DENYBUY`` by us), and a change feed. Use it three ways::

    fake = FakeDomeme()
    fake.add_item("1001", stock=5)
    httpx.MockTransport(fake.handler)          # in process
    httpx.WSGITransport(app=fake.wsgi)         # through WSGI
    with fake.serve() as server:               # a real loopback socket (port 0)
        server.url                             # http://127.0.0.1:<port>/ssl/api/

The supplier actor (:meth:`FakeDomeme.confirm`, :meth:`~FakeDomeme.invoice`,
:meth:`~FakeDomeme.cancel_by_supplier`...) moves orders; :meth:`FakeDomeme.inject` queues
faults (429, 5xx, a timeout before or *after* the call took effect, a malformed body).
This module knows nothing of the adapter: it is its own server-side implementation.
"""

from __future__ import annotations

import json
import random
import secrets
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

import httpx

from consign_core._exports import publish
from consign_core.testing._domeme_api import DomemeApi
from consign_core.testing._domeme_common import (
    DomemeFault,
    FakeDomemeCall,
    FakeDomemeDroppedError,
    error,
    ok,
)
from consign_core.testing._domeme_ledger import FakeDomemeOrder
from consign_core.testing._domeme_server import FakeDomemeServer


__all__ = [
    "DomemeFault",
    "FakeDomeme",
    "FakeDomemeCall",
    "FakeDomemeDroppedError",
    "FakeDomemeOrder",
    "FakeDomemeServer",
]

_MODES: Mapping[str, frozenset[str]] = {
    "getItemView": frozenset({"4.0", "4.1", "4.4", "4.5", "4.6"}),
    "getItemList": frozenset({"4.1"}),
    "setLogin": frozenset({"4.1"}),
    "getMyAsset": frozenset({"1.0"}),
    "setOrder": frozenset({"4.3"}),
    "getOrderList": frozenset({"4.0"}),
    "getOrderView": frozenset({"4.0", "4.1"}),
    "setOrdDeny": frozenset({"1.0"}),
    "getAllSupplyChk": frozenset({"1.0", "1.1"}),
}
_PRIVATE = frozenset({"getMyAsset", "setOrder", "getOrderList", "getOrderView", "setOrdDeny"})
_POST_ONLY = frozenset({"setLogin", "getMyAsset", "setOrder", "setOrdDeny"})
_WRITES = frozenset({"setLogin", "setOrder", "setOrdDeny"})


class FakeDomeme(DomemeApi):
    """An in-process Domeme API with one buyer account; thread-safe.

    The parts: the routing, sessions and faults here; the items, stock ledger, e-money,
    orders and the supplier actor in ``_domeme_ledger``; each mode's answer in
    ``_domeme_api``; the loopback server in ``_domeme_server``.
    """

    def __init__(
        self,
        *,
        api_key: str = "test-api-key",
        user_id: str = "buyer1",
        password: str = "test-password",  # noqa: S107 - a fake account's placeholder
        emoney: int = 1_000_000,
        clock: Callable[[], datetime] | None = None,
        session_ttl: timedelta = timedelta(hours=12),
        rate_limit_per_minute: int = 180,
        private_api_approved: bool = True,
        string_numbers: bool = True,
        stock_out_dcode: str = "ITEM_ERROR",
        fault_rate: float = 0.0,
        fault_kinds: Iterable[DomemeFault] = tuple(DomemeFault),
        seed: int = 0,
        monotonic: Callable[[], float] = time.monotonic,
        first_order_no: int = 14_207_678,
    ) -> None:
        self.api_key = api_key
        super().__init__(
            emoney=emoney,
            clock=clock,
            string_numbers=string_numbers,
            stock_out_dcode=stock_out_dcode,
            first_order_no=first_order_no,
        )
        self.api_key = api_key
        self.user_id = user_id
        self._password = password
        self.session_ttl = session_ttl
        self.rate_limit_per_minute = rate_limit_per_minute
        self.private_api_approved = private_api_approved
        self.fault_rate = fault_rate
        self.fault_kinds = tuple(fault_kinds)
        self._rng = random.Random(seed)  # noqa: S311 - seeded test faults, not security
        self._monotonic = monotonic
        self.sessions: dict[str, datetime] = {}
        self.calls: list[FakeDomemeCall] = []
        self._faults: deque[tuple[DomemeFault, str | None]] = deque()
        self._window: deque[float] = deque()
        self.logins = 0
        """Successful ``setLogin`` calls."""

    def __repr__(self) -> str:
        return f"FakeDomeme(items={len(self.items)}, orders={len(self.orders)})"

    # ----------------------------------------------------------------------------------
    # Sessions, faults and the calls received
    # ----------------------------------------------------------------------------------

    def expire_sessions(self) -> None:
        """Every session expires now (the next private call gets INCORRECT_CERTIFICATE)."""
        with self._lock:
            self.sessions.clear()

    def inject(self, fault: DomemeFault, *, mode: str | None = None, times: int = 1) -> None:
        """Queue ``fault`` for the next ``times`` calls (of ``mode`` only, if given)."""
        with self._lock:
            self._faults.extend((fault, mode) for _ in range(times))

    def calls_of(self, mode: str) -> list[FakeDomemeCall]:
        """The calls received for ``mode``."""
        with self._lock:
            return [c for c in self.calls if c.mode == mode]

    # ----------------------------------------------------------------------------------
    # Transports
    # ----------------------------------------------------------------------------------

    def handler(self, request: httpx.Request) -> httpx.Response:
        """An :class:`httpx.MockTransport` handler."""
        query = dict(request.url.params.multi_items())
        form: dict[str, str] = {}
        if request.method == "POST":
            form = dict(parse_qsl(request.content.decode("utf-8"), keep_blank_values=True))
        try:
            status, headers, body = self.dispatch(request.method, query, form)
        except FakeDomemeDroppedError as exc:
            raise FakeDomemeDroppedError(str(exc), request=request) from None
        return httpx.Response(status, headers=headers, content=body)

    __call__ = handler

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """A WSGI application (for :class:`httpx.WSGITransport` or a loopback server)."""
        method = str(environ.get("REQUEST_METHOD", "GET"))
        query = dict(parse_qsl(str(environ.get("QUERY_STRING", "")), keep_blank_values=True))
        form: dict[str, str] = {}
        if method == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(length) if length else b""
            form = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
        status, headers, body = self.dispatch(method, query, form)
        reason = {200: "OK", 429: "Too Many Requests", 503: "Service Unavailable"}
        start_response(
            f"{status} {reason.get(status, 'Error')}",
            [*headers.items(), ("Content-Length", str(len(body)))],
        )
        return [body]

    @contextmanager
    def serve(self) -> Iterator[FakeDomemeServer]:
        """Serve on a real loopback socket (port 0) for the block."""
        server = FakeDomemeServer(self)
        server.start()
        try:
            yield server
        finally:
            server.stop()

    # ----------------------------------------------------------------------------------
    # The API
    # ----------------------------------------------------------------------------------

    def dispatch(
        self, method: str, query: Mapping[str, str], form: Mapping[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        """Answer one call: ``(status, headers, body)``; may raise the dropped error."""
        params = {**query, **form}
        mode, version = params.get("mode", ""), params.get("ver", "")
        with self._lock:
            self.calls.append(
                FakeDomemeCall(
                    method=method,
                    mode=mode,
                    version=version,
                    params=dict(params),
                    query=dict(query),
                    form=dict(form),
                )
            )
            if self._over_quota():
                return 429, {"Retry-After": "180", "Content-Type": "text/plain"}, b"Too Many"
            fault = self._fault_for(mode)
            if fault is DomemeFault.RATE_LIMIT:
                return 429, {"Retry-After": "180", "Content-Type": "text/plain"}, b"Too Many"
            if fault is DomemeFault.SERVER_ERROR:
                return 503, {"Content-Type": "text/html"}, b"<html>503</html>"
            if fault is DomemeFault.TIMEOUT_BEFORE:
                msg = "dropped before the call"
                raise FakeDomemeDroppedError(msg)
            document = self._answer(method, mode, version, params)
            if fault is DomemeFault.TIMEOUT_AFTER:
                msg = "dropped after the call took effect"
                raise FakeDomemeDroppedError(msg)
            if fault is DomemeFault.MALFORMED:
                return 200, {"Content-Type": "application/json"}, b'{"domeggook": {"resu'
        body = json.dumps(document, ensure_ascii=False).encode("utf-8")
        return 200, {"Content-Type": "application/json; charset=utf-8"}, body

    def _over_quota(self) -> bool:
        now = self._monotonic()
        while self._window and now - self._window[0] >= 60.0:
            self._window.popleft()
        if len(self._window) >= self.rate_limit_per_minute:
            return True
        self._window.append(now)
        return False

    def _fault_for(self, mode: str) -> DomemeFault | None:
        for index, (fault, only) in enumerate(self._faults):
            if only is None or only == mode:
                del self._faults[index]
                return fault
        if self.fault_rate > 0 and self.fault_kinds and self._rng.random() < self.fault_rate:
            return self._rng.choice(self.fault_kinds)
        return None

    def _answer(  # noqa: PLR0911 - one early answer per check, as the API does
        self, method: str, mode: str, version: str, params: Mapping[str, str]
    ) -> dict[str, Any]:
        if params.get("aid") != self.api_key:
            return error("401", "API 인증 실패", "UNAUTHORIZED", "유효하지 않은 API Key 입니다.")
        if version not in _MODES.get(mode, frozenset()):
            return error("404", "해당 오픈 API 서비스가 없습니다", "", "")
        if mode in _POST_ONLY and method != "POST":
            return error("10", "잘못된 요청", "METHOD_ERROR", "POST로 요청해야 합니다")
        if params.get("om") != "json":
            return error("10", "잘못된 요청", "PARAM_ERROR", "om 파라미터가 필요합니다")
        if mode == "setLogin":
            return self._login(params)
        if mode in _PRIVATE or mode == "getAllSupplyChk":
            refused = self._check_session(params)
            if refused is not None:
                return refused
        handler: Callable[[Mapping[str, str]], dict[str, Any]] = getattr(self, f"_{mode}")
        return handler(params)

    def _login(self, params: Mapping[str, str]) -> dict[str, Any]:
        if params.get("id") != self.user_id or params.get("pw") != self._password:
            return error("401", "로그인 실패", "LOGIN_ERROR", "아이디 또는 비밀번호가 틀립니다")
        sid = secrets.token_hex(16)
        self.sessions[sid] = self.clock() + self.session_ttl
        self.logins += 1
        return ok(
            {
                "result": "true",
                "sId": sid,
                "cId": secrets.token_hex(8),
                "grade": "c",
                "loginKeepTime": self._n(int(self.session_ttl.total_seconds())),
                "sIdRenewDate": self._n(int(self.clock().timestamp())),
            }
        )

    def _check_session(self, params: Mapping[str, str]) -> dict[str, Any] | None:
        if not self.private_api_approved:
            return error("403", "권한 없음", "NO_PERMISSION", "Private API 권한이 없습니다")
        sid = params.get("sId", "")
        if not sid or params.get("id") != self.user_id:
            return error("10", "필수 파라미터 누락", "PARAM_ERROR", "sId 가 필요합니다")
        expiry = self.sessions.get(sid)
        if expiry is None or expiry <= self.clock():
            self.sessions.pop(sid, None)
            return error("10", "인증 실패", "INCORRECT_CERTIFICATE", "세션이 만료되었습니다")
        return None


publish(__name__, __all__)
