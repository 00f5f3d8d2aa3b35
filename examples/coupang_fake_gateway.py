"""Run the engine against a fake Coupang gateway on a loopback socket, offline.

In this example, we:

- serve :class:`~consign_core.testing.FakeCoupang` on ``127.0.0.1`` (a free port): it checks
  every request's HMAC signature, lists paid orders ten minutes late as Coupang does, and
  moves order sheets through their statuses;
- talk to it with the real adapter, :class:`~consign_core.adapters.coupang.CoupangClient`
  (signed, throttled, retried) and :class:`~consign_core.adapters.coupang.CoupangMarket` (the
  engine's market port), with a simulated clock shared by the gateway and the engine;
- run the :class:`~consign_core.engine.Engine` with the in-memory Domeme-like supplier and
  store for a simulated day and a half: five orders are taken in, acknowledged (발주확인) and
  shipped; one buyer cancels in ACCEPT; one item is sold out at the supplier and its order is
  cancelled as a stock-out (``CCTTER``), honestly; the gateway throttles one acknowledgement
  and times out after taking one invoice upload, and nothing is lost or sent twice;
- print each order's Coupang status and what the engine made of it (the adapter's warnings
  about the injected faults are silenced; set the log level to WARNING to see them).

Runs offline in a few seconds.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from consign_core.adapters.coupang import CoupangClient, CoupangMarket, Throttle, order_ref
from consign_core.domain.rules import COUPANG
from consign_core.domain.timing import make_policy
from consign_core.engine import Engine
from consign_core.store import InMemoryStore
from consign_core.testing import T0, Fate, InMemorySupplier
from consign_core.testing.fake_coupang import FakeCoupang, Fault


ITEM, SOLD_OUT = 3_000_000_001, 3_000_000_009
SOURCES = {str(ITEM): [("S1", "I1"), ("S2", "I2")], str(SOLD_OUT): ("S1", "I9")}


class Clock:
    """The simulated time of the gateway, the signatures and the engine."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def main() -> None:
    logging.basicConfig(level=logging.ERROR)  # the adapter logs each 429 and timeout as a warning
    clock = Clock(T0)
    fake = FakeCoupang(
        user_id="wing-login",
        clock=clock,
        listing_delay=timedelta(minutes=10),
        requests_per_second=None,
        timeout_delay=0.5,
    )
    supplier = InMemorySupplier(now=T0)
    with fake.serve() as url:
        client = CoupangClient(
            fake.vendor_id,
            "test-access-key",
            "test-secret-key",
            base_url=url,
            clock=clock,
            user_id="wing-login",
            throttle=Throttle(200.0),
            timeout=0.25,
            retry_wait_initial=0.01,
            retry_wait_max=0.05,
        )
        with client:
            market = CoupangMarket(client, clock=clock)
            engine = Engine(
                market,
                supplier,
                InMemoryStore(),
                policy=make_policy("await-invoice"),
                profile=COUPANG,
                sources=SOURCES,
            )
            boxes = [fake.add_order_sheet(paid_at=T0, vendor_item_id=ITEM) for _ in range(5)]
            cancelled = fake.add_order_sheet(paid_at=T0, vendor_item_id=ITEM)
            sold_out = fake.add_order_sheet(paid_at=T0, vendor_item_id=SOLD_OUT)
            refs = {b: order_ref(fake.order_id_of(b), b) for b in [*boxes, cancelled, sold_out]}
            supplier.script(refs[sold_out], Fate(ships=False, after=timedelta(hours=5)))
            fake.inject(Fault.RATE_LIMITED, path="acknowledgement")
            fake.inject(Fault.TIMEOUT, path="orders/invoices")

            runs = 0
            while clock.now < T0 + timedelta(hours=36):
                clock.now += timedelta(minutes=20)
                supplier.advance(clock.now)
                engine.run_once(clock.now)
                runs += 1
                if runs == 2:  # the buyer cancels while the order waits in ACCEPT
                    fake.buyer_cancel(cancelled)

            print(f"{runs} engine runs over 36 simulated hours against {url}")
            for box, ref in refs.items():
                state = engine.order(ref)
                status = state.status.value if state is not None else "not taken in"
                note = ""
                if state is not None and state.cancellation is not None:
                    c = state.cancellation
                    note = f" ({c.fault.value} fault, {c.reason.value})"
                print(f"  {ref.order_id}: Coupang {fake.status_of(box):<9} engine {status}{note}")
            codes = [c["middleCancelCode"] for c in fake.seller_cancels]
            print(f"seller cancels filed: {codes}")
            print(
                f"signed requests: {len(fake.calls)}; refused before routing: {len(fake.rejected)}"
            )
            print(
                "acknowledgements of acknowledged boxes: "
                f"{fake.duplicate_acknowledgements}; second invoice uploads: "
                f"{fake.duplicate_uploads}"
            )


if __name__ == "__main__":
    main()
