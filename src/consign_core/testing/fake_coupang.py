"""``FakeCoupang``: an in-process fake of Coupang's Open API gateway, for tests.

Coupang has no sandbox, so this fake is the test target for any tool that talks to Coupang. It is
a separate implementation of the server side (it shares no code with the adapter): it checks the
CEA HMAC signature and the signed date's skew, throttles each vendor with 429, keeps order sheets
in their statuses and moves them as Coupang does (ACCEPT -> INSTRUCT on acknowledgement,
INSTRUCT -> DEPARTURE on invoice upload, cancels and stop-shipment requests), keeps each listed
option's sales state and stock (the product API's stop / resume / quantity calls), and injects
faults on demand. Use it three ways::

    fake = FakeCoupang()
    box = fake.add_order_sheet(vendor_item_id=3000000001, quantity=2)

    httpx.MockTransport(fake)                      # in process, no socket
    httpx.WSGITransport(app=fake.wsgi)             # through the WSGI app
    with fake.serve() as base_url: ...             # on a real loopback socket (port 0)

Every buyer in it is synthetic; its receivers are masked in reprs like real ones.

A stopped option takes no orders: :meth:`FakeCoupang.buyer_orders` is a buyer who sees the
listing and is *refused* (``None``, counted in ``refused_orders``) while the option is stopped
or out of stock; :meth:`FakeCoupang.add_order_sheet` seeds a sheet as given, whatever the
listing says (a test's back door).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from consign_core._exports import publish
from consign_core.errors import ConfigurationError, ValidationError
from consign_core.testing._coupang_gateway import Gateway
from consign_core.testing._coupang_items import VendorItem
from consign_core.testing._coupang_model import (
    KST,
    NEXT_STATUS,
    STATUSES,
    Box,
    FakeCall,
    FakeItem,
    FakeReceiver,
    Fault,
    Item,
    Receipt,
    utcnow,
)


__all__ = ["FakeCall", "FakeCoupang", "FakeItem", "FakeReceiver", "Fault", "VendorItem"]


class FakeCoupang(Gateway):
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
        self._clock = clock or utcnow
        self._max_skew = max_skew
        self._rate = requests_per_second
        self._monotonic = monotonic
        self._tokens = float(requests_per_second or 0)
        self._refilled = monotonic()
        self.timeout_delay = timeout_delay
        self._allowed_ips = frozenset(allowed_ips) if allowed_ips is not None else None
        self.listing_delay = listing_delay
        self._lock = threading.RLock()
        self._boxes: dict[int, Box] = {}
        self._receipts: dict[int, Receipt] = {}
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
        self.duplicate_acknowledgements = 0
        """Acknowledgements of boxes already past ACCEPT (refused with ``INVALID_STATUS``)."""
        self.duplicate_uploads = 0
        """Invoice uploads for boxes that already had one (refused with ``INVALID_STATUS``)."""
        self._vendor_items = {}
        self.refused_orders = 0
        """Orders :meth:`buyer_orders` refused: the option was stopped or out of stock."""
        self._server = None
        self._thread = None
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
        if status not in STATUSES:
            msg = f"status must be one of {', '.join(STATUSES)}, got {status!r}"
            raise ValidationError(msg, field="status", value=status)
        paid = paid_at or self._clock()
        lines = list(items) if items is not None else [
            FakeItem(vendor_item_id=vendor_item_id, quantity=quantity, unit_price=unit_price)
        ]  # fmt: skip
        with self._lock:
            self._known_items([line.vendor_item_id for line in lines])
            box_id = shipment_box_id or next(self._box_ids)
            if box_id in self._boxes:
                msg = f"shipment_box_id {box_id} is already seeded"
                raise ValidationError(msg, field="shipment_box_id", value=box_id)
            due = (paid.astimezone(KST) + timedelta(days=2)).date()
            self._boxes[box_id] = Box(
                shipment_box_id=box_id,
                order_id=order_id or next(self._order_ids),
                status=status,
                paid_at=paid,
                items=[
                    Item(
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

    def buyer_orders(
        self,
        vendor_item_id: int = 3_000_000_001,
        quantity: int = 1,
        *,
        paid_at: datetime | None = None,
        receiver: FakeReceiver | None = None,
    ) -> int | None:
        """A buyer who sees the listing orders one option: a new ACCEPT sheet (its
        ``shipmentBoxId``), or ``None`` when the option is stopped or short of stock (the buyer
        could not order; counted in ``refused_orders``). An option never listed is listed on
        sale first. The option's stock goes down by ``quantity``."""
        with self._lock:
            self._known_items([vendor_item_id])
            if not self._take_stock(vendor_item_id, quantity):
                return None
            return self.add_order_sheet(
                vendor_item_id=vendor_item_id,
                quantity=quantity,
                paid_at=paid_at,
                receiver=receiver,
            )

    def status_of(self, shipment_box_id: int) -> str:
        """The box's status (``CANCELLED`` once it is cancelled as a whole)."""
        with self._lock:
            box = self._boxes[shipment_box_id]
            return "CANCELLED" if box.cancelled else box.status

    def order_id_of(self, shipment_box_id: int) -> int:
        """The ``orderId`` of a seeded box."""
        with self._lock:
            return self._boxes[shipment_box_id].order_id

    def invoice_of(self, shipment_box_id: int) -> tuple[str, str]:
        """``(deliveryCompanyCode, invoiceNumber)`` of the box (empty before upload)."""
        with self._lock:
            box = self._boxes[shipment_box_id]
            return box.courier, box.invoice

    def set_status(self, shipment_box_id: int, status: str) -> None:
        """Force a box into ``status`` (recorded in its history)."""
        if status not in STATUSES:
            msg = f"status must be one of {', '.join(STATUSES)}, got {status!r}"
            raise ValidationError(msg, field="status", value=status)
        with self._lock:
            box = self._boxes[shipment_box_id]
            box.status = status
            box.history.append((status, self._clock()))

    def advance(self, shipment_box_id: int) -> str:
        """Move a shipped box on (DEPARTURE -> DELIVERING -> FINAL_DELIVERY); returns the status."""
        with self._lock:
            box = self._boxes[shipment_box_id]
            nxt = NEXT_STATUS.get(box.status)
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
            receipt = Receipt(
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


publish(__name__, __all__)
