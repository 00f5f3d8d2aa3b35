"""The whole consignment flow offline: Coupang orders bought on Domeme, confirmed and shipped.

In this example, we:

- serve :class:`~consign_core.testing.fake_coupang.FakeCoupang` and
  :class:`~consign_core.testing.fake_domeme.FakeDomeme` on ``127.0.0.1`` (free ports), and
  talk to them with the real adapters: ``CoupangClient`` / ``CoupangMarket`` (the market port)
  and ``DomemeClient`` / ``DomemeSupplier`` (the supplier port); one simulated clock drives
  both fakes, both clients and the engine;
- map each Coupang ``vendorItemId`` (the engine's SKU) to Domeme items, primary first;
- run the production :class:`~consign_core.engine.Engine` for a simulated day: five paid
  orders become Domeme orders carrying the buyer's delivery details, are acknowledged
  (발주확인) and get the supplier's waybill uploaded to Coupang (Domeme's ``DAEHAN`` becomes
  Coupang's ``CJGLS``); one item is sold out at its primary supplier and is bought from the
  alternate; one order's only supplier cancels it (판매취소, 품절) and it is cancelled on
  Coupang honestly as a stock-out (``CCTTER``); Domeme drops one ``setOrder`` answer after
  paying, and nothing is paid twice.

Runs offline in a few seconds.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from consign_core.adapters.coupang import CoupangClient, CoupangMarket, Throttle, order_ref
from consign_core.adapters.domeme import DomemeClient, DomemeSupplier
from consign_core.domain.model import OrderRef
from consign_core.domain.rules import COUPANG
from consign_core.domain.timing import make_policy
from consign_core.engine import Engine
from consign_core.store import InMemoryStore
from consign_core.testing import T0
from consign_core.testing.fake_coupang import FakeCoupang
from consign_core.testing.fake_domeme import DomemeFault, FakeDomeme, FakeDomemeServer


ITEM, SOLD_OUT = 3_000_000_001, 3_000_000_009  # Coupang vendorItemIds
SOURCES = {
    str(ITEM): [("S1", "1001"), ("S2", "1002")],  # primary first, then the alternate
    str(SOLD_OUT): [("S3", "1009")],  # one supplier only
}


class Clock:
    """The simulated time of both fakes, both clients and the engine."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        """Simulated seconds: Domeme's per-minute quota counts simulated minutes."""
        return (self.now - T0).total_seconds()


@contextmanager
def served(fake: FakeDomeme) -> Iterator[FakeDomemeServer]:
    """FakeDomeme on a loopback socket for the block."""
    server = FakeDomemeServer(fake)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def play_suppliers(fake: FakeDomeme, now: datetime) -> None:
    """Domeme's suppliers: confirm after an hour and ship after three; S3 is out of stock."""
    for order in list(fake.orders.values()):
        if order.status_mode not in {"WAITCHK", "WAITDELI"}:
            continue
        age = now - order.placed_at
        if order.item_no == "1009":
            fake.cancel_by_supplier(order.order_no, "품절로 인한 판매취소")
        elif age >= timedelta(hours=3):
            fake.invoice(order.order_no, courier="DAEHAN")
        elif age >= timedelta(hours=1):
            fake.confirm(order.order_no)


def main() -> None:
    logging.basicConfig(level=logging.ERROR)  # the adapters warn about the injected fault
    clock = Clock(T0)
    coupang = FakeCoupang(
        user_id="wing-login", clock=clock, listing_delay=timedelta(minutes=10),
        requests_per_second=None,
    )  # fmt: skip
    domeme = FakeDomeme(clock=clock, monotonic=clock.monotonic, emoney=1_000_000)
    domeme.add_item("1001", seller_id="S1", price=8_000, stock=4)  # the 5th order finds none
    domeme.add_item("1002", seller_id="S2", price=8_500, stock=100)
    domeme.add_item("1009", seller_id="S3", price=12_000, stock=100)
    with coupang.serve() as coupang_url, served(domeme) as domeme_server:
        market_client = CoupangClient(
            coupang.vendor_id, "test-access-key", "test-secret-key", base_url=coupang_url,
            clock=clock, user_id="wing-login", throttle=Throttle(200.0),
        )  # fmt: skip
        supplier_client = DomemeClient(
            "test-api-key", "buyer1", "test-password", base_url=domeme_server.url, clock=clock,
            monotonic=clock.monotonic,
        )  # fmt: skip
        with market_client, supplier_client:
            engine = Engine(
                CoupangMarket(market_client, clock=clock),
                # The engine gives each order's buyer (name, phone, address) to Domeme.
                DomemeSupplier(supplier_client, shop_name="하늘가게"),
                InMemoryStore(),
                policy=make_policy("confirm-immediately"),
                profile=COUPANG,
                sources=SOURCES,
            )
            boxes = [coupang.add_order_sheet(paid_at=T0, vendor_item_id=ITEM) for _ in range(5)]
            boxes.append(coupang.add_order_sheet(paid_at=T0, vendor_item_id=SOLD_OUT))
            refs: dict[int, OrderRef] = {b: order_ref(coupang.order_id_of(b), b) for b in boxes}
            domeme.inject(DomemeFault.TIMEOUT_AFTER, mode="setOrder")  # paid, answer lost

            runs = 0
            while clock.now < T0 + timedelta(hours=24):
                clock.now += timedelta(minutes=10)
                play_suppliers(domeme, clock.now)
                engine.run_once(clock.now)
                runs += 1

            print(f"{runs} engine runs over 24 simulated hours")
            for box, ref in refs.items():
                state = engine.order(ref)
                status = state.status.value if state is not None else "not taken in"
                where = f"{state.supplier_id} item {state.item_id}" if state is not None else ""
                note = ""
                if state is not None and state.cancellation is not None:
                    c = state.cancellation
                    note = f" ({c.fault.value} fault, {c.reason.value})"
                courier, number = coupang.invoice_of(box)
                waybill = f" waybill {courier} {number}" if number else ""
                print(
                    f"  {ref.order_id}: Coupang {coupang.status_of(box):<9} engine {status}"
                    f"{note}, bought from {where}{waybill}"
                )
            print(
                f"Coupang seller cancels: {[c['middleCancelCode'] for c in coupang.seller_cancels]}"
            )
            print(
                f"Domeme orders: {len(domeme.orders)}, paid twice: {domeme.duplicate_orders}; "
                f"calls: {supplier_client.calls} ({dict(supplier_client.calls_by_mode)})"
            )
            print(
                "Coupang acknowledgements of acknowledged boxes: "
                f"{coupang.duplicate_acknowledgements}; second invoice uploads: "
                f"{coupang.duplicate_uploads}"
            )


if __name__ == "__main__":
    main()
