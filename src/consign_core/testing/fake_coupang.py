"""``FakeCoupang``: an in-process fake of Coupang's Open API gateway, for tests.

Coupang has no sandbox, so this fake is the test target for any tool that talks to Coupang. It is
a separate implementation of the server side (it shares no code with the adapter): it checks the
CEA HMAC signature and the signed date's skew, throttles each vendor with 429, keeps order sheets
in their statuses and moves them as Coupang does (ACCEPT -> INSTRUCT on acknowledgement,
INSTRUCT -> DEPARTURE on invoice upload, cancels and stop-shipment requests), and injects faults
on demand. Use it three ways::

    fake = FakeCoupang()
    box = fake.add_order_sheet(vendor_item_id=3000000001, quantity=2)

    httpx.MockTransport(fake)                      # in process, no socket
    httpx.WSGITransport(app=fake.wsgi)             # through the WSGI app
    with fake.serve() as base_url: ...             # on a real loopback socket (port 0)

Every buyer in it is synthetic; its receivers are masked in reprs like real ones.
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import hmac
import itertools
import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta, timezone
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qsl, quote
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import attrs
import httpx

from consign_core.errors import ConfigurationError, ValidationError


__all__ = ["FakeCall", "FakeCoupang", "FakeItem", "FakeReceiver", "Fault"]

_KST = timezone(timedelta(hours=9))
_AUTH = re.compile(
    r"CEA algorithm=HmacSHA256, ?access-key=([^,]+), ?signed-date=(\d{6}T\d{6}Z), "
    r"?signature=([0-9a-f]{64})"
)
_ROUTE = re.compile(r"/v2/providers/openapi/apis/api/(v\d+)/vendors/([^/]+)/(.+)")
_WAYBILL_LENGTHS: Mapping[str, tuple[int, ...] | None] = {
    # Coupang's 택배사 코드 table (duplicated here on purpose: the fake shares no adapter code).
    "CJGLS": (10, 12),
    "KOREX": (10, 12),
    "HYUNDAI": (10, 12, 13),
    "HANJIN": (10, 12),
    "KGB": (10, 11),
    "EPOST": (13,),
    "KDEXP": tuple(range(8, 17)),
    "ILYANG": tuple(range(8, 17)),
    "HDEXP": tuple(range(8, 17)),
    "CHUNIL": (11,),
    "DAESIN": (13,),
    "CVS": (10, 12),
    "DIRECT": None,
}
_NEXT_STATUS = {"DEPARTURE": "DELIVERING", "DELIVERING": "FINAL_DELIVERY"}
_STATUSES = ("ACCEPT", "INSTRUCT", "DEPARTURE", "DELIVERING", "FINAL_DELIVERY", "NONE_TRACKING")
_DESC = {
    "ACCEPT": "결제완료",
    "INSTRUCT": "상품준비중",
    "DEPARTURE": "배송지시",
    "DELIVERING": "배송중",
    "FINAL_DELIVERY": "배송완료",
    "NONE_TRACKING": "업체 직접 배송",
}
_CANCEL_CODES = frozenset({"CCTTER", "CCPNER", "CCPRER"})


class Fault(enum.Enum):
    """A failure :meth:`FakeCoupang.inject` can stage for the next matching calls."""

    RATE_LIMITED = "rate_limited"
    """429 before the call takes effect."""
    SERVER_ERROR = "server_error"
    """500 before the call takes effect."""
    GATEWAY_TIMEOUT = "gateway_timeout"
    """504 **after** the call took effect (Coupang's 3 s gateway timeout)."""
    TIMEOUT = "timeout"
    """No answer in time **after** the call took effect: the client sees a read timeout."""
    MALFORMED = "malformed"
    """HTTP 200 with a truncated JSON body, after the call took effect."""


@attrs.frozen(kw_only=True)
class FakeItem:
    """One item of a seeded order sheet."""

    vendor_item_id: int
    quantity: int = 1
    unit_price: int = 10_000
    name: str = "테스트 상품"
    estimated_shipping_date: date | None = None


@attrs.frozen(kw_only=True, repr=False)
class FakeReceiver:
    """A synthetic receiver (masked in its repr like real personal data)."""

    name: str = "김테스트"
    safe_number: str = "0502-1234-5678"
    post_code: str = "06236"
    addr1: str = "서울특별시 강남구 테헤란로 123"
    addr2: str = "4층"

    def __repr__(self) -> str:
        return "FakeReceiver(<personal data hidden>)"


@attrs.frozen(kw_only=True)
class FakeCall:
    """A request the fake received (after its signature was checked)."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...]
    raw_query: str
    body: Any


@attrs.define
class _Item:
    vendor_item_id: int
    name: str
    count: int
    unit_price: int
    estimated_shipping_date: date
    cancel_count: int = 0
    hold: int = 0


@attrs.define
class _Box:
    shipment_box_id: int
    order_id: int
    status: str
    paid_at: datetime
    items: list[_Item]
    receiver: FakeReceiver
    message: str
    history: list[tuple[str, datetime]]
    cancelled: bool = False
    courier: str = ""
    invoice: str = ""


@attrs.define
class _Receipt:
    receipt_id: int
    order_id: int
    box: int
    receipt_type: str
    receipt_status: str
    created_at: datetime
    items: list[tuple[int, int]]
    release_stop_status: str
    fault_by_type: str = "CUSTOMER"


class _Reply(Exception):  # noqa: N818 - an early answer, not an error
    def __init__(self, status: int, body: object, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


def _error(status: int, message: str) -> _Reply:
    return _Reply(status, {"code": "ERROR", "message": message, "transactionId": _txid()})


_TX = itertools.count(1)


def _txid() -> str:
    return f"fake-{next(_TX):08d}"


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        """Keep test output clean."""


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class FakeCoupang:
    """An in-process fake of the Coupang gateway; see the module docs.

    ``clock`` gives the aware time the signature's date is checked against and order times come
    from; ``requests_per_second`` is the per-vendor token bucket (``None``: no throttle);
    ``max_skew`` how far a signed date may be from the clock; ``listing_delay`` how long a
    paid order takes to show in the lists (Coupang: about 10 minutes; the single-sheet read
    sees it at once); ``allowed_ips`` an IP allow-list (403 ``Not allowed IP`` outside it).
    Thread-safe.
    """

    def __init__(
        self,
        *,
        vendor_id: str = "A00012345",
        access_key: str = "test-access-key",
        secret_key: str = "test-secret-key",  # noqa: S107 - the reference's test key
        user_id: str | None = None,
        clock: Callable[[], datetime] | None = None,
        max_skew: timedelta = timedelta(minutes=5),
        requests_per_second: float | None = 10.0,
        monotonic: Callable[[], float] = time.monotonic,
        timeout_delay: float = 1.0,
        allowed_ips: Iterable[str] | None = None,
        listing_delay: timedelta = timedelta(0),
    ) -> None:
        if requests_per_second is not None and not requests_per_second > 0:
            msg = f"requests_per_second must be positive or None, got {requests_per_second!r}"
            raise ConfigurationError(msg)
        self.vendor_id = vendor_id
        self._access_key = access_key
        self._secret = secret_key.encode()
        self._user_id = user_id
        self._clock = clock or _utcnow
        self._max_skew = max_skew
        self._rate = requests_per_second
        self._monotonic = monotonic
        self._tokens = float(requests_per_second or 0)
        self._refilled = monotonic()
        self.timeout_delay = timeout_delay
        self._allowed_ips = frozenset(allowed_ips) if allowed_ips is not None else None
        self.listing_delay = listing_delay
        self._lock = threading.RLock()
        self._boxes: dict[int, _Box] = {}
        self._receipts: dict[int, _Receipt] = {}
        self._used_invoices: set[tuple[str, str]] = set()
        self._box_ids = itertools.count(100_000_000_000_000_001)
        self._order_ids = itertools.count(20_000_000_000_001)
        self._receipt_ids = itertools.count(500_000_001)
        self._faults: list[list[Any]] = []
        self.calls: list[FakeCall] = []
        """Every signed request, in order."""
        self.rejected: list[tuple[int, str]] = []
        """``(status, message)`` of every request refused before routing (auth, throttle)."""
        self.seller_cancels: list[dict[str, Any]] = []
        """The body of every accepted seller cancel (to check the reason code filed)."""
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._serve_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"FakeCoupang(vendor_id={self.vendor_id!r}, boxes={len(self._boxes)})"

    # --- seeding and inspection ------------------------------------------------------------

    def add_order_sheet(
        self,
        *,
        items: Sequence[FakeItem] | None = None,
        vendor_item_id: int = 3_000_000_001,
        quantity: int = 1,
        unit_price: int = 10_000,
        paid_at: datetime | None = None,
        status: str = "ACCEPT",
        receiver: FakeReceiver | None = None,
        message: str = "문 앞에 놓아주세요",
        order_id: int | None = None,
        shipment_box_id: int | None = None,
    ) -> int:
        """Seed an order sheet (one shipment box); returns its 18-digit ``shipmentBoxId``."""
        if status not in _STATUSES:
            msg = f"status must be one of {', '.join(_STATUSES)}, got {status!r}"
            raise ValidationError(msg, field="status", value=status)
        paid = paid_at or self._clock()
        lines = list(items) if items is not None else [
            FakeItem(vendor_item_id=vendor_item_id, quantity=quantity, unit_price=unit_price)
        ]  # fmt: skip
        with self._lock:
            box_id = shipment_box_id or next(self._box_ids)
            if box_id in self._boxes:
                msg = f"shipment_box_id {box_id} is already seeded"
                raise ValidationError(msg, field="shipment_box_id", value=box_id)
            due = (paid.astimezone(_KST) + timedelta(days=2)).date()
            self._boxes[box_id] = _Box(
                shipment_box_id=box_id,
                order_id=order_id or next(self._order_ids),
                status=status,
                paid_at=paid,
                items=[
                    _Item(
                        vendor_item_id=i.vendor_item_id,
                        name=i.name,
                        count=i.quantity,
                        unit_price=i.unit_price,
                        estimated_shipping_date=i.estimated_shipping_date or due,
                    )
                    for i in lines
                ],
                receiver=receiver or FakeReceiver(),
                message=message,
                history=[("ACCEPT", paid)] + ([(status, paid)] if status != "ACCEPT" else []),
            )
        return box_id

    def status_of(self, shipment_box_id: int) -> str:
        """The box's status (``CANCELLED`` once it is cancelled as a whole)."""
        with self._lock:
            box = self._boxes[shipment_box_id]
            return "CANCELLED" if box.cancelled else box.status

    def invoice_of(self, shipment_box_id: int) -> tuple[str, str]:
        """``(deliveryCompanyCode, invoiceNumber)`` of the box (empty before upload)."""
        with self._lock:
            box = self._boxes[shipment_box_id]
            return box.courier, box.invoice

    def set_status(self, shipment_box_id: int, status: str) -> None:
        """Force a box into ``status`` (recorded in its history)."""
        if status not in _STATUSES:
            msg = f"status must be one of {', '.join(_STATUSES)}, got {status!r}"
            raise ValidationError(msg, field="status", value=status)
        with self._lock:
            box = self._boxes[shipment_box_id]
            box.status = status
            box.history.append((status, self._clock()))

    def advance(self, shipment_box_id: int) -> str:
        """Move a shipped box on (DEPARTURE -> DELIVERING -> FINAL_DELIVERY); returns the status."""
        with self._lock:
            box = self._boxes[shipment_box_id]
            nxt = _NEXT_STATUS.get(box.status)
            if nxt is None:
                msg = f"box {shipment_box_id} in {box.status} has no next delivery status"
                raise ValidationError(msg, field="shipment_box_id", value=shipment_box_id)
            self.set_status(shipment_box_id, nxt)
            return nxt

    def buyer_cancel(self, shipment_box_id: int) -> int:
        """The buyer cancels the whole box; returns the receipt id.

        In ACCEPT the cancel is immediate (a ``CANCEL`` receipt, found with
        ``cancelType=CANCEL``); in INSTRUCT it becomes a stop-shipment request
        (``RELEASE_STOP_UNCHECKED``, found with ``status=RU``) that the seller must answer;
        later it is a return (``RETURNS_UNCHECKED``).
        """
        with self._lock:
            box = self._boxes[shipment_box_id]
            if box.cancelled:
                msg = f"box {shipment_box_id} is already cancelled"
                raise ValidationError(msg, field="shipment_box_id", value=shipment_box_id)
            now = self._clock()
            items = [(i.vendor_item_id, i.count - i.cancel_count) for i in box.items]
            if box.status == "ACCEPT":
                for item in box.items:
                    item.cancel_count = item.count
                box.cancelled = True
                kind, state, release = "CANCEL", "RETURNS_COMPLETED", "비대상"
            elif box.status == "INSTRUCT":
                for item in box.items:
                    item.hold = item.count - item.cancel_count
                kind, state, release = "RETURN", "RELEASE_STOP_UNCHECKED", "미처리"
            else:
                kind, state, release = "RETURN", "RETURNS_UNCHECKED", "비대상"
            receipt = _Receipt(
                receipt_id=next(self._receipt_ids),
                order_id=box.order_id,
                box=shipment_box_id,
                receipt_type=kind,
                receipt_status=state,
                created_at=now,
                items=items,
                release_stop_status=release,
            )
            self._receipts[receipt.receipt_id] = receipt
            return receipt.receipt_id

    def receipt_status(self, receipt_id: int) -> str:
        """A return/cancel receipt's ``receiptStatus``."""
        with self._lock:
            return self._receipts[receipt_id].receipt_status

    def inject(
        self, fault: Fault, *, times: int = 1, path: str | None = None, method: str | None = None
    ) -> None:
        """Stage ``fault`` for the next ``times`` calls whose path contains ``path``."""
        with self._lock:
            self._faults.append([fault, times, path, method])

    def count_calls(self, method: str, path_suffix: str) -> int:
        """How many signed calls of ``method`` ended in ``path_suffix``."""
        with self._lock:
            return sum(1 for c in self.calls if c.method == method and c.path.endswith(path_suffix))

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
                    raise _error(429, "Too many requests")
                if fault is Fault.SERVER_ERROR:
                    raise _error(500, "Internal Server Error")
                reply = self._route(method, path, dict(pairs), parsed)
        except _Reply as early:
            reply = early
            if reply.status in (401, 403, 429) and fault is None:
                said = reply.body.get("message") if isinstance(reply.body, dict) else None
                self.rejected.append((reply.status, str(said)))
        if fault is Fault.GATEWAY_TIMEOUT:
            reply = _error(
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
            raise _error(403, f"Not allowed IP: {client_ip}")

    def _check_signature(
        self, method: str, path: str, query: str, headers: Mapping[str, str]
    ) -> None:
        header = headers.get("authorization") or headers.get("Authorization")
        if not header:
            raise _error(401, "Request is not authorized.")
        match = _AUTH.fullmatch(header.strip())
        if match is None:
            raise _error(401, "HMAC format is invalid.")
        access_key, signed_date, signature = match.groups()
        try:
            signed = datetime.strptime(signed_date, "%y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
        except ValueError:
            raise _error(401, "HMAC format is invalid.") from None
        if abs(self._clock() - signed) > self._max_skew:
            raise _error(401, "Specified signature is expired.")
        message = f"{signed_date}{method}{path}{query}".encode()
        expected = hmac.new(self._secret, message, hashlib.sha256).hexdigest()
        if access_key != self._access_key or not hmac.compare_digest(expected, signature):
            raise _error(401, "Invalid signature.")

    def _check_throttle(self) -> None:
        if self._rate is None:
            return
        now = self._monotonic()
        self._tokens = min(self._rate, self._tokens + (now - self._refilled) * self._rate)
        self._refilled = now
        if self._tokens < 1.0:
            raise _error(429, "Too many requests")
        self._tokens -= 1.0

    @staticmethod
    def _parse_body(body: bytes) -> Any:
        if not body:
            return None
        try:
            return json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise _error(400, "Request body is not valid JSON.") from None

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for staged in self._faults:
            fault, times, where, verb = staged
            if (where is None or where in path) and (verb is None or verb == method):
                staged[1] = times - 1
                if staged[1] <= 0:
                    self._faults.remove(staged)
                return fault  # type: ignore[no-any-return]
        return None

    def _route(self, method: str, path: str, query: dict[str, str], body: Any) -> _Reply:
        match = _ROUTE.fullmatch(path)
        if match is None:
            raise _error(404, "Not Found")
        version, vendor, tail = match.groups()
        if vendor != self.vendor_id:
            raise _error(403, "Request is not authorized.")
        v5 = version >= "v5"
        if isinstance(body, dict) and body.get("vendorId") not in (None, self.vendor_id):
            raise _error(400, "vendorId does not match the path.")
        writes = method in ("PUT", "PATCH")
        get = method == "GET"
        post = method == "POST"
        routes: list[tuple[str, bool, Callable[[re.Match[str]], _Reply]]] = [
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
                    raise _error(405, f"Method {method} is not allowed.")
                return handler(found)
        raise _error(404, "Not Found")

    # --- reads -----------------------------------------------------------------------------

    def _stamp(self, moment: datetime, *, v5: bool) -> str:
        local = moment.astimezone(_KST)
        return local.isoformat(timespec="seconds") if v5 else local.strftime("%Y-%m-%dT%H:%M:%S")

    def _money(self, amount: int, *, v5: bool) -> object:
        return {"currencyCode": "KRW", "units": amount, "nanos": 0} if v5 else amount

    def _sheet(self, box: _Box, *, v5: bool) -> dict[str, Any]:
        r = box.receiver
        return {
            "shipmentBoxId": box.shipment_box_id,
            "orderId": box.order_id,
            "orderedAt": self._stamp(box.paid_at - timedelta(seconds=30), v5=v5),
            "orderer": {"name": r.name, "email": "", "safeNumber": r.safe_number,
                        "ordererNumber": None},
            "paidAt": self._stamp(box.paid_at, v5=v5),
            "status": box.status,
            "shippingPrice": self._money(0, v5=v5),
            "remotePrice": self._money(0, v5=v5),
            "remoteArea": False,
            "parcelPrintMessage": box.message,
            "splitShipping": False,
            "ableSplitShipping": False,
            "receiver": {"name": r.name, "safeNumber": r.safe_number, "receiverNumber": None,
                         "addr1": r.addr1, "addr2": r.addr2, "postCode": r.post_code},
            "orderItems": [
                {
                    "vendorItemPackageId": 0,
                    "vendorItemPackageName": "",
                    "productId": 7000000000 + i.vendor_item_id % 1000,
                    "vendorItemId": i.vendor_item_id,
                    "vendorItemName": i.name,
                    "shippingCount": i.count,
                    "salesPrice": self._money(i.unit_price, v5=v5),
                    "orderPrice": self._money(i.unit_price * i.count, v5=v5),
                    "discountPrice": self._money(0, v5=v5),
                    "externalVendorSkuCode": "",
                    "etcInfoHeader": None,
                    "etcInfoValue": None,
                    "etcInfoValues": None,
                    "sellerProductId": 14000000000 + i.vendor_item_id % 1000,
                    "sellerProductName": i.name,
                    "sellerProductItemName": i.name,
                    "firstSellerProductItemName": i.name,
                    "cancelCount": i.cancel_count,
                    "holdCountForCancel": i.hold,
                    "estimatedShippingDate": i.estimated_shipping_date.isoformat(),
                    "plannedShippingDate": "",
                    "invoiceNumberUploadDate": "",
                    "extraProperties": {},
                    "pricingBadge": False,
                    "usedProduct": False,
                    "confirmDate": "",
                    "deliveryChargeTypeName": "무료",
                    "canceled": i.cancel_count >= i.count,
                }
                for i in box.items
            ],
            "overseaShippingInfoDto": {"personalCustomsClearanceCode": None, "ordererSsn": None,
                                       "ordererPhoneNumber": None},
            "deliveryCompanyName": box.courier,
            "invoiceNumber": box.invoice,
            "inTrasitDateTime": "",
            "deliveredDate": "",
            "refer": "안드로이드앱",
            "shipmentType": "THIRD_PARTY",
        }  # fmt: skip

    @staticmethod
    def _when(text: str | None, name: str, *, minute: bool) -> datetime:
        if not text:
            raise _error(400, f"{name} is required.")
        value = text.strip()
        naive, _, offset = value.partition("+")
        try:
            fmt = "%Y-%m-%dT%H:%M" if minute else "%Y-%m-%d"
            moment = datetime.strptime(naive, fmt)  # noqa: DTZ007 - KST is attached below
        except ValueError:
            raise _error(400, f"{name} has an invalid format: {value}") from None
        if offset and offset != "09:00":
            raise _error(400, f"{name} has an invalid offset: {value}")
        return moment.replace(tzinfo=_KST)

    def _list(self, query: dict[str, str], *, v5: bool) -> _Reply:
        status = query.get("status")
        if status not in _STATUSES:
            raise _error(400, f"status is invalid: {status}")
        minute = query.get("searchType") == "timeFrame"
        start = self._when(query.get("createdAtFrom"), "createdAtFrom", minute=minute)
        end = self._when(query.get("createdAtTo"), "createdAtTo", minute=minute)
        if minute:
            if not timedelta(0) < end - start < timedelta(hours=24):
                raise _error(400, "The time range should be less than 24 hours.")
            end = end + timedelta(minutes=1)
        else:
            if not timedelta(0) <= end - start <= timedelta(days=31):
                raise _error(400, "endTime-startTime range should less than31.")
            end = end + timedelta(days=1)
        visible = self._clock() - self.listing_delay
        boxes = sorted(
            (b for b in self._boxes.values()
             if b.status == status and not b.cancelled and start <= b.paid_at < end
             and b.paid_at <= visible),
            key=lambda b: b.shipment_box_id,
        )  # fmt: skip
        if minute:
            data = [self._sheet(b, v5=v5) for b in boxes]
            return _Reply(200, {"code": 200, "message": "OK", "data": data})
        size = int(query.get("maxPerPage") or 50)
        if not 1 <= size <= 50:
            raise _error(400, "maxPerPage must be between 1 and 50.")
        token = query.get("nextToken")
        if token:
            if not re.fullmatch(r"[0-9]{1,30}", token):
                raise _error(400, "nextToken is invalid.")
            boxes = [b for b in boxes if b.shipment_box_id >= int(token)]
        page, rest = boxes[:size], boxes[size:]
        next_token = str(rest[0].shipment_box_id) if rest else ""
        data = [self._sheet(b, v5=v5) for b in page]
        return _Reply(200, {"code": 200, "message": "OK", "data": data, "nextToken": next_token})

    def _box(self, shipment_box_id: int) -> _Box:
        box = self._boxes.get(shipment_box_id)
        if box is None:
            raise _error(400, f"shipmentBoxId ({shipment_box_id}) is not found.")
        return box

    def _one(self, shipment_box_id: int, *, v5: bool) -> _Reply:
        box = self._box(shipment_box_id)
        if box.cancelled:
            raise _Reply(400, {"code": 400, "message": "해당 주문이 취소 또는 반품되었습니다."})
        return _Reply(200, {"code": "200", "message": "OK", "data": self._sheet(box, v5=v5)})

    def _by_order(self, order_id: int, *, v5: bool) -> _Reply:
        boxes = [b for b in self._boxes.values() if b.order_id == order_id]
        if not boxes:
            raise _error(400, f"orderId ({order_id}) is not found.")
        sheets = [self._sheet(b, v5=v5) for b in boxes]
        data: object = sheets[0] if len(sheets) == 1 else sheets
        return _Reply(200, {"code": "200", "message": "OK", "data": data})

    def _history(self, shipment_box_id: int) -> _Reply:
        box = self._box(shipment_box_id)
        details = [
            {"deliveryStatus": s, "deliveryStatusDesc": _DESC.get(s, s),
             "updatedAt": self._stamp(at, v5=True)}
            for s, at in reversed(box.history)
        ]  # fmt: skip
        data = {"shipmentBoxId": box.shipment_box_id, "details": details}
        return _Reply(200, {"code": 200, "message": "OK", "data": data})

    # --- writes ----------------------------------------------------------------------------

    @staticmethod
    def _results(results: list[dict[str, Any]], what: str) -> _Reply:
        ok = sum(1 for r in results if r["succeed"])
        code = 0 if ok == len(results) else (99 if ok == 0 else 1)
        text = {0: "All succeeded.", 1: "Partial errors.", 99: "All failed."}[code]
        data = {
            "responseKey": -7326489997410939972,
            "responseCode": code,
            "responseMessage": f"apply {what} result - {text}",
            "responseList": results,
        }
        return _Reply(200, {"code": "200", "message": "OK", "data": data})

    @staticmethod
    def _result(box_id: int, code: str, message: str, *, retry: bool) -> dict[str, Any]:
        return {"shipmentBoxId": box_id, "succeed": code == "OK", "resultCode": code,
                "retryRequired": retry, "resultMessage": message}  # fmt: skip

    def _ack(self, body: Any) -> _Reply:
        ids = body.get("shipmentBoxIds") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not ids:
            raise _error(400, "shipmentBoxIds is required.")
        if len(ids) > 50:
            raise _error(400, "Request up to 50 at a time.")
        results = []
        for raw in ids:
            box = self._boxes.get(raw) if isinstance(raw, int) else None
            if box is None:
                results.append(
                    self._result(
                        raw,
                        "NOT_FOUND_SHIPMENT_BOX",
                        f"shipmentBoxId ({raw}) is not found.",
                        retry=True,
                    )
                )
            elif box.cancelled or any(i.hold or i.cancel_count for i in box.items):
                results.append(
                    self._result(
                        raw,
                        "INVALID_STATUS",
                        "배송상태를 변경할 수 없습니다. 주문내역을 확인해주세요.",
                        retry=False,
                    )
                )
            elif box.status != "ACCEPT":
                results.append(
                    self._result(
                        raw, "INVALID_STATUS", "배송진행상태가 유효하지 않습니다.", retry=False
                    )
                )
            else:
                box.status = "INSTRUCT"
                box.history.append(("INSTRUCT", self._clock()))
                results.append(self._result(raw, "OK", "request succeeded.", retry=False))
        return self._results(results, "instructStatus")

    def _invoices(self, body: Any, *, update: bool) -> _Reply:
        dtos = body.get("orderSheetInvoiceApplyDtos") if isinstance(body, dict) else None
        if not isinstance(dtos, list) or not dtos:
            raise _error(400, "orderSheetInvoiceApplyDtos is required.")
        per_box: dict[int, list[dict[str, Any]]] = {}
        for dto in dtos:
            if not isinstance(dto, dict) or not isinstance(dto.get("shipmentBoxId"), int):
                raise _error(400, "shipmentBoxId is required.")
            per_box.setdefault(dto["shipmentBoxId"], []).append(dto)
        results = []
        for box_id, lines in per_box.items():
            code, message, retry = self._invoice_check(box_id, lines, update=update)
            if code == "OK":
                box = self._boxes[box_id]
                box.courier = str(lines[0]["deliveryCompanyCode"])
                box.invoice = str(lines[0]["invoiceNumber"])
                self._used_invoices.add((box.courier, box.invoice))
                box.status = "DEPARTURE"
                box.history.append(("DEPARTURE", self._clock()))
            results.append(self._result(box_id, code, message, retry=retry))
        return self._results(results, "invoice")

    def _invoice_check(  # noqa: PLR0911 - one answer per check, as Coupang orders them
        self, box_id: int, lines: list[dict[str, Any]], *, update: bool
    ) -> tuple[str, str, bool]:
        box = self._boxes.get(box_id)
        if box is None:
            return "NOT_FOUND_SHIPMENT_BOX", f"shipmentBoxId ({box_id}) is not found.", False
        stop = any(r.box == box_id and r.receipt_status == "RELEASE_STOP_UNCHECKED"
                   for r in self._receipts.values())  # fmt: skip
        if box.cancelled or stop:
            return "ORDER_DELIVERY_CANCELED", "취소 또는 출고중지요청된 주문입니다.", False
        allowed = (
            ("DEPARTURE", "DELIVERING", "FINAL_DELIVERY", "NONE_TRACKING")
            if update
            else ("INSTRUCT",)
        )
        if box.status not in allowed:
            return (
                "INVALID_STATUS",
                (
                    "배송진행상태가 유효하지 않습니다. "
                    f"[합포장번호 : {box_id}] [주문번호 : {box.order_id}]"
                ),
                False,
            )
        known = {i.vendor_item_id for i in box.items}
        if {line.get("vendorItemId") for line in lines} != known:
            return "NOT_FOUND_VENDOR_ITEM", "합포장건 중 누락된 vendorItemId가 있습니다.", False
        for line in lines:
            courier, number = line.get("deliveryCompanyCode"), line.get("invoiceNumber")
            if not isinstance(courier, str) or courier not in _WAYBILL_LENGTHS:
                return "INVALID_INVOICE_NUMBER", "지원되지 않는 택배사 코드입니다.", True
            if not isinstance(number, str):
                return "INVALID_INVOICE_NUMBER", "지원되지 않는 택배사 코드입니다.", True
            lengths = _WAYBILL_LENGTHS[courier]
            if not re.fullmatch(r"[0-9]+", number) or (
                lengths is not None and len(number) not in lengths
            ):
                return "INVALID_INVOICE_NUMBER", "운송장 번호가 규격에 맞지 않습니다.", True
            if (courier, number) in self._used_invoices and (box.courier, box.invoice) != (
                courier,
                number,
            ):
                return "DUPLICATE_INVOICE_NUMBER", "중복된 운송장 번호입니다.", True
        return "OK", "request succeeded.", False

    def _cancel(self, order_id: int, body: Any) -> _Reply:
        if not isinstance(body, dict):
            raise _error(400, "Request body is required.")
        user = body.get("userId")
        if not isinstance(user, str) or not user or (self._user_id not in (None, user)):
            raise _Reply(
                400, {"code": 400, "message": "업체 ID에 맞는 올바른 유저 ID를 입력해주세요."}
            )
        if (
            body.get("bigCancelCode") != "CANERR"
            or body.get("middleCancelCode") not in _CANCEL_CODES
        ):
            raise _Reply(400, {"code": 400, "message": "취소사유 중분류 코드를 확인해 주세요."})
        items, counts = body.get("vendorItemIds"), body.get("receiptCounts")
        if not isinstance(items, list) or not isinstance(counts, list) or len(items) != len(counts):
            raise _error(400, "vendorItemIds and receiptCounts must have the same length.")
        boxes = [b for b in self._boxes.values() if b.order_id == order_id and not b.cancelled]
        failed: list[int] = []
        plan: list[tuple[_Box, _Item, int]] = []
        for item_id, count in zip(items, counts, strict=True):
            found = [(b, i) for b in boxes for i in b.items if i.vendor_item_id == item_id]
            if not found or found[0][0].status not in ("ACCEPT", "INSTRUCT"):
                failed.append(item_id)
                continue
            box, item = found[0]
            if not isinstance(count, int) or count < 1 or count > item.count - item.cancel_count:
                raise _Reply(
                    400, {"code": 400, "message": "취소 가능한 개수보다 요청한 개수가 더 많습니다."}
                )
            plan.append((box, item, count))
        if not plan:
            text = "해당 벤더아이템이 결제완료/상품지시 중 상태가 아닙니다."
            raise _Reply(400, {"code": 400, "message": text})
        for box, item, count in plan:
            item.cancel_count += count
            if all(i.cancel_count >= i.count for i in box.items):
                box.cancelled = True
                box.history.append(("CANCEL", self._clock()))
        self.seller_cancels.append(dict(body))
        data = {"orderId": order_id, "failedItemIds": failed}
        return _Reply(200, {"code": "PARTIAL" if failed else "200", "message": "OK", "data": data})

    def _receipt_json(self, r: _Receipt) -> dict[str, Any]:
        box = self._boxes[r.box]
        names = {i.vendor_item_id: i.name for i in box.items}
        return {
            "receiptId": r.receipt_id,
            "orderId": r.order_id,
            "paymentId": r.order_id + 1,
            "receiptType": r.receipt_type,
            "receiptStatus": r.receipt_status,
            "createdAt": r.created_at.astimezone(_KST).strftime("%Y-%m-%dT%H:%M:%S"),
            "modifiedAt": r.created_at.astimezone(_KST).strftime("%Y-%m-%dT%H:%M:%S"),
            "requesterName": box.receiver.name,
            "requesterPhoneNumber": box.receiver.safe_number,
            "cancelReasonCategory1": "고객변심",
            "cancelReasonCategory2": "단순변심",
            "cancelReason": "단순변심",
            "cancelCountSum": sum(c for _, c in r.items),
            "releaseStopStatus": r.release_stop_status,
            "faultByType": r.fault_by_type,
            "preRefund": False,
            "returnItems": [
                {"vendorItemId": item_id, "vendorItemName": names.get(item_id, ""),
                 "cancelCount": count, "purchaseCount": count, "shipmentBoxId": r.box,
                 "releaseStatus": "N" if r.receipt_status == "RELEASE_STOP_UNCHECKED" else "Y"}
                for item_id, count in r.items
            ],
        }  # fmt: skip

    def _returns(self, query: dict[str, str]) -> _Reply:
        start = self._when(query.get("createdAtFrom"), "createdAtFrom", minute=False)
        end = self._when(query.get("createdAtTo"), "createdAtTo", minute=False)
        if not timedelta(0) <= end - start <= timedelta(days=31):
            raise _error(400, "endTime-startTime range should less than31.")
        kind = query.get("cancelType") or "RETURN"
        status, order = query.get("status"), query.get("orderId")
        if kind == "RETURN" and not status and not order:
            raise _error(400, "OrderId can't be null, if doesn't pass the parameter status")
        wanted = {
            "RU": {"RELEASE_STOP_UNCHECKED"},
            "UC": {"RELEASE_STOP_UNCHECKED", "RETURNS_UNCHECKED"},
            "CC": {"RETURNS_COMPLETED"},
            "PR": {"REQUEST_COUPANG_CHECK"},
        }
        if status and status not in wanted:
            raise _error(400, f"status is invalid: {status}")
        found = [
            r for r in sorted(self._receipts.values(), key=lambda r: r.receipt_id)
            if r.receipt_type == kind
            and start <= r.created_at < end + timedelta(days=1)
            and (not status or r.receipt_status in wanted[status])
            and (not order or str(r.order_id) == order)
        ]  # fmt: skip
        size = int(query.get("maxPerPage") or 50)
        token = query.get("nextToken")
        if token and re.fullmatch(r"[0-9]{1,30}", token):
            found = [r for r in found if r.receipt_id >= int(token)]
        page, rest = found[:size], found[size:]
        data = [self._receipt_json(r) for r in page]
        next_token = str(rest[0].receipt_id) if rest else ""
        return _Reply(200, {"code": 200, "message": "OK", "data": data, "nextToken": next_token})

    def _receipt(self, receipt_id: int) -> _Receipt:
        receipt = self._receipts.get(receipt_id)
        if receipt is None:
            raise _error(400, f"receiptId ({receipt_id}) is not found.")
        if receipt.receipt_status != "RELEASE_STOP_UNCHECKED":
            raise _error(400, "출고중지요청 상태가 아닙니다.")
        return receipt

    def _stopped(self, receipt_id: int, body: Any) -> _Reply:
        receipt = self._receipt(receipt_id)
        total = sum(c for _, c in receipt.items)
        if not isinstance(body, dict) or body.get("cancelCount") != total:
            raise _error(
                500, "[INTERNAL_SERVER_ERROR] 취소반품접수수량과 cancelCount가 일치하지 않습니다."
            )
        receipt.receipt_status = "RETURNS_COMPLETED"
        receipt.release_stop_status = "처리(출고중지)"
        box = self._boxes[receipt.box]
        for item in box.items:
            item.cancel_count, item.hold = item.count, 0
        box.cancelled = True
        box.history.append(("CANCEL", self._clock()))
        data = {"resultCode": "SUCCESS", "resultMessage": "출고중지 처리되었습니다."}
        return _Reply(200, {"code": "200", "message": "OK", "data": data})

    def _completed(self, receipt_id: int, body: Any) -> _Reply:
        receipt = self._receipt(receipt_id)
        if not isinstance(body, dict):
            raise _error(400, "Request body is required.")
        courier, number = body.get("deliveryCompanyCode"), body.get("invoiceNumber")
        if (
            courier not in _WAYBILL_LENGTHS
            or not isinstance(number, str)
            or not re.fullmatch(r"[0-9]+", number)
        ):
            raise _error(400, "지원되지 않는 택배사 코드 또는 운송장 번호입니다.")
        receipt.receipt_status = "RETURNS_UNCHECKED"
        receipt.release_stop_status = "처리(이미출고)"
        box = self._boxes[receipt.box]
        box.courier, box.invoice = str(courier), number
        box.status = "DEPARTURE"
        box.history.append(("DEPARTURE", self._clock()))
        data = {"code": "200", "message": "OK", "resultCode": "SUCCESS", "resultMessage": "OK"}
        return _Reply(200, {"data": data})
