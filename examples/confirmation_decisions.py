"""Ask all four confirmation policies about two orders, with the real trust model and ledger.

In this example, we:

1. teach a trust model the history of a few suppliers (one reliable, one with a recent stock-out);
2. fill a Coupang cancel-rate ledger with a busy week of shipped orders;
3. build the decision context for two new orders, a single unit from the reliable supplier and a
   20-set group order from the other one (whose SKU has an alternate source mapped, so a stock-out
   found before confirmation can be rerouted);
4. print what every built-in policy decides, with its reason and the expected-cost figures, and
   what ``expected-cost`` decides when the SKU has no alternate source.

The worked example in ``docs/timing.md`` quotes this script's output.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import attrs

from consign_core.domain.calendar import DEFAULT_CALENDAR, KST
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
    ExpectedCost,
    SupplierOrderState,
    decide_safely,
    make_policy,
    policy_names,
)
from consign_core.domain.trust import TrustModel


NOW = datetime(2025, 10, 2, 9, 0, tzinfo=KST)


def learn(model: TrustModel, supplier: str, orders: int, stock_outs: tuple[int, ...] = ()) -> None:
    """Two orders a day; each ships after 6 hours unless it is one of the stock-outs."""
    start = datetime(2025, 9, 1, 10, 0, tzinfo=KST)
    for i in range(orders):
        at = start + timedelta(hours=12 * i)
        ids = {
            "ref": OrderRef(market="coupang", order_id=f"{supplier}-{i}"),
            "supplier_id": supplier,
            "supplier_order_id": f"D-{supplier}-{i}",
        }
        model.observe(SupplierOrderPlaced(at=at, item_id="ITEM", quantity=1, **ids))
        if i in stock_outs:
            done = at + timedelta(hours=3)
            model.observe(SupplierCancelled(at=done, reason=CancelReason.STOCK_OUT, **ids))
        else:
            tracking = Tracking(courier=Courier.CJ, number=f"T{i}")
            model.observe(SupplierInvoiced(at=at + timedelta(hours=6), tracking=tracking, **ids))


def busy_week() -> Ledger:
    """500 Coupang orders over the last six days, each shipped a day after payment."""
    events: list[OrderPaid | InvoiceUploaded] = []
    for i in range(500):
        paid = NOW - timedelta(days=6) + timedelta(minutes=17 * i)
        order = MarketOrder(
            ref=OrderRef(market="coupang", order_id=f"past-{i}"),
            lines=[OrderLine(sku="SKU", quantity=1, unit_price=20_000)],
            paid_at=paid,
            ship_by=paid + timedelta(days=3),
        )
        events.append(OrderPaid(order=order))
        if paid + timedelta(days=1) <= NOW:
            tracking = Tracking(courier=Courier.CJ, number=f"P{i}")
            events.append(
                InvoiceUploaded(ref=order.ref, at=paid + timedelta(days=1), tracking=tracking)
            )
    ledger = Ledger(COUPANG)
    for event in sorted(events, key=lambda e: e.at):
        ledger.observe(event)
    return ledger


def main() -> None:
    model = TrustModel()
    learn(model, "RELIABLE", 120)
    learn(model, "GIFTSET", 60, stock_outs=(57,))
    for other in ("A", "B", "C", "D", "E"):
        learn(model, other, 30, stock_outs=(4,))
    model.refit_population()
    ledger = busy_week()

    for supplier, quantity in (("RELIABLE", 1), ("GIFTSET", 20)):
        paid = NOW - timedelta(minutes=10)
        order = MarketOrder(
            ref=OrderRef(market="coupang", order_id=f"new-{supplier}"),
            lines=[OrderLine(sku="GIFT-SET", quantity=quantity, unit_price=15_000)],
            paid_at=paid,
            ship_by=COUPANG.ship_by_deadline(paid, DEFAULT_CALENDAR),
        )
        context = DecisionContext(
            order=order,
            now=NOW,
            trust=model.assess(supplier, quantity, NOW, order.ship_by, placed_at=NOW),
            headroom=ledger.headroom(NOW, order),
            profile=COUPANG,
            supplier_state=SupplierOrderState.PLACED,
            placed_at=NOW,
            alternates=1,
        )
        print(f"== {supplier}, {quantity} unit(s), ship by {order.ship_by:%a %m-%d %H:%M} KST")
        print(f"   trust:    {context.trust.reason}")
        print(f"   headroom: {context.headroom.describe()}")
        for name in policy_names():
            decision = decide_safely(make_policy(name), context)
            print(f"   {name:20} {type(decision).__name__:15} {decision.reason}")
        figures = ExpectedCost().costs(context)
        print("   expected-cost figures:", {k: round(v, 4) for k, v in figures.items()})
        alone = attrs.evolve(context, alternates=0)
        print(f"   with no alternate source: {decide_safely(ExpectedCost(), alone).reason}")


if __name__ == "__main__":
    main()
