"""The production Engine with CoupangMarket on FakeCoupang over a real loopback socket.

The supplier is the in-memory Domeme-like fake and the store the in-memory store; only the
engine's public API is used (``Engine(...)``, ``run_once(now)``, ``order(ref)``).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from consign_core.adapters.coupang import CoupangClient, CoupangMarket, Throttle, order_ref
from consign_core.domain.model import OrderRef
from consign_core.domain.rules import COUPANG
from consign_core.domain.timing import make_policy
from consign_core.domain.workflow import OrderStatus
from consign_core.engine import Engine, RunReport
from consign_core.store import InMemoryStore
from consign_core.testing import T0, Fate, InMemorySupplier
from consign_core.testing.fake_coupang import FakeCoupang, FakeReceiver, Fault


VENDOR = "A00012345"
ITEM, SOLO = 3_000_000_001, 3_000_000_009
SOURCES = {str(ITEM): [("S1", "I1"), ("S2", "I2")], str(SOLO): ("S1", "I9")}
RECEIVER = FakeReceiver(name="박수령", safe_number="0502-9876-5432", addr1="부산광역시 해운대구 1")


class Clock:
    """One simulated clock for the gateway, the client's signature and the engine."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class World:
    def __init__(self, policy: str, *, listing_delay: timedelta = timedelta(minutes=10)) -> None:
        self.clock = Clock()
        self.fake = FakeCoupang(
            vendor_id=VENDOR,
            user_id="wing-login",
            clock=self.clock,
            requests_per_second=None,
            listing_delay=listing_delay,
            timeout_delay=0.6,
        )
        self.url = self.fake.start()
        self.client = CoupangClient(
            VENDOR,
            "test-access-key",
            "test-secret-key",
            base_url=self.url,
            clock=self.clock,
            user_id="wing-login",
            throttle=Throttle(500.0),
            timeout=0.3,
            retry_wait_initial=0.0,
            retry_wait_max=0.01,
            retry_wait_jitter=0.0,
        )
        self.market = CoupangMarket(self.client, clock=self.clock)
        self.supplier = InMemorySupplier(now=T0)
        self.store = InMemoryStore()
        self.policy = policy
        self.engine = self.new_engine()

    def new_engine(self) -> Engine:
        return Engine(
            self.market,
            self.supplier,
            self.store,
            policy=make_policy(self.policy),
            profile=COUPANG,
            sources=SOURCES,
        )

    def restart(self) -> None:
        """A new process: a new market adapter and engine on the same store."""
        self.market = CoupangMarket(self.client, clock=self.clock)
        self.engine = self.new_engine()

    def run(self, minutes: float = 0.0) -> RunReport:
        self.clock.now += timedelta(minutes=minutes)
        self.supplier.advance(self.clock.now)
        return self.engine.run_once(self.clock.now)

    def run_for(self, hours: float, step_minutes: float = 30.0) -> None:
        end = self.clock.now + timedelta(hours=hours)
        while self.clock.now < end:
            self.run(step_minutes)

    def pay(self, vendor_item_id: int = ITEM, **kwargs: Any) -> tuple[int, OrderRef]:
        box = self.fake.add_order_sheet(
            paid_at=self.clock.now, vendor_item_id=vendor_item_id, receiver=RECEIVER, **kwargs
        )
        order_id = self.fake.order_id_of(box)
        return box, order_ref(order_id, box)

    def ack_sends(self) -> Counter[int]:
        sent: Counter[int] = Counter()
        for call in self.fake.calls:
            if call.method == "PUT" and call.path.endswith("ordersheets/acknowledgement"):
                sent.update(call.body["shipmentBoxIds"])
        return sent

    def close(self) -> None:
        self.client.close()
        self.fake.stop()


@pytest.fixture
def immediate() -> Iterator[World]:
    world = World("confirm-immediately")
    yield world
    world.close()


@pytest.fixture
def waiting() -> Iterator[World]:
    world = World("await-invoice")
    yield world
    world.close()


def test_paid_orders_are_taken_in_acknowledged_and_shipped_on_coupang(immediate: World) -> None:
    w = immediate
    paid = [w.pay() for _ in range(3)]
    first = w.run()
    assert first.new_orders == 0  # Coupang lists a paid order about ten minutes late
    second = w.run(11)
    assert second.new_orders == 3
    assert [w.fake.status_of(box) for box, _ in paid] == ["INSTRUCT"] * 3
    order = w.engine.order(paid[0][1])
    assert order is not None
    assert order.order.recipient is not None
    assert order.order.recipient.name == RECEIVER.name
    w.run_for(24)
    for box, ref in paid:
        assert w.fake.status_of(box) == "DEPARTURE"
        courier, number = w.fake.invoice_of(box)
        assert courier == "CJGLS"
        assert number.isdigit()
        state = w.engine.order(ref)
        assert state is not None
        assert state.status is OrderStatus.SHIPPED
    assert set(w.ack_sends().values()) == {1}


def test_orders_are_taken_in_once_across_overlapping_windows_and_a_restart(
    immediate: World,
) -> None:
    w = immediate
    early, _ = w.pay()
    w.run(11)
    w.restart()
    late, _ = w.pay()
    w.run(5)
    w.run(11)
    assert w.fake.status_of(early) == "INSTRUCT"
    assert w.fake.status_of(late) == "INSTRUCT"
    assert w.ack_sends() == Counter({early: 1, late: 1})
    listed = [c for c in w.fake.calls if c.path.endswith("/ordersheets") and c.method == "GET"]
    assert any(("searchType", "timeFrame") in c.query for c in listed)


def test_a_restart_between_acknowledgement_and_invoice_still_ships(immediate: World) -> None:
    w = immediate
    box, ref = w.pay()
    w.run(11)
    assert w.fake.status_of(box) == "INSTRUCT"
    w.restart()  # the new adapter knows nothing of the box: it reads it back to invoice it
    w.run_for(24)
    assert w.fake.status_of(box) == "DEPARTURE"
    state = w.engine.order(ref)
    assert state is not None
    assert state.status is OrderStatus.SHIPPED
    assert w.fake.count_calls("GET", f"/ordersheets/{box}") >= 1


def test_a_buyer_cancel_in_accept_is_handled_without_any_seller_cancel(waiting: World) -> None:
    w = waiting
    box, ref = w.pay()
    w.run(11)
    state = w.engine.order(ref)
    assert state is not None
    assert w.fake.status_of(box) == "ACCEPT"  # await-invoice: not acknowledged yet
    w.fake.buyer_cancel(box)
    w.run_for(6)
    state = w.engine.order(ref)
    assert state is not None
    assert state.status is OrderStatus.CANCELLED
    assert state.cancellation is not None
    assert state.cancellation.penalised is False
    assert w.fake.seller_cancels == []
    assert w.ack_sends() == Counter()


def test_a_stock_out_is_filed_with_coupangs_stock_out_code(waiting: World) -> None:
    w = waiting
    box, ref = w.pay(SOLO)
    w.supplier.script(ref, Fate(ships=False, after=timedelta(hours=6)))
    w.run(11)
    w.run_for(12)
    assert w.fake.status_of(box) == "CANCELLED"
    [cancel] = w.fake.seller_cancels
    assert cancel["bigCancelCode"] == "CANERR"
    assert cancel["middleCancelCode"] == "CCTTER"
    state = w.engine.order(ref)
    assert state is not None
    assert state.status is OrderStatus.CANCELLED


def test_a_stop_shipment_request_is_answered_on_coupang(immediate: World) -> None:
    w = immediate
    box, ref = w.pay()
    w.run(11)
    assert w.fake.status_of(box) == "INSTRUCT"
    receipt = w.fake.buyer_cancel(box)
    w.run_for(8)
    assert w.fake.receipt_status(receipt) == "RETURNS_COMPLETED"
    assert w.fake.status_of(box) == "CANCELLED"
    state = w.engine.order(ref)
    assert state is not None
    assert state.status is OrderStatus.CANCELLED
    assert w.fake.seller_cancels == []


def test_with_faults_no_order_is_lost_or_acknowledged_twice(immediate: World) -> None:
    w = immediate
    paid = [w.pay(vendor_item_id=ITEM) for _ in range(120)]
    w.run(11)  # lists them; the batch of 50 is acknowledged in this run
    w.fake.inject(Fault.RATE_LIMITED, path="ordersheets", method="GET")
    w.fake.inject(Fault.SERVER_ERROR, path="ordersheets", method="GET")
    assert w.ack_sends()  # the first run acknowledged
    boxes = [box for box, _ in paid]
    assert all(w.fake.status_of(b) == "INSTRUCT" for b in boxes)
    # Now faults on the writes of new orders.
    more = [w.pay(vendor_item_id=ITEM) for _ in range(120)]
    w.fake.inject(Fault.RATE_LIMITED, path="acknowledgement")
    w.fake.inject(Fault.SERVER_ERROR, path="acknowledgement")
    w.fake.inject(Fault.TIMEOUT, path="acknowledgement")
    w.fake.inject(Fault.GATEWAY_TIMEOUT, path="orders/invoices")
    w.run(11)
    w.run_for(30)
    sends = w.ack_sends()
    new = [box for box, _ in more]
    assert all(w.fake.status_of(b) == "DEPARTURE" for b in boxes + new)
    for _, ref in paid + more:
        state = w.engine.order(ref)
        assert state is not None
        assert state.status is OrderStatus.SHIPPED
    # Batch 1: refused (429, retried by the client) then failed before effect (500), sent
    # again on the next run; batch 2: timed out after taking effect, read back, not resent.
    counts = Counter(sends[b] for b in new)
    assert counts == Counter({3: 50, 1: 70})
    assert all(sends[b] == 1 for b in boxes)
    uploads: Counter[int] = Counter()
    for call in w.fake.calls:
        if call.method == "POST" and call.path.endswith("orders/invoices"):
            uploads.update(d["shipmentBoxId"] for d in call.body["orderSheetInvoiceApplyDtos"])
    assert max(uploads.values()) == 1  # the 504 came after effect: read back, never resent
    assert (w.fake.duplicate_acknowledgements, w.fake.duplicate_uploads) == (0, 0)


def test_no_buyer_personal_data_or_key_in_the_logs(
    immediate: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    w = immediate
    box, _ = w.pay()
    w.fake.inject(Fault.SERVER_ERROR, path="acknowledgement")
    w.run(11)
    w.run_for(24)
    assert w.fake.status_of(box) == "DEPARTURE"
    text = caplog.text + repr(w.market) + str(w.market)
    for secret in ("test-secret-key", "test-access-key", "wing-login"):
        assert secret not in text
    for personal in (RECEIVER.name, RECEIVER.safe_number, RECEIVER.addr1):
        assert personal not in text
