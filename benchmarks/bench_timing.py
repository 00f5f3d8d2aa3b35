"""Benchmark the confirmation-timing policies.

Prints, per policy, the p50 and p99 of one ``decide_safely`` call on prepared contexts, and for
``expected-cost`` the whole decision as production makes it: the trust model's ``assess``, the
ledger's ``headroom``, building the context and deciding. The baseline measured in the same run
is a bare ``DecisionContext`` construction, so the ratios say what a decision costs on top of the
data it needs.

Run: ``.venv/bin/python benchmarks/bench_timing.py [--quick]``.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from consign_core.domain.calendar import KST
from consign_core.domain.cancel_rate import Ledger
from consign_core.domain.events import (
    InvoiceUploaded,
    OrderPaid,
    SupplierCancelled,
    SupplierInvoiced,
    SupplierOrderPlaced,
)
from consign_core.domain.model import (
    CancelReason,
    Courier,
    MarketOrder,
    OrderLine,
    OrderRef,
    Tracking,
)
from consign_core.domain.rules import COUPANG
from consign_core.domain.timing import (
    DecisionContext,
    SupplierOrderState,
    decide_safely,
    make_policy,
    policy_names,
)
from consign_core.domain.trust import TrustModel


START = datetime(2025, 3, 3, 9, 0, tzinfo=KST)


def percentiles(samples: list[float]) -> tuple[float, float]:
    """(p50, p99) in microseconds."""
    ordered = sorted(samples)
    return (
        statistics.median(ordered) * 1e6,
        ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1e6,
    )


def timed(calls: list[Callable[[], object]]) -> list[float]:
    """Time each call once with perf_counter, the garbage collector paused."""
    out: list[float] = []
    clock = time.perf_counter
    gc.disable()
    try:
        for call in calls:
            t0 = clock()
            call()
            out.append(clock() - t0)
    finally:
        gc.enable()
    return out


def build_world(
    rng: random.Random, suppliers: int, history: int
) -> tuple[TrustModel, Ledger, datetime]:
    """A trust model with ``history`` orders spread over the suppliers, and a busy ledger."""
    risk = {f"S{i}": rng.choice([0.01, 0.01, 0.03, 0.08, 0.2]) for i in range(suppliers)}
    events: list[tuple[datetime, int, object]] = []
    for i in range(history):
        at = START + timedelta(minutes=7 * i)
        supplier = f"S{rng.randrange(suppliers)}"
        ref = OrderRef(market="coupang", order_id=f"H{i}")
        ids = {"ref": ref, "supplier_id": supplier, "supplier_order_id": f"D{i}"}
        order = MarketOrder(
            ref=ref,
            lines=[OrderLine(sku="SKU", quantity=1, unit_price=20_000)],
            paid_at=at,
            ship_by=at + timedelta(days=3),
        )
        events.append((at, len(events), OrderPaid(order=order)))
        placed = SupplierOrderPlaced(at=at, item_id="I", quantity=1, **ids)
        events.append((at, len(events), placed))
        done = at + timedelta(hours=rng.uniform(2, 20))
        if rng.random() < risk[supplier]:
            cancel = SupplierCancelled(at=done, reason=CancelReason.STOCK_OUT, **ids)
            events.append((done, len(events), cancel))
        else:
            tracking = Tracking(courier=Courier.CJ, number=f"T{i}")
            invoiced = SupplierInvoiced(at=done, tracking=tracking, **ids)
            events.append((done, len(events), invoiced))
            events.append((done, len(events), InvoiceUploaded(ref=ref, at=done, tracking=tracking)))
    end = START + timedelta(minutes=7 * history)
    model = TrustModel()
    ledger = Ledger(COUPANG)
    for at, _, event in sorted(events, key=lambda item: (item[0], item[1])):
        if at > end:
            break
        if isinstance(event, OrderPaid | InvoiceUploaded):
            ledger.observe(event)
        else:
            model.observe(event)  # type: ignore[arg-type]
    model.refit_population()
    return model, ledger, end


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small run")
    args = parser.parse_args()
    n = 2_000 if args.quick else 20_000
    rng = random.Random(7)
    model, ledger, now = build_world(rng, suppliers=500, history=5_000 if args.quick else 40_000)

    orders = []
    for i in range(n):
        quantity = 20 if rng.random() < 0.05 else rng.choice([1, 1, 1, 2, 3])
        order = MarketOrder(
            ref=OrderRef(market="coupang", order_id=f"N{i}"),
            lines=[OrderLine(sku="SKU", quantity=quantity, unit_price=15_000)],
            paid_at=now - timedelta(minutes=5),
            ship_by=now + timedelta(days=2),
        )
        orders.append((order, f"S{rng.randrange(500)}", rng.randrange(3)))

    def context_for(order: MarketOrder, supplier: str, alternates: int) -> DecisionContext:
        return DecisionContext(
            order=order,
            now=now,
            trust=model.assess(supplier, order.quantity, now, order.ship_by, placed_at=now),
            headroom=ledger.headroom(now, order),
            profile=COUPANG,
            supplier_state=SupplierOrderState.PLACED,
            placed_at=now,
            alternates=alternates,
        )

    contexts = [context_for(*item) for item in orders]
    first = contexts[0]
    baseline = percentiles(
        timed(
            [
                lambda c=c: DecisionContext(
                    order=c.order,
                    now=c.now,
                    trust=c.trust,
                    headroom=c.headroom,
                    profile=c.profile,
                    supplier_state=c.supplier_state,
                    placed_at=c.placed_at,
                    alternates=c.alternates,
                )
                for c in contexts
            ]
        )
    )
    print(f"decisions over {n:,} prepared contexts (500 suppliers, Coupang ledger)")
    label = "baseline: build a DecisionContext"
    print(f"{label:44} p50 {baseline[0]:6.2f} µs  p99 {baseline[1]:6.2f} µs")
    for name in policy_names():
        policy = make_policy(name)
        decide_safely(policy, first)
        calls = [lambda c=c, p=policy: decide_safely(p, c) for c in contexts]
        p50, p99 = percentiles(timed(calls))
        print(
            f"{'decide_safely ' + name:44} p50 {p50:6.2f} µs  p99 {p99:6.2f} µs"
            f"  ({p50 / baseline[0]:.1f}x baseline)"
        )
    policy = make_policy("expected-cost")
    full = timed(
        [
            lambda item=item: decide_safely(policy, context_for(*item))  # type: ignore[misc]
            for item in orders
        ]
    )
    p50, p99 = percentiles(full)
    print(
        f"{'expected-cost incl. assess + headroom':44} p50 {p50:6.2f} µs  p99 {p99:6.2f} µs"
        f"  (target p50 <= 30 µs: {'met' if p50 <= 30 else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
