"""Supplier API calls against Domeggook's quota: the engine on DomemeSupplier and FakeDomeme.

The production engine (default ``EngineSettings``, one run per simulated minute) takes paid
orders from the in-memory market and orders them on Domeme through ``DomemeSupplier`` and
``DomemeClient`` on a ``FakeDomeme`` (``httpx.MockTransport``, simulated time). A supplier
actor confirms each order 1-3 hours after it is placed, ships it (a waybill) 12-36 hours
after, and cancels 3% of them as stock-outs 2-6 hours after. Orders arrive at a steady rate
so that about N are open on the supplier's side; after a warm-up of 36 hours (the longest
an order stays open) every supplier API call is counted for 24 hours. Printed for each N:
calls per hour, the busiest minute, the projected calls per day, and what they were spent on.
Domeggook's reported quota is 180 calls a minute and 15,000 a day.

    python benchmarks/bench_domeme_quota.py                 # 100, 1,000 and 5,000 open orders
    python benchmarks/bench_domeme_quota.py --open 1000     # one size
    python benchmarks/bench_domeme_quota.py --quick         # 100 and 1,000, 12 h measured
    python benchmarks/bench_domeme_quota.py --open 5000 --feed-every 30 --no-stock-check

The 5,000 run simulates 60 hours of ~200 orders an hour through the fake's HTTP layer and
takes several minutes.
"""

from __future__ import annotations

import argparse
import dataclasses
import heapq
import logging
import random
import time
from collections import Counter
from datetime import datetime, timedelta

import httpx

from consign_core.adapters.domeme import DomemeClient, DomemeSupplier
from consign_core.domain.model import Recipient
from consign_core.domain.rules import COUPANG
from consign_core.domain.timing import make_policy
from consign_core.engine import Engine, EngineSettings
from consign_core.store import InMemoryStore
from consign_core.testing import T0, InMemoryMarket, make_order
from consign_core.testing.fake_domeme import FakeDomeme


FIRST_ORDER_NO = 14_000_000
PER_MINUTE = 180
PER_DAY = 15_000
SKUS = 50
MEAN_OPEN = timedelta(hours=24)  # placement -> waybill, on average (12-36 h)
WARM_UP = timedelta(hours=36)
RECIPIENT = Recipient(
    name="홍길동", phone="010-0000-0000", zip_code="00000", address1="서울특별시 중구 세종대로 1"
)


class SimClock:
    """Simulated time for the engine, the client and the fake (the fake's rate window too)."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return (self.now - T0).total_seconds()


class SupplierActor:
    """Moves the fake's orders: confirm, ship or cancel at their scheduled times."""

    def __init__(self, fake: FakeDomeme, seed: int) -> None:
        self.fake = fake
        self.rng = random.Random(seed)
        self.scheduled = 0  # orders scheduled so far (the fake numbers them in sequence)
        self.due: list[tuple[datetime, int, str, str]] = []
        self.serial = 0

    def _at(self, when: datetime, action: str, order_no: str) -> None:
        self.serial += 1
        heapq.heappush(self.due, (when, self.serial, action, order_no))

    def advance(self, now: datetime) -> None:
        orders = self.fake.orders
        while self.scheduled < len(orders):
            order_no = str(FIRST_ORDER_NO + self.scheduled)
            self.scheduled += 1
            placed = orders[order_no].placed_at
            if self.rng.random() < 0.03:
                self._at(placed + timedelta(hours=self.rng.uniform(2, 6)), "cancel", order_no)
                continue
            self._at(placed + timedelta(hours=self.rng.uniform(1, 3)), "confirm", order_no)
            self._at(placed + timedelta(hours=self.rng.uniform(12, 36)), "ship", order_no)
        while self.due and self.due[0][0] <= now:
            _, _, action, order_no = heapq.heappop(self.due)
            mode = self.fake.orders[order_no].status_mode
            if action == "confirm":
                self.fake.confirm(order_no)
            elif mode in {"WAITCHK", "WAITDELI"}:
                if action == "ship":
                    self.fake.invoice(order_no)
                else:
                    self.fake.cancel_by_supplier(order_no, "품절로 인한 판매취소")


@dataclasses.dataclass(frozen=True)
class Result:
    """One size's measurements."""

    open_orders: int
    open_seen: float
    per_hour: float
    peak_minute: int
    per_day: float
    modes: dict[str, float]
    throttled: int
    seconds: float


class CountingHandler:
    """The fake's MockTransport handler, counting HTTP 429 answers."""

    def __init__(self, fake: FakeDomeme) -> None:
        self.fake = fake
        self.throttled = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        response = self.fake.handler(request)
        self.throttled += response.status_code == 429
        return response


def run(
    open_orders: int,
    measured: timedelta,
    seed: int = 7,
    *,
    feed_every: timedelta = timedelta(minutes=5),
    check_stock_first: bool = True,
) -> Result:
    """Simulate until about ``open_orders`` are open, then count calls over ``measured``."""
    clock = SimClock()
    fake = FakeDomeme(
        clock=clock,
        emoney=10**12,
        monotonic=clock.monotonic,
        session_ttl=timedelta(days=30),
        first_order_no=FIRST_ORDER_NO,
        rate_limit_per_minute=PER_MINUTE,  # answers 429 past 180 calls a simulated minute
    )
    for k in range(SKUS):
        fake.add_item(str(1000 + k), seller_id=f"S{k}", price=5_000, stock=10**9)
    client = DomemeClient(
        "test-api-key",
        "buyer1",
        "test-password",
        transport=httpx.MockTransport(handler := CountingHandler(fake)),
        clock=clock,
        rate_limit_per_minute=10**9,  # counted here instead: the fake enforces the real limit
        rate_limit_per_day=None,
        monotonic=clock.monotonic,
    )
    supplier = DomemeSupplier(
        client,
        shop_name="벤치상점",
        recipient_for=lambda _: RECIPIENT,
        feed_every=feed_every,
        check_stock_first=check_stock_first,
    )
    market = InMemoryMarket(page_size=500)
    engine = Engine(
        market,
        supplier,
        InMemoryStore(),
        policy=make_policy("expected-cost"),
        profile=COUPANG,
        sources={f"SKU-{k}": [(f"S{k}", str(1000 + k))] for k in range(SKUS)},
        settings=EngineSettings(),
    )
    actor = SupplierActor(fake, seed)
    step = timedelta(minutes=1)
    per_minute = open_orders / (MEAN_OPEN / step)  # arrivals that keep ~N open
    end = T0 + WARM_UP + measured
    owed, serial = 0.0, 0
    minute_calls: list[int] = []
    modes: Counter[str] = Counter()
    open_seen: list[int] = []
    started = time.perf_counter()
    while clock.now < end:
        owed += per_minute
        while owed >= 1:
            owed -= 1
            serial += 1
            market.add_order(
                make_order(f"{serial:08d}", sku=f"SKU-{serial % SKUS}", paid_at=clock.now)
            )
        market.advance(clock.now)
        actor.advance(clock.now)
        before, before_modes = client.calls, Counter(client.calls_by_mode)
        engine.run_once(clock.now)
        if clock.now >= T0 + WARM_UP:
            minute_calls.append(client.calls - before)
            modes.update(Counter(client.calls_by_mode) - before_modes)
            if clock.now.minute == 0:
                open_seen.append(
                    sum(1 for o in fake.orders.values() if o.status_mode in {"WAITCHK", "WAITDELI"})
                )
        clock.now += step
    hours = measured / timedelta(hours=1)
    total = sum(minute_calls)
    return Result(
        open_orders=open_orders,
        open_seen=sum(open_seen) / max(1, len(open_seen)),
        per_hour=total / hours,
        peak_minute=max(minute_calls, default=0),
        per_day=total / hours * 24,
        modes={m: n / hours for m, n in modes.most_common()},
        throttled=handler.throttled,
        seconds=time.perf_counter() - started,
    )


def main() -> None:
    """Parse the flags, run, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--open", type=int, action="append", help="open orders (repeatable)")
    parser.add_argument("--hours", type=float, default=24.0, help="hours measured")
    parser.add_argument("--quick", action="store_true", help="100 and 1,000; 12 h measured")
    parser.add_argument(
        "--feed-every", type=float, default=5.0, help="DomemeSupplier feed_every, in minutes"
    )
    parser.add_argument(
        "--no-stock-check", action="store_true", help="DomemeSupplier(check_stock_first=False)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.CRITICAL)
    sizes = args.open or ([100, 1_000] if args.quick else [100, 1_000, 5_000])
    measured = timedelta(hours=12 if args.quick else args.hours)
    print(
        "engine: default EngineSettings, one run per simulated minute; supplier: DomemeSupplier"
        f" with the order feed swept at most every {args.feed_every:g} min, the item change"
        " feed read at most every 5 min, "
        + ("no stock check before paying" if args.no_stock_check else "stock checked first")
    )
    print(f"quota: {PER_MINUTE} calls/min, {PER_DAY:,} calls/day")
    for size in sizes:
        r = run(
            size,
            measured,
            feed_every=timedelta(minutes=args.feed_every),
            check_stock_first=not args.no_stock_check,
        )
        within = r.peak_minute < PER_MINUTE and r.per_day < PER_DAY
        print(
            f"\n{size:>5,} open orders ({r.open_seen:,.0f} open on average while measured):"
            f" {r.per_hour:,.0f} calls/hour, busiest minute {r.peak_minute}, projected"
            f" {r.per_day:,.0f} calls/day -> {'within' if within else 'OVER'} the quota"
        )
        spent = ", ".join(f"{m} {n:,.0f}" for m, n in r.modes.items())
        print(f"    per hour by call: {spent}")
        print(f"    HTTP 429 answers: {r.throttled}; simulated in {r.seconds:.0f} s")


if __name__ == "__main__":
    main()
