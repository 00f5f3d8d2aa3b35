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

import enum
import json
import math
import random
import secrets
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from socketserver import ThreadingMixIn
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer, make_server

import attrs
import httpx


__all__ = [
    "DomemeFault",
    "FakeDomeme",
    "FakeDomemeCall",
    "FakeDomemeDroppedError",
    "FakeDomemeOrder",
    "FakeDomemeServer",
]

KST = timezone(timedelta(hours=9), "KST")

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
_LABELS = {
    "WAITCHK": "결제완료",
    "WAITDELI": "배송준비중",
    "WAITOK": "배송중",
    "DONE": "구매종료",
    "DENYBUY": "구매취소",
    "DENYSELL": "판매취소",
}


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class DomemeFault(enum.Enum):
    """A fault the fake can inject into one call."""

    RATE_LIMIT = "rate_limit"
    """HTTP 429 before the call does anything."""
    SERVER_ERROR = "server_error"
    """HTTP 503 before the call does anything."""
    TIMEOUT_BEFORE = "timeout_before"
    """The connection drops before the call does anything."""
    TIMEOUT_AFTER = "timeout_after"
    """The call takes effect, then the connection drops (the caller cannot know)."""
    MALFORMED = "malformed"
    """The call takes effect, then the body is not JSON."""


class FakeDomemeDroppedError(httpx.ReadTimeout):
    """The fake dropped the connection without an answer (raised in-process; on a socket
    the connection is closed instead)."""


@attrs.define(kw_only=True)
class FakeDomemeCall:
    """One call the fake received. ``params`` hold secrets: never shown in the repr."""

    method: str
    """``GET`` or ``POST``."""
    mode: str
    """The API name."""
    version: str
    """``ver``."""
    params: dict[str, str] = attrs.field(repr=False)
    """Query and form fields together."""
    query: dict[str, str] = attrs.field(repr=False)
    """The query string fields."""
    form: dict[str, str] = attrs.field(repr=False)
    """The form fields (POST)."""


@attrs.define(kw_only=True)
class _Item:
    no: str
    seller_id: str
    title: str
    price: int
    stock: int
    options: dict[str, int]
    option_prices: dict[str, int]
    shipping_fee: int
    seller_rank: int
    seller_score: float
    send_avg: float
    status: str


@attrs.define(kw_only=True, repr=False)
class FakeDomemeOrder:
    """One order in the fake (its ``deliinfo`` is personal data: not in the repr)."""

    order_no: str
    item_no: str
    option: str
    quantity: int
    amount: int
    memo: str
    deliinfo: str
    delivery_request: str
    placed_at: datetime
    status_mode: str = "WAITCHK"
    courier: str = ""
    tracking: str = ""
    deny_date: datetime | None = None
    deny_memo: str = ""
    cancel_requested: bool = False

    def __repr__(self) -> str:
        return f"FakeDomemeOrder(order_no={self.order_no!r}, status_mode={self.status_mode!r})"


class FakeDomeme:
    """An in-process Domeme API with one buyer account; thread-safe."""

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
        self.user_id = user_id
        self._password = password
        self.emoney = emoney
        """Cash e-money (KRW)."""
        self.clock = clock or _utcnow
        self.session_ttl = session_ttl
        self.rate_limit_per_minute = rate_limit_per_minute
        self.private_api_approved = private_api_approved
        self.string_numbers = string_numbers
        self.stock_out_dcode = stock_out_dcode
        self.fault_rate = fault_rate
        self.fault_kinds = tuple(fault_kinds)
        self._rng = random.Random(seed)  # noqa: S311 - seeded test faults, not security
        self._monotonic = monotonic
        self._next_order = first_order_no
        self._lock = threading.RLock()
        self.items: dict[str, _Item] = {}
        self.orders: dict[str, FakeDomemeOrder] = {}
        self.sessions: dict[str, datetime] = {}
        self.calls: list[FakeDomemeCall] = []
        self.changes: list[dict[str, Any]] = []
        self._faults: deque[tuple[DomemeFault, str | None]] = deque()
        self._window: deque[float] = deque()
        self.logins = 0
        """Successful ``setLogin`` calls."""

    def __repr__(self) -> str:
        return f"FakeDomeme(items={len(self.items)}, orders={len(self.orders)})"

    # ----------------------------------------------------------------------------------
    # Set-up and the supplier actor
    # ----------------------------------------------------------------------------------

    def add_item(
        self,
        item_no: str,
        *,
        seller_id: str = "supplier1",
        title: str = "테스트 상품",
        price: int = 10_000,
        stock: int = 100,
        options: Mapping[str, int] | None = None,
        option_prices: Mapping[str, int] | None = None,
        shipping_fee: int = 3_000,
        seller_rank: int = 3,
        seller_score: float = 98.0,
        send_avg: float = 1.5,
        status: str = "판매중",
    ) -> None:
        """Add (or replace) an item; ``options`` maps option codes (``00_01``) to stock."""
        if not item_no.isdigit():
            msg = f"item_no must be digits, got {item_no!r}"
            raise ValueError(msg)
        with self._lock:
            self.items[item_no] = _Item(
                no=item_no,
                seller_id=seller_id,
                title=title,
                price=price,
                stock=stock,
                options=dict(options or {}),
                option_prices=dict(option_prices or {}),
                shipping_fee=shipping_fee,
                seller_rank=seller_rank,
                seller_score=seller_score,
                send_avg=send_avg,
                status=status,
            )

    def set_stock(self, item_no: str, stock: int, *, option: str | None = None) -> None:
        """Set an item's (or an option's) stock, recording SOLDOUT / RESTART changes."""
        with self._lock:
            item = self.items[item_no]
            if option is None:
                before, item.stock = item.stock, stock
                kinds = ("SOLDOUT", "RESTART")
            else:
                before, item.options[option] = item.options.get(option, 0), stock
                kinds = ("OPTSOLDOUT", "OPTRESTART")
            if before > 0 and stock <= 0:
                self._change(item, kinds[0])
            elif before <= 0 < stock:
                self._change(item, kinds[1])

    def set_price(self, item_no: str, price: int) -> None:
        """Change an item's supply price, recording an AMT change."""
        with self._lock:
            item = self.items[item_no]
            item.price = price
            self._change(item, "AMT")

    def confirm(self, order_no: str) -> None:
        """The supplier's 발주확인 (``setOrdChk``): WAITCHK -> WAITDELI."""
        with self._lock:
            order = self._order(order_no)
            if order.status_mode == "WAITCHK":
                order.status_mode = "WAITDELI"

    def invoice(self, order_no: str, *, courier: str = "DAEHAN", number: str | None = None) -> str:
        """The supplier registers a waybill (``setOrdOkDeli``) and ships: -> WAITOK."""
        with self._lock:
            order = self._order(order_no)
            if order.status_mode not in {"WAITCHK", "WAITDELI"}:
                msg = f"order {order_no} is {order.status_mode}: cannot invoice"
                raise ValueError(msg)
            order.courier = courier
            order.tracking = number or f"6{int(order.order_no):011d}"
            order.status_mode = "WAITOK"
            order.cancel_requested = False
            return order.tracking

    def complete(self, order_no: str) -> None:
        """The buyer confirms receipt: -> DONE."""
        with self._lock:
            self._order(order_no).status_mode = "DONE"

    def cancel_by_supplier(self, order_no: str, memo: str = "품절로 인한 판매취소") -> None:
        """The supplier's 판매취소 (``setOrdDeny type=sell``): -> DENYSELL, e-money refunded."""
        with self._lock:
            order = self._order(order_no)
            if order.status_mode not in {"WAITCHK", "WAITDELI"}:
                msg = f"order {order_no} is {order.status_mode}: cannot cancel"
                raise ValueError(msg)
            self._deny(order, "DENYSELL", memo, restock=False)

    def accept_cancel_request(self, order_no: str) -> None:
        """The supplier accepts our cancel request (``req``): -> DENYBUY, refunded."""
        with self._lock:
            order = self._order(order_no)
            if order.cancel_requested and order.status_mode in {"WAITCHK", "WAITDELI"}:
                self._deny(order, "DENYBUY", order.deny_memo, restock=True)

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

    @property
    def duplicate_orders(self) -> int:
        """Orders placed with a seller memo another order already had (money lost twice)."""
        with self._lock:
            memos = [o.memo for o in self.orders.values() if o.memo]
            return len(memos) - len(set(memos))

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
            return _error("401", "API 인증 실패", "UNAUTHORIZED", "유효하지 않은 API Key 입니다.")
        if version not in _MODES.get(mode, frozenset()):
            return _error("404", "해당 오픈 API 서비스가 없습니다", "", "")
        if mode in _POST_ONLY and method != "POST":
            return _error("10", "잘못된 요청", "METHOD_ERROR", "POST로 요청해야 합니다")
        if params.get("om") != "json":
            return _error("10", "잘못된 요청", "PARAM_ERROR", "om 파라미터가 필요합니다")
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
            return _error("401", "로그인 실패", "LOGIN_ERROR", "아이디 또는 비밀번호가 틀립니다")
        sid = secrets.token_hex(16)
        self.sessions[sid] = self.clock() + self.session_ttl
        self.logins += 1
        return _ok(
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
            return _error("403", "권한 없음", "NO_PERMISSION", "Private API 권한이 없습니다")
        sid = params.get("sId", "")
        if not sid or params.get("id") != self.user_id:
            return _error("10", "필수 파라미터 누락", "PARAM_ERROR", "sId 가 필요합니다")
        expiry = self.sessions.get(sid)
        if expiry is None or expiry <= self.clock():
            self.sessions.pop(sid, None)
            return _error("10", "인증 실패", "INCORRECT_CERTIFICATE", "세션이 만료되었습니다")
        return None

    def _getItemView(self, params: Mapping[str, str]) -> dict[str, Any]:  # noqa: N802
        item = self.items.get(params.get("no", ""))
        if item is None or params.get("market") not in {"supply", "dome"}:
            return _error("ITEM_ERROR", "상품 조회 실패", "ITEM_ERROR", "상품이 없습니다")
        select_opt = ""
        if item.options:
            data = {
                code: {
                    "name": f"옵션 {code}",
                    "qty": self._n(qty),
                    "supPrice": self._n(item.option_prices.get(code, 0)),
                    "domPrice": self._n(item.option_prices.get(code, 0)),
                    "dom": "1",
                    "sup": "1",
                    "hid": "0",
                }
                for code, qty in item.options.items()
            }
            select_opt = json.dumps(
                {"type": "combination", "set": [], "data": data}, ensure_ascii=False
            )
        return _ok(
            {
                "basis": {"no": self._n(int(item.no)), "status": item.status, "title": item.title},
                "price": {"dome": f"1+{item.price}|20+{item.price - 100}", "supply": item.price},
                "qty": {
                    "inventory": self._n(max(item.stock, 0)),
                    "supplyUnit": self._n(1),
                    "domeMoq": self._n(1),
                },
                "deli": {
                    "method": "택배",
                    "pay": "선결제",
                    "supply": {"type": "고정배송비", "fee": self._n(item.shipping_fee)},
                    "sendAvg": str(item.send_avg),
                },
                "seller": {
                    "id": item.seller_id,
                    "nick": f"{item.seller_id} 상사",
                    "rank": self._n(item.seller_rank),
                    "score": {"avg": f"{item.seller_score:g}%", "cnt": self._n(120)},
                },
                "selectOpt": select_opt,
            }
        )

    def _getItemList(self, params: Mapping[str, str]) -> dict[str, Any]:  # noqa: N802
        items = [i for i in self.items.values() if i.status == "판매중"]
        if params.get("id"):
            items = [i for i in items if i.seller_id == params["id"]]
        if params.get("kw"):
            items = [i for i in items if params["kw"] in i.title]
        size, page = _int(params.get("sz"), 20), _int(params.get("pg"), 1)
        chunk = items[(page - 1) * size : page * size]
        rows = [
            {
                "no": self._n(int(i.no)),
                "title": i.title,
                "price": self._n(i.price),
                "id": i.seller_id,
                "unitQty": self._n(1),
                "deli": {"who": "P", "fee": self._n(i.shipping_fee)},
            }
            for i in chunk
        ]
        return _ok(
            {
                "header": {
                    "numberOfItems": len(items),
                    "currentPage": page,
                    "itemsPerPage": size,
                    "numberOfPages": max(1, math.ceil(len(items) / size)),
                },
                "list": {"item": _one_as_object(rows)},
            }
        )

    def _getMyAsset(self, params: Mapping[str, str]) -> dict[str, Any]:  # noqa: N802, ARG002
        cash = self._n(self.emoney)
        return _ok(
            {
                "result": "SUCCESS",
                "id": self.user_id,
                "data": {
                    "currPoint": self._n(0),
                    "currEmoney": {"total": cash, "card": self._n(0), "cash": cash},
                },
            }
        )

    def _setOrder(  # noqa: N802, PLR0911, PLR0912 - one early answer per refusal
        self, params: Mapping[str, str]
    ) -> dict[str, Any]:
        lines = {k[5:-1]: v for k, v in params.items() if k.startswith("item[") and k[-1] == "]"}
        deliinfo = params.get("deliinfo", "")
        fields = deliinfo.split("|")
        if not lines or len(fields) != 9:
            return _error("10", "주문 실패", "PARAM_ERROR", "item 또는 deliinfo 형식 오류")
        name, _, zip_code, address1, _, mobile, _, shop, _ = fields
        if not (name and zip_code and address1 and shop):
            return _error("10", "주문 실패", "ORDER_CONSUMER_ERROR", "배송지 필수 항목 누락")
        digits = mobile.replace("-", "")
        if not (digits.isdigit() and digits.startswith("0") and 10 <= len(digits) <= 12):
            return _error(
                "10",
                "주문 실패",
                "ORDER_CONSUMER_MOBILE_ERROR",
                "휴대전화 번호가 올바르지 않습니다",
            )
        plans: list[tuple[_Item, str, int, str, str]] = []
        total = 0
        for item_no, spec in lines.items():
            parsed = _parse_item_spec(spec)
            item = self.items.get(item_no)
            if parsed is None:
                return _error("10", "주문 실패", "PARAM_ERROR", "item 형식 오류")
            if item is None or item.status != "판매중":
                return _error("ITEM_ERROR", "주문 실패", "ITEM_ERROR", "주문할 수 없는 상품입니다")
            options, memo, request = parsed
            for option, qty in options:
                stock = item.stock if option == "00" else item.options.get(option, 0)
                if option != "00" and option not in item.options:
                    return _error("10", "주문 실패", "OPTION_ERROR", "옵션 코드가 없습니다")
                if qty > stock:
                    return _error(
                        self.stock_out_dcode, "주문 실패", self.stock_out_dcode, "재고가 부족합니다"
                    )
                price = item.price + item.option_prices.get(option, 0)
                total += price * qty
                plans.append((item, option, qty, memo, request))
            total += item.shipping_fee
        if total > self.emoney:
            return _error(
                "21",
                "주문 실패",
                "TOO_LESS_EMONEY_ERROR",
                "현금성 이머니가 부족하여 주문을 진행할 수 없습니다",
            )
        self.emoney -= total
        created = []
        for item, option, qty, memo, request in plans:
            if option == "00":
                self.set_stock(item.no, item.stock - qty)
            else:
                self.set_stock(item.no, item.options[option] - qty, option=option)
            order_no = str(self._next_order)
            self._next_order += 1
            amount = (item.price + item.option_prices.get(option, 0)) * qty + item.shipping_fee
            self.orders[order_no] = FakeDomemeOrder(
                order_no=order_no,
                item_no=item.no,
                option=option,
                quantity=qty,
                amount=amount,
                memo=memo,
                deliinfo=deliinfo,
                delivery_request=request,
                placed_at=self.clock(),
            )
            created.append(
                {
                    "orderNo": self._n(int(order_no)),
                    "itemNo": self._n(int(item.no)),
                    "getName": name,
                }
            )
        return _ok({"result": "SUCCESS", "order": _one_as_object(created)})

    def _getOrderList(self, params: Mapping[str, str]) -> dict[str, Any]:  # noqa: N802
        if params.get("for") != "buy":
            return _error("10", "잘못된 요청", "PARAM_ERROR", "for=buy 만 지원합니다")
        orders = sorted(self.orders.values(), key=lambda o: int(o.order_no), reverse=True)
        if params.get("day"):
            since = self.clock() - timedelta(days=_int(params["day"], 7))
            orders = [o for o in orders if o.placed_at >= since]
        if params.get("itemNo"):
            orders = [o for o in orders if o.item_no == params["itemNo"]]
        if params.get("st"):
            orders = [o for o in orders if _LABELS.get(o.status_mode) == params["st"]]
        size, page = _int(params.get("ic"), 20), _int(params.get("pg"), 1)
        chunk = orders[(page - 1) * size : page * size]
        rows = [
            {
                "orderNo": self._n(int(o.order_no)),
                "orderUid": f"U{o.order_no}",
                "status": _LABELS.get(o.status_mode, o.status_mode),
                "itemNo": self._n(int(o.item_no)),
                "itemTitle": self.items[o.item_no].title,
                "market": "supply",
                "orderQty": self._n(o.quantity),
                "orderAmt": self._n(o.amount),
                "orderAmtPay": self._n(o.amount),
                "date": _wire_time(o.placed_at),
            }
            for o in chunk
        ]
        return _ok(
            {
                "numberOfItems": self._n(len(orders)),
                "numberOfPages": self._n(max(1, math.ceil(len(orders) / size))),
                "list": _one_as_object(rows),
            }
        )

    def _getOrderView(self, params: Mapping[str, str]) -> dict[str, Any]:  # noqa: N802
        order = self.orders.get(params.get("no", ""))
        if order is None or params.get("for") != "buy":
            return _error("10", "조회 실패", "ORDER_ERROR", "주문이 없습니다")
        name, email, zip_code, address1, address2, mobile, phone, _, _ = order.deliinfo.split("|")
        item = self.items[order.item_no]
        view: dict[str, Any] = {
            "orderNo": self._n(int(order.order_no)),
            "orderUid": f"U{order.order_no}",
            "status": _LABELS.get(order.status_mode, order.status_mode),
            "statusMode": order.status_mode,
            "orderMemo": order.memo,
            "orderQty": self._n(order.quantity),
            "orderAmtPay": self._n(order.amount),
            "date": _wire_time(order.placed_at),
            "item": {"no": self._n(int(item.no)), "title": item.title},
            "sellerInfo": {"id": item.seller_id, "nick": f"{item.seller_id} 상사"},
            "consumer": {
                "name": name,
                "mobile": mobile,
                "phone": phone,
                "zipcode": zip_code,
                "addr1": address1,
                "addr2": address2,
                "email": email,
                "deliReq": order.delivery_request,
            },
            "delivery": {
                "company": order.courier,
                "companyName": {"DAEHAN": "CJ대한통운", "HYUNDAI": "롯데택배"}.get(
                    order.courier, order.courier
                ),
                "code": order.tracking,
            },
            "selectOpt": {"opt": {"name": order.option, "qty": self._n(order.quantity)}},
        }
        if order.deny_date is not None:
            view["denyDate"] = _wire_time(order.deny_date)
            view["denyMemo"] = order.deny_memo
        return _ok({"items": view})

    def _setOrdDeny(self, params: Mapping[str, str]) -> dict[str, Any]:  # noqa: N802
        order = self.orders.get(params.get("no", ""))
        memo = params.get("memo", "")
        if order is None or params.get("type") != "buy" or not memo:
            return _error("10", "취소 실패", "PARAM_ERROR", "type, no, memo 가 필요합니다")
        if order.status_mode == "WAITCHK":
            self._deny(order, "DENYBUY", memo, restock=True)
            return _ok({"result": "complete"})
        if order.status_mode == "WAITDELI" and not order.tracking:
            order.cancel_requested = True
            order.deny_memo = memo
            return _ok({"result": "req"})
        return _error("10", "취소 실패", "ORDER_STATUS_ERROR", "배송중 이후에는 취소할 수 없습니다")

    def _getAllSupplyChk(self, params: Mapping[str, str]) -> dict[str, Any]:  # noqa: N802
        wanted = set(params.get("status", "").split("_")) - {""}
        day = params.get("date")
        rows = [
            c
            for c in self.changes
            if (not wanted or c["status"] in wanted)
            and (not day or c["_day"] == day)
            and (params.get("sw") in {None, ""} or c["no"] == params.get("sw"))
        ]
        size, page = _int(params.get("ic"), 100), _int(params.get("pg"), 1)
        chunk = [
            {k: (self._n(v) if isinstance(v, int) else v) for k, v in c.items() if k != "_day"}
            for c in rows[(page - 1) * size : page * size]
        ]
        return _ok(
            {
                "numberOfItems": self._n(len(rows)),
                "numberOfPages": self._n(max(1, math.ceil(len(rows) / size))),
                "items": {"item": _one_as_object(chunk)},
            }
        )

    # ----------------------------------------------------------------------------------
    # Helpers
    # ----------------------------------------------------------------------------------

    def _order(self, order_no: str) -> FakeDomemeOrder:
        order = self.orders.get(order_no.removeprefix("OR"))
        if order is None:
            msg = f"no order {order_no!r}"
            raise KeyError(msg)
        return order

    def _deny(self, order: FakeDomemeOrder, mode: str, memo: str, *, restock: bool) -> None:
        order.status_mode = mode
        order.deny_date = self.clock()
        order.deny_memo = memo
        order.cancel_requested = False
        self.emoney += order.amount
        if restock:
            item = self.items[order.item_no]
            if order.option == "00":
                self.set_stock(item.no, item.stock + order.quantity)
            else:
                stock = item.options.get(order.option, 0) + order.quantity
                self.set_stock(item.no, stock, option=order.option)

    def _change(self, item: _Item, status: str) -> None:
        now = self.clock()
        self.changes.append(
            {
                "no": item.no,
                "title": item.title,
                "status": status,
                "seller": item.seller_id,
                "price": item.price,
                "qty": max(item.stock, 0),
                "supplyQty": max(item.stock, 0),
                "date": _wire_time(now),
                "_day": now.astimezone(KST).strftime("%Y%m%d"),
            }
        )

    def _n(self, value: int) -> int | str:
        return str(value) if self.string_numbers else value


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
    """A :class:`FakeDomeme` on a real loopback socket (port 0); start and stop are
    thread-safe and idempotent."""

    def __init__(self, fake: FakeDomeme, host: str = "127.0.0.1") -> None:
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


def _ok(body: dict[str, Any]) -> dict[str, Any]:
    return {"domeggook": body}


def _error(code: str, message: str, dcode: str, dmessage: str) -> dict[str, Any]:
    return {"errors": {"code": code, "message": message, "dcode": dcode, "dmessage": dmessage}}


def _one_as_object(rows: list[dict[str, Any]]) -> list[dict[str, Any]] | dict[str, Any]:
    return rows[0] if len(rows) == 1 else rows


def _int(value: str | None, default: int) -> int:
    return int(value) if value and value.isdigit() and int(value) > 0 else default


def _wire_time(moment: datetime) -> str:
    return moment.astimezone(KST).strftime("%Y-%m-%d %H:%M:%S")


def _parse_item_spec(spec: str) -> tuple[list[tuple[str, int]], str, str] | None:
    """``market||who||opt|qty[|opt|qty]||memo[||request]`` -> (options, memo, request)."""
    parts = spec.split("||")
    if len(parts) < 4 or parts[0] not in {"supply", "dome"}:
        return None
    flat = parts[2].split("|")
    if len(flat) % 2:
        return None
    options: list[tuple[str, int]] = []
    for option, qty in zip(flat[::2], flat[1::2], strict=True):
        if not qty.isdigit() or int(qty) < 1:
            return None
        options.append((option, int(qty)))
    return options, parts[3], parts[4] if len(parts) > 4 else ""
