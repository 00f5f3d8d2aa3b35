"""The Coupang Open API (WING) adapter: signing, the client, its wire DTOs and the domain boundary.

Needs the ``http`` extra (httpx, stamina)::

    from consign_core.adapters.coupang import CoupangClient

    with CoupangClient("A00012345", access_key, secret_key, user_id="wing-login") as client:
        page = client.order_sheets(date(2025, 7, 15), date(2025, 7, 16), status="ACCEPT")
        results = client.acknowledge(sheet.shipment_box_id for sheet in page.items)

Everything it raises is in the ``ConsignError`` tree; keys, the WING login id and buyers'
personal data never appear in a repr, a log line or an error.
"""

from __future__ import annotations

from consign_core._exports import publish
from consign_core.adapters.coupang._auth import CoupangAuth, sign
from consign_core.adapters.coupang._client import ORDER_STATUSES, CoupangClient, cancel_code_for
from consign_core.adapters.coupang._couriers import (
    COUPANG_COURIERS,
    CoupangCourier,
    courier_from_coupang,
    courier_to_coupang,
    validate_waybill,
)
from consign_core.adapters.coupang._domain import (
    MARKET,
    order_ref,
    split_order_ref,
    to_market_order,
    to_recipient,
)
from consign_core.adapters.coupang._mapping import coupang_courier_code
from consign_core.adapters.coupang._market import CoupangMarket
from consign_core.adapters.coupang._throttle import Throttle
from consign_core.adapters.coupang._types import (
    CancelResult,
    Invoice,
    OrderSheetPage,
    ReturnRequestPage,
    ShipmentBoxResult,
)
from consign_core.adapters.coupang._wire import (
    KST,
    HistoryEntry,
    OrderHistory,
    OrderItem,
    OrderSheet,
    Price,
    Receiver,
    ReturnItem,
    ReturnRequest,
    make_coupang_converter,
)


__all__ = [
    "COUPANG_COURIERS",
    "KST",
    "MARKET",
    "ORDER_STATUSES",
    "CancelResult",
    "CoupangAuth",
    "CoupangClient",
    "CoupangCourier",
    "CoupangMarket",
    "HistoryEntry",
    "Invoice",
    "OrderHistory",
    "OrderItem",
    "OrderSheet",
    "OrderSheetPage",
    "Price",
    "Receiver",
    "ReturnItem",
    "ReturnRequest",
    "ReturnRequestPage",
    "ShipmentBoxResult",
    "Throttle",
    "cancel_code_for",
    "coupang_courier_code",
    "courier_from_coupang",
    "courier_to_coupang",
    "make_coupang_converter",
    "order_ref",
    "sign",
    "split_order_ref",
    "to_market_order",
    "to_recipient",
    "validate_waybill",
]

publish(__name__, __all__)
