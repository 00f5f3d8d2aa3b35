"""Hypothesis strategies for the domain model and lifecycle events, and example counts."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from consign_core.domain import events as ev
from consign_core.domain import model as m


OFFSETS = st.sampled_from(
    [timezone.utc, timezone(timedelta(hours=9)), timezone(timedelta(hours=-5))]
)

aware_datetimes = st.builds(
    lambda naive, tz: naive.replace(tzinfo=tz),
    st.datetimes(min_value=datetime(2015, 1, 1), max_value=datetime(2035, 12, 31)),  # noqa: DTZ001
    OFFSETS,
)
ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_가나다", min_size=1, max_size=12)
notes = st.text(max_size=20)

order_refs = st.builds(
    m.OrderRef, market=st.sampled_from(["coupang", "naver", "amazon"]), order_id=ids
)
tracking = st.builds(m.Tracking, courier=st.sampled_from(list(m.Courier)), number=ids)
order_lines = st.builds(
    m.OrderLine,
    sku=ids,
    quantity=st.integers(1, 50),
    unit_price=st.integers(0, 5_000_000),
    supplier_item_id=st.none() | ids,
)


@st.composite
def market_orders(draw: st.DrawFn) -> m.MarketOrder:
    paid = draw(aware_datetimes)
    return m.MarketOrder(
        ref=draw(order_refs),
        lines=draw(st.lists(order_lines, min_size=1, max_size=3)),
        paid_at=paid,
        ship_by=paid + draw(st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=10))),
    )


signals = st.builds(
    m.SupplierSignals,
    seller_rank=st.none() | st.integers(0, 20),
    seller_score=st.none() | st.floats(0, 100, allow_nan=False),
    avg_dispatch_days=st.none() | st.floats(0, 10, allow_nan=False),
)
suppliers = st.builds(
    m.Supplier, supplier_id=ids, name=notes, platform=st.just("domeme"), signals=st.none() | signals
)
supplier_items = st.builds(
    m.SupplierItem,
    supplier_id=ids,
    item_id=ids,
    stock=st.none() | st.integers(0, 1000),
    unit_cost=st.none() | st.integers(0, 1_000_000),
)
cancellations = st.builds(
    m.Cancellation,
    fault=st.sampled_from(m.CancelFault),
    reason=st.sampled_from(m.CancelReason),
    at=aware_datetimes,
    note=notes,
)


@st.composite
def supplier_orders(draw: st.DrawFn) -> m.SupplierOrder:
    status = draw(st.sampled_from(m.SupplierOrderStatus))
    trk = draw(tracking) if status is m.SupplierOrderStatus.INVOICED else draw(st.none() | tracking)
    cancel = draw(cancellations) if status is m.SupplierOrderStatus.CANCELLED else None
    return m.SupplierOrder(
        supplier_id=draw(ids),
        supplier_order_id=draw(ids),
        order_ref=draw(order_refs),
        item_id=draw(ids),
        quantity=draw(st.integers(1, 50)),
        placed_at=draw(aware_datetimes),
        status=status,
        tracking=trk,
        cancellation=cancel,
    )


events: st.SearchStrategy[ev.Event] = st.one_of(
    st.builds(ev.OrderPaid, order=market_orders()),
    st.builds(
        ev.SupplierOrderPlaced,
        ref=order_refs,
        at=aware_datetimes,
        supplier_id=ids,
        supplier_order_id=ids,
        item_id=ids,
        quantity=st.integers(1, 50),
        reported_stock=st.none() | st.integers(0, 100),
    ),
    st.builds(
        ev.SupplierConfirmed,
        ref=order_refs,
        at=aware_datetimes,
        supplier_id=ids,
        supplier_order_id=ids,
    ),
    st.builds(
        ev.SupplierInvoiced,
        ref=order_refs,
        at=aware_datetimes,
        supplier_id=ids,
        supplier_order_id=ids,
        tracking=tracking,
    ),
    st.builds(
        ev.SupplierCancelled,
        ref=order_refs,
        at=aware_datetimes,
        supplier_id=ids,
        supplier_order_id=ids,
        reason=st.sampled_from(m.CancelReason),
        note=notes,
    ),
    st.builds(ev.MarketAcknowledged, ref=order_refs, at=aware_datetimes),
    st.builds(ev.InvoiceUploaded, ref=order_refs, at=aware_datetimes, tracking=tracking),
    st.builds(
        ev.BuyerCancelRequested,
        ref=order_refs,
        at=aware_datetimes,
        reason=st.sampled_from(m.CancelReason),
        request_id=st.none() | ids,
    ),
    st.builds(ev.OrderCancelled, ref=order_refs, cancellation=cancellations),
    st.builds(ev.Delivered, ref=order_refs, at=aware_datetimes),
)

models = st.one_of(
    order_refs,
    tracking,
    order_lines,
    market_orders(),
    signals,
    suppliers,
    supplier_items,
    cancellations,
    supplier_orders(),
)


def examples(full: int) -> int:
    """How many examples a test that asks for ``full`` of them runs under the current profile.

    ``full`` in the ``ci`` profile (and ``default``), scaled down in ``dev`` (a tenth) and up
    in ``stress`` by the ratio of the profiles' own ``max_examples``; at least one.
    """
    try:
        baseline = settings.get_profile("ci").max_examples
    except InvalidArgument:  # no profiles registered (the conftest was not loaded)
        return full
    return max(1, round(full * settings().max_examples / baseline))
