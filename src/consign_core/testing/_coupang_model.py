"""FakeCoupang's values: faults, seeded items and receivers, the boxes and receipts it keeps,
and the early answer its handlers raise. The fake shares no code with the adapter."""

from __future__ import annotations

import enum
import itertools
from collections.abc import Mapping
from datetime import date, datetime, timedelta, timezone
from typing import Any

import attrs


__all__ = [
    "CANCEL_CODES",
    "DESC",
    "KST",
    "NEXT_STATUS",
    "STATUSES",
    "WAYBILL_LENGTHS",
    "Box",
    "FakeCall",
    "FakeItem",
    "FakeReceiver",
    "Fault",
    "Item",
    "Receipt",
    "Reply",
    "error",
    "txid",
    "utcnow",
]

KST = timezone(timedelta(hours=9))
WAYBILL_LENGTHS: Mapping[str, tuple[int, ...] | None] = {
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
NEXT_STATUS = {"DEPARTURE": "DELIVERING", "DELIVERING": "FINAL_DELIVERY"}
STATUSES = ("ACCEPT", "INSTRUCT", "DEPARTURE", "DELIVERING", "FINAL_DELIVERY", "NONE_TRACKING")
DESC = {
    "ACCEPT": "결제완료",
    "INSTRUCT": "상품준비중",
    "DEPARTURE": "배송지시",
    "DELIVERING": "배송중",
    "FINAL_DELIVERY": "배송완료",
    "NONE_TRACKING": "업체 직접 배송",
}
CANCEL_CODES = frozenset({"CCTTER", "CCPNER", "CCPRER"})


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
class Item:
    vendor_item_id: int
    name: str
    count: int
    unit_price: int
    estimated_shipping_date: date
    cancel_count: int = 0
    hold: int = 0


@attrs.define
class Box:
    shipment_box_id: int
    order_id: int
    status: str
    paid_at: datetime
    items: list[Item]
    receiver: FakeReceiver
    message: str
    history: list[tuple[str, datetime]]
    cancelled: bool = False
    courier: str = ""
    invoice: str = ""


@attrs.define
class Receipt:
    receipt_id: int
    order_id: int
    box: int
    receipt_type: str
    receipt_status: str
    created_at: datetime
    items: list[tuple[int, int]]
    release_stop_status: str
    fault_by_type: str = "CUSTOMER"


class Reply(Exception):  # noqa: N818 - an early answer, not an error
    def __init__(self, status: int, body: object, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.headers = dict(headers or {})


def error(status: int, message: str) -> Reply:
    return Reply(status, {"code": "ERROR", "message": message, "transactionId": txid()})


_TX = itertools.count(1)


def txid() -> str:
    return f"fake-{next(_TX):08d}"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
