"""Benchmark the cancel-rate ledger: event + headroom-query pairs per second.

Run ``.venv/bin/python benchmarks/bench_cancel_rate.py`` (``--quick`` for a small run).

1. Streams N events (1,000,000 by default) of a synthetic Coupang seller through a
   :class:`~consign_core.domain.cancel_rate.Ledger` with ``Ledger.headroom(now)`` after every event,
   and prints event+query pairs per second (the target is >= 300,000/s): the best of
   ``--repeats`` runs (3), as ``timeit`` does, since a shared machine adds noise. The garbage
   collector is paused in the timed loops.
2. On a 10,000-event prefix, recomputes both Coupang metrics the way an analyst would, with
   pandas time-based rolling windows over the full history after every event, checks that
   the final figures agree with the ledger, and prints the speed ratio.

The synthetic seller: an order every ~2 minutes; each order is paid, placed at the supplier
and acknowledged; ~2% are cancelled by the supplier for a stock-out (seller fault), ~3% by the
buyer, the rest are shipped (~5% after the deadline) and delivered.
"""

from __future__ import annotations

import argparse
import gc
import heapq
import importlib
import random
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from consign_core.domain.calendar import DEFAULT_CALENDAR, KST
from consign_core.domain.cancel_rate import Ledger
from consign_core.domain.events import (
    Delivered,
    Event,
    InvoiceUploaded,
    MarketAcknowledged,
    OrderCancelled,
    OrderPaid,
    SupplierOrderPlaced,
)
from consign_core.domain.model import (
    CancelFault,
    Cancellation,
    CancelReason,
    Courier,
    MarketOrder,
    OrderLine,
    OrderRef,
    Tracking,
)
from consign_core.domain.rules import COUPANG, CountUnit, RuleProfile


def make_events(n_events: int, seed: int = 7) -> list[Event]:
    """``n_events`` lifecycle events of a synthetic Coupang seller, in time order.

    Events are materialised in time order (a discrete-event simulation with a heap of
    scheduled event factories), the way a live stream produces them.
    """
    rng = random.Random(seed)
    tracking = Tracking(courier=Courier.CJ, number="1234567890")
    lines = [(OrderLine(sku="SKU-1", quantity=q, unit_price=9_900),) for q in (1, 1, 1, 2, 3, 20)]
    pending: list[tuple[datetime, int, Callable[[datetime], Event]]] = []
    seq = 0

    def later(at: datetime, make: Callable[[datetime], Event]) -> None:
        nonlocal seq
        heapq.heappush(pending, (at, seq, make))
        seq += 1

    def cancel(
        ref: OrderRef, fault: CancelFault, reason: CancelReason
    ) -> Callable[[datetime], Event]:
        return lambda at: OrderCancelled(
            ref=ref, cancellation=Cancellation(fault=fault, reason=reason, at=at)
        )

    t = datetime(2025, 1, 2, 9, 0, tzinfo=KST)
    i = 0
    out: list[Event] = []
    while len(out) < n_events:
        t += timedelta(seconds=rng.expovariate(1 / 120))
        paid = t.replace(microsecond=0)
        while pending and pending[0][0] <= paid:
            at, _, make = heapq.heappop(pending)
            out.append(make(at))
        ref = OrderRef(market="coupang", order_id=f"O{i}")
        i += 1
        order = MarketOrder(
            ref=ref,
            lines=rng.choice(lines),
            paid_at=paid,
            ship_by=DEFAULT_CALENDAR.ship_by(paid, business_days=2),
        )
        out.append(OrderPaid(order=order))
        placed = paid + timedelta(minutes=rng.uniform(1, 30))
        acked = placed + timedelta(minutes=rng.uniform(1, 120))
        later(placed, _placed(ref, i, order.quantity))
        later(acked, _acked(ref))
        u = rng.random()
        if u < 0.02:  # the supplier ran out of stock after the seller confirmed
            at = acked + timedelta(hours=rng.uniform(1, 30))
            later(at, cancel(ref, CancelFault.SELLER, CancelReason.STOCK_OUT))
        elif u < 0.05:  # the buyer changed their mind before confirmation
            at = paid + timedelta(minutes=rng.uniform(1, 60))
            later(at, cancel(ref, CancelFault.BUYER, CancelReason.BUYER_REMORSE))
        else:
            late = rng.random() < 0.05
            shipped = (
                order.ship_by + timedelta(hours=rng.uniform(0, 48))
                if late
                else paid + (order.ship_by - paid) * rng.uniform(0.1, 0.95)
            )
            later(shipped, _shipped(ref, tracking))
            later(shipped + timedelta(days=rng.uniform(1, 3)), _delivered(ref))
    return out[:n_events]


def _placed(ref: OrderRef, i: int, quantity: int) -> Callable[[datetime], Event]:
    return lambda at: SupplierOrderPlaced(
        ref=ref, at=at, supplier_id="S1", supplier_order_id=f"D{i}", item_id="I1", quantity=quantity
    )


def _acked(ref: OrderRef) -> Callable[[datetime], Event]:
    return lambda at: MarketAcknowledged(ref=ref, at=at)


def _shipped(ref: OrderRef, tracking: Tracking) -> Callable[[datetime], Event]:
    return lambda at: InvoiceUploaded(ref=ref, at=at, tracking=tracking)


def _delivered(ref: OrderRef) -> Callable[[datetime], Event]:
    return lambda at: Delivered(ref=ref, at=at)


def run_ledger(events: list[Event], profile: RuleProfile = COUPANG) -> tuple[float, Ledger]:
    """Seconds to observe every event with a headroom query after each.

    The garbage collector is paused during the timed loop: the pre-built event list holds
    millions of objects, and a live stream would not keep them all alive.
    """
    ledger = Ledger(profile)
    observe = ledger.observe
    headroom = ledger.headroom
    gc.disable()
    try:
        start = time.perf_counter()
        for event in events:
            observe(event)
            headroom(event.at)
        elapsed = time.perf_counter() - start
    finally:
        gc.enable()
    return elapsed, ledger


def run_pandas(events: list[Event]) -> tuple[float, dict[str, float | None]]:
    """Seconds for the analyst's way: after every event, rebuild the frames from the
    history so far and recompute both 7-day Coupang metrics with pandas rolling windows."""
    pd: Any = importlib.import_module("pandas")

    paid: dict[str, dict[str, object]] = {}
    cancels: list[tuple[datetime, int]] = []
    result: dict[str, float | None] = {}
    start = time.perf_counter()
    for event in events:
        now = event.at
        if isinstance(event, OrderPaid):
            o = event.order
            paid[o.ref.order_id] = {"paid": o.paid_at, "ship_by": o.ship_by, "shipped": pd.NaT}
            paid[o.ref.order_id]["cancelled"] = pd.NaT
        elif isinstance(event, OrderCancelled):
            rec = paid.get(event.ref.order_id)
            if rec is not None and pd.isna(rec["cancelled"]):
                rec["cancelled"] = event.at
                c = event.cancellation
                if c.reason is CancelReason.STOCK_OUT or c.fault is CancelFault.SELLER:
                    cancels.append((event.at, 1))
        elif isinstance(event, InvoiceUploaded):
            rec = paid.get(event.ref.order_id)
            if rec is not None and pd.isna(rec["shipped"]) and pd.isna(rec["cancelled"]):
                rec["shipped"] = event.at
        # --- recompute from the full history
        orders = pd.DataFrame.from_dict(paid, orient="index")
        for col in ("paid", "ship_by", "shipped", "cancelled"):
            orders[col] = pd.to_datetime(orders[col], utc=True)
        now_ts = pd.Timestamp(now).tz_convert("UTC")
        paid_s = pd.Series(1, index=orders["paid"]).sort_index()
        cancel_s = pd.Series(
            [a for _, a in cancels], index=pd.to_datetime([t for t, _ in cancels], utc=True)
        )
        due = orders[(orders["ship_by"] <= now_ts)]
        due = due[~(due["cancelled"] < due["ship_by"])]
        late = due[~(due["shipped"] < due["ship_by"])]
        due_s = pd.Series(1, index=due["ship_by"]).sort_index()
        late_s = pd.Series(1, index=late["ship_by"]).sort_index()
        probe = pd.Series(0, index=pd.DatetimeIndex([now_ts]))
        values = {}
        for name, series in (
            ("paid", paid_s),
            ("cancels", cancel_s),
            ("due", due_s),
            ("late", late_s),
        ):
            joined = pd.concat([series, probe]).sort_index(kind="stable")
            values[name] = float(joined.rolling("7D").sum().iloc[-1])
        result = {
            "order_fulfilment": 1 - values["cancels"] / values["paid"] if values["paid"] else None,
            "on_time_shipment": 1 - values["late"] / values["due"] if values["due"] else None,
        }
    return time.perf_counter() - start, result


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small run (50k events, 1k prefix)")
    parser.add_argument("--events", type=int, default=None, help="events in the main run")
    parser.add_argument("--prefix", type=int, default=None, help="events in the pandas run")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs (the best counts)")
    args = parser.parse_args(argv)
    repeats = max(1, args.repeats)
    n = args.events or (50_000 if args.quick else 1_000_000)
    prefix = args.prefix or (1_000 if args.quick else 10_000)

    print(f"python {sys.version.split()[0]}; profile {COUPANG.market}; {n:,} events")
    t0 = time.perf_counter()
    events = make_events(n)
    print(f"generated {len(events):,} events in {time.perf_counter() - t0:.1f} s")

    runs = [run_ledger(events) for _ in range(repeats)]
    elapsed, ledger = min(runs, key=lambda run: run[0])
    rate = len(events) / elapsed
    verdict = "OK" if rate >= 300_000 else "BELOW TARGET"
    every = ", ".join(f"{len(events) / t:,.0f}" for t, _ in runs)
    print(
        f"ledger: {len(events):,} event+headroom pairs in {elapsed:.2f} s "
        f"= {rate:,.0f} pairs/s, best of {repeats} (runs: {every}; target >= 300,000/s: "
        f"{verdict})"
    )
    final = ledger.report(events[-1].at)
    for metric in final.metrics:
        print(f"  {metric.describe()}")
    print(f"  {ledger.headroom(events[-1].at).describe()}")

    # the same stream under a per-unit profile (a 20-set order weighs 20)
    unit_profile = COUPANG.with_metric("order_fulfilment", unit=CountUnit.UNIT)
    unit_elapsed = min(run_ledger(events, unit_profile)[0] for _ in range(repeats))
    print(f"ledger, per-unit fulfilment: {len(events) / unit_elapsed:,.0f} pairs/s")

    try:
        pd: Any = importlib.import_module("pandas")
    except ImportError:
        print("pandas not installed: skipping the rolling-window comparison")
        return 0
    head = events[:prefix]
    small_elapsed, small_ledger = min(
        (run_ledger(head) for _ in range(repeats)), key=lambda run: run[0]
    )
    pandas_elapsed, expected = run_pandas(head)
    got = small_ledger.report(head[-1].at)
    for name, value in expected.items():
        mine = got.metric(name).value
        agree = (value is None and mine is None) or (
            value is not None and mine is not None and abs(value - mine) < 1e-12
        )
        if not agree:
            print(f"MISMATCH on {name}: pandas {value!r}, ledger {mine!r}")
            return 1
    ledger_rate = len(head) / small_elapsed
    pandas_rate = len(head) / pandas_elapsed
    print(
        f"pandas {pd.__version__} rolling recompute after each event, {len(head):,}-event prefix: "
        f"{pandas_rate:,.0f} pairs/s ({pandas_elapsed:.1f} s); ledger on the same prefix "
        f"{ledger_rate:,.0f} pairs/s; ratio ledger/pandas = {ledger_rate / pandas_rate:,.0f}x "
        f"(final figures agree)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
