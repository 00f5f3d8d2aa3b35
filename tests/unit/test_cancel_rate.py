"""The cancel-rate ledger: worked scenarios per market, edges, errors, snapshots and speed."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consign_core.domain.calendar import KST, BusinessCalendar, Moratorium, PenaltyKind
from consign_core.domain.cancel_rate import Ledger, LedgerState, compute_report
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
from consign_core.domain.rules import (
    AMAZON,
    COUPANG,
    EBAY,
    NAVER,
    Condition,
    CountedEvent,
    CountUnit,
    Denominator,
    LateBooking,
    MetricQuantity,
    MetricSpec,
    MetricStatus,
    PointWeight,
    RuleProfile,
    ShipByRule,
    Threshold,
    Window,
)
from consign_core.domain.serialization import structure, unstructure
from consign_core.errors import (
    ConfigurationError,
    DomainError,
    NaiveDatetimeError,
    ValidationError,
)
from tests._zones import FallBackZone
from tests.strategies import examples


MONDAY = datetime(2025, 11, 3, 10, 0, tzinfo=KST)  # no holidays nearby
TRACKING = Tracking(courier=Courier.CJ, number="123")


def order(
    oid: str,
    paid: datetime,
    *,
    quantity: int = 1,
    lines: int = 1,
    market: str | None = None,
    profile: RuleProfile = COUPANG,
) -> MarketOrder:
    """An order of ``profile``'s market (unless ``market`` says otherwise), due by its rule."""
    return MarketOrder(
        ref=OrderRef(market=market or profile.market, order_id=oid),
        lines=tuple(
            OrderLine(sku=f"S{i}", quantity=quantity, unit_price=10_000) for i in range(lines)
        ),
        paid_at=paid,
        ship_by=profile.ship_by_deadline(paid),
    )


def paid(o: MarketOrder) -> OrderPaid:
    return OrderPaid(order=o)


def cancelled(
    o: MarketOrder,
    at: datetime,
    fault: CancelFault = CancelFault.SELLER,
    reason: CancelReason = CancelReason.STOCK_OUT,
) -> OrderCancelled:
    return OrderCancelled(ref=o.ref, cancellation=Cancellation(fault=fault, reason=reason, at=at))


def shipped(o: MarketOrder, at: datetime) -> InvoiceUploaded:
    return InvoiceUploaded(ref=o.ref, at=at, tracking=TRACKING)


def feed(ledger: Ledger, events: list[Event]) -> Ledger:
    for event in events:
        ledger.observe(event)
    return ledger


def many(n: int, *, start: datetime = MONDAY, profile: RuleProfile = COUPANG) -> list[MarketOrder]:
    market = profile.market
    return [
        order(f"o{i}", start + timedelta(seconds=30 * i), market=market, profile=profile)
        for i in range(n)
    ]


# --------------------------------------------------------------------------- Coupang


def test_headroom_says_how_many_cancels_reach_coupang_warning() -> None:
    orders = many(100)
    ledger = feed(Ledger(COUPANG), [paid(o) for o in orders])
    now = MONDAY + timedelta(hours=2)  # before any ship-by deadline
    headroom = ledger.headroom(now)
    assert headroom.cancels_to_warning == 2  # 2/100 = 2% cancelled: fulfilment 98% < 99%
    assert headroom.cancels_to_sanction == 6  # 6/100: 94% < 95%
    assert headroom.metric == "order_fulfilment"
    assert headroom.status is MetricStatus.OK
    assert headroom.describe() == (
        "2 more seller-fault cancels reach the warning threshold of Coupang order fulfilment"
    )
    ledger.observe(cancelled(orders[0], now))
    after = ledger.headroom(now)
    assert after.cancels_to_warning == 1
    assert after.describe() == (
        "1 more seller-fault cancel reaches the warning threshold of Coupang order fulfilment"
    )
    ledger.observe(cancelled(orders[1], now))
    warned = ledger.headroom(now)
    assert warned.cancels_to_warning == 0
    assert warned.status is MetricStatus.WARNING
    assert warned.describe() == (
        "already at the warning threshold of Coupang order fulfilment; 4 more seller-fault "
        "cancels reach the sanction threshold of Coupang order fulfilment"
    )


COUPANG_FLOOR = COUPANG.metric("order_fulfilment").minimum_volume or 1


@settings(max_examples=40, deadline=None)
@given(paid_orders=st.integers(min_value=COUPANG_FLOOR, max_value=400), done=st.integers(0, 30))
def test_headroom_counts_and_words_are_the_cancels_that_reach_each_threshold(
    paid_orders: int, done: int
) -> None:
    """The number ``describe()`` gives is the number of cancels that *reaches* the threshold:
    one fewer leaves the metric short of it, that many puts it there."""
    orders = many(paid_orders)
    now = MONDAY + timedelta(hours=5)  # before any ship-by deadline
    events: list[Event] = [paid(o) for o in orders]
    events += [cancelled(o, now) for o in orders[: min(done, paid_orders)]]
    base = feed(Ledger(COUPANG), events)
    headroom = base.headroom(now)
    cancelled_so_far = min(done, paid_orders)
    warning, sanction = headroom.cancels_to_warning, headroom.cancels_to_sanction
    assert warning is not None  # Coupang's order fulfilment counts stock-outs
    assert sanction is not None
    text = headroom.describe()
    assert "before" not in text
    if sanction == 0:
        assert text.startswith("already at the sanction threshold")
    elif warning == 0:
        assert text.startswith("already at the warning threshold")
        assert f"; {_reach(sanction)} the sanction threshold" in text
    else:
        assert text.startswith(f"{_reach(warning)} the {headroom.warning_level.value} threshold")
    for count, level in ((warning, headroom.warning_level), (sanction, MetricStatus.SANCTION)):
        extra = orders[cancelled_so_far : cancelled_so_far + count]
        if count == 0 or len(extra) < count:  # there already, or too few orders left to cancel
            continue
        ledger = feed(Ledger(COUPANG), events)
        for o in extra[:-1]:
            ledger.observe(cancelled(o, now))
        short = ledger.report(now).metric("order_fulfilment").status
        assert _rank(short) < _rank(level)  # one fewer does not reach it
        ledger.observe(cancelled(extra[-1], now))
        assert _rank(ledger.report(now).metric("order_fulfilment").status) >= _rank(level)


def _reach(count: int) -> str:
    return f"{count} more seller-fault {'cancel reaches' if count == 1 else 'cancels reach'}"


def _rank(status: MetricStatus) -> int:
    return [MetricStatus.OK, MetricStatus.WARNING, MetricStatus.SANCTION].index(status)


def test_coupang_report_gives_value_ratio_status_and_expiry() -> None:
    orders = many(50)
    cancel_at = MONDAY + timedelta(hours=1)
    ledger = feed(Ledger(COUPANG), [*map(paid, orders), cancelled(orders[3], cancel_at)])
    report = ledger.report(MONDAY + timedelta(hours=2))
    fulfilment = report.metric("order_fulfilment")
    assert (fulfilment.numerator, fulfilment.denominator) == (1, 50)
    assert fulfilment.quantity is MetricQuantity.SUCCESS_RATE
    assert fulfilment.value == pytest.approx(0.98)
    assert fulfilment.status is MetricStatus.WARNING
    assert fulfilment.next_expiry == cancel_at + timedelta(days=7)
    assert fulfilment.window_start == MONDAY + timedelta(hours=2) - timedelta(
        days=7, microseconds=-1
    )
    on_time = report.metric("on_time_shipment")
    assert (on_time.numerator, on_time.denominator, on_time.value) == (0, 0, None)
    assert report.status is MetricStatus.WARNING
    assert "order fulfilment 98.0% (1/50" in fulfilment.describe()


def test_the_oldest_cancel_leaves_the_window_exactly_seven_days_later() -> None:
    orders = many(300)
    t = MONDAY + timedelta(hours=3)
    ledger = feed(Ledger(COUPANG), [*map(paid, orders), cancelled(orders[0], t)])
    leave = t + timedelta(days=7)
    assert (
        ledger.report(leave - timedelta(microseconds=1)).metric("order_fulfilment").numerator == 1
    )
    report = ledger.report(leave)
    assert report.metric("order_fulfilment").numerator == 0
    assert report.metric("order_fulfilment").next_expiry is None


def test_coupang_counts_a_stock_out_even_when_the_buyer_pressed_cancel() -> None:
    orders = many(10)
    at = MONDAY + timedelta(hours=1)
    events: list[Event] = [*map(paid, orders), cancelled(orders[0], at, CancelFault.BUYER)]
    coupang = compute_report(COUPANG, events, at).metric("order_fulfilment")
    assert coupang.numerator == 1
    naver_events: list[Event] = [
        *(paid(o) for o in many(10, profile=NAVER)),
        cancelled(many(10, profile=NAVER)[0], at, CancelFault.BUYER),
    ]
    assert compute_report(NAVER, naver_events, at).metric("penalty_points").numerator == 0


@pytest.mark.parametrize(
    ("fault", "reason", "coupang", "naver"),
    [
        (CancelFault.SELLER, CancelReason.STOCK_OUT, 1, 2),  # 품절취소: 2 Naver points
        (CancelFault.SELLER, CancelReason.PRICE_ERROR, 1, 0),  # seller fault, not 품절
        (CancelFault.BUYER, CancelReason.BUYER_REMORSE, 0, 0),
        (CancelFault.MARKET, CancelReason.OTHER, 0, 0),
        (CancelFault.BUYER, CancelReason.STOCK_OUT, 1, 0),  # Coupang: OOS whoever pressed
    ],
)
def test_cancel_reasons_are_taken_as_given(
    fault: CancelFault, reason: CancelReason, coupang: int, naver: int
) -> None:
    at = MONDAY + timedelta(hours=1)
    for profile, expected, name in (
        (COUPANG, coupang, "order_fulfilment"),
        (NAVER, naver, "penalty_points"),
    ):
        o = order("a", MONDAY, market=profile.market, profile=profile)
        event = cancelled(o, at, fault, reason)
        report = compute_report(profile, [paid(o), event], at)
        assert report.metric(name).numerator == expected
        assert event.cancellation.reason is reason  # never re-labelled


# --------------------------------------------------------------------------- group orders


def test_a_group_order_counts_once_per_order_or_twenty_per_unit() -> None:
    singles = many(200)
    group = order("G", MONDAY + timedelta(hours=2), quantity=20)
    per_unit = COUPANG.with_metric("order_fulfilment", unit=CountUnit.UNIT)
    now = MONDAY + timedelta(hours=3)
    events: list[Event] = [*map(paid, singles), paid(group)]

    by_order = feed(Ledger(COUPANG), events)
    by_unit = feed(Ledger(per_unit), events)
    # headroom for cancelling orders like the group order
    assert by_order.headroom(now, group).cancels_to_warning == 3  # 3/201 > 1%
    assert by_unit.headroom(now, group).cancels_to_warning == 1  # 20/220 > 1%
    assert by_unit.headroom(now).cancels_to_warning == 3  # 1-unit orders: 3/220 > 1%

    for ledger in (by_order, by_unit):
        ledger.observe(cancelled(group, now))
    order_metric = by_order.report(now).metric("order_fulfilment")
    unit_metric = by_unit.report(now).metric("order_fulfilment")
    assert (order_metric.numerator, order_metric.denominator) == (1, 201)
    assert order_metric.status is MetricStatus.OK
    assert (unit_metric.numerator, unit_metric.denominator) == (20, 220)
    assert unit_metric.status is MetricStatus.SANCTION  # 20/220 = 9.1% > 5%


def test_line_unit_counts_order_lines() -> None:
    o = order("L", MONDAY, quantity=20, lines=3, market="ebay", profile=EBAY)
    at = MONDAY + timedelta(hours=1)
    report = compute_report(EBAY, [paid(o), cancelled(o, at)], at)
    defects = report.metric("transaction_defect_rate")
    assert (defects.numerator, defects.denominator) == (3, 3)


def test_project_weighs_each_pending_order_by_its_own_size() -> None:
    per_unit = COUPANG.with_metric("order_fulfilment", unit=CountUnit.UNIT)
    singles = many(100)
    group = order("G", MONDAY + timedelta(hours=1), quantity=20)
    ledger = feed(Ledger(per_unit), [*map(paid, singles), paid(group)])
    now = MONDAY + timedelta(hours=2)
    ledger.advance(now)  # a query moves the clock; projecting records nothing else
    before = ledger.snapshot()
    projected = ledger.project(now, [group, singles[0], group])  # repeats are skipped
    metric = projected.metric("order_fulfilment")
    assert (metric.numerator, metric.denominator) == (21, 120)
    assert metric.status is MetricStatus.SANCTION
    assert metric.next_expiry == now + timedelta(days=7)
    assert ledger.snapshot() == before
    assert ledger.report(now).metric("order_fulfilment").numerator == 0


# --------------------------------------------------------------------------- Naver


def naver_orders(n: int) -> list[MarketOrder]:
    return many(n, profile=NAVER)


def test_naver_sanction_needs_ten_points_and_forty_percent() -> None:
    orders = naver_orders(25)
    at = MONDAY + timedelta(hours=1)
    ledger = feed(Ledger(NAVER), [*map(paid, orders), *(cancelled(o, at) for o in orders[:4])])
    metric = ledger.report(at).metric("penalty_points")
    assert (metric.numerator, metric.denominator, metric.status) == (8, 25, MetricStatus.OK)
    headroom = ledger.headroom(at)
    assert (headroom.cancels_to_warning, headroom.cancels_to_sanction) == (1, 1)
    assert headroom.warning_level is MetricStatus.SANCTION  # Naver has no warning level
    assert headroom.describe() == (
        "1 more seller-fault cancel reaches the sanction threshold of Naver SmartStore "
        "penalty points"
    )
    ledger.observe(cancelled(orders[4], at))
    assert ledger.report(at).metric("penalty_points").status is MetricStatus.SANCTION


def test_naver_ten_points_on_fifty_orders_is_not_a_sanction() -> None:
    orders = naver_orders(50)
    at = MONDAY + timedelta(hours=1)
    ledger = feed(Ledger(NAVER), [*map(paid, orders), *(cancelled(o, at) for o in orders[:5])])
    metric = ledger.report(at).metric("penalty_points")
    assert (metric.numerator, metric.denominator, metric.status) == (10, 50, MetricStatus.OK)
    # (10 + 2k) / 50 >= 40%  ->  k = 5
    assert ledger.headroom(at).cancels_to_sanction == 5


def test_naver_chuseok_2025_moratorium_and_next_business_day_booking() -> None:
    a = order("A", datetime(2025, 9, 25, 10, tzinfo=KST), market="naver", profile=NAVER)
    b = order("B", datetime(2025, 9, 30, 10, tzinfo=KST), market="naver", profile=NAVER)
    c = order("C", datetime(2025, 10, 2, 10, tzinfo=KST), market="naver", profile=NAVER)
    assert a.ship_by == datetime(2025, 10, 1, tzinfo=KST)  # 9/30 24:00
    assert b.ship_by == datetime(2025, 10, 11, tzinfo=KST)  # 10/10 24:00
    events: list[Event] = [
        paid(a),
        paid(b),
        shipped(a, datetime(2025, 10, 2, 9, tzinfo=KST)),  # late: booked 10/1, suspended
        paid(c),
        cancelled(c, datetime(2025, 10, 5, 11, tzinfo=KST)),  # 품절취소 is not suspended
    ]
    ledger = feed(Ledger(NAVER), events)
    on_oct_12 = ledger.report(datetime(2025, 10, 12, 23, tzinfo=KST)).metric("penalty_points")
    assert (on_oct_12.numerator, on_oct_12.suspended) == (2, 1)
    # B's 10/10 deadline is penalised on Monday 10/13, the next business day [N5]
    on_oct_13 = ledger.report(datetime(2025, 10, 13, tzinfo=KST)).metric("penalty_points")
    assert (on_oct_13.numerator, on_oct_13.suspended, on_oct_13.denominator) == (3, 1, 3)


def test_naver_long_delay_adds_three_points() -> None:
    o = order("D", MONDAY, market="naver", profile=NAVER)  # ship by Thu 11/6 24:00
    ledger = feed(Ledger(NAVER), [paid(o)])
    assert (
        ledger.report(datetime(2025, 11, 6, 23, tzinfo=KST)).metric("penalty_points").numerator == 0
    )
    assert ledger.report(datetime(2025, 11, 7, tzinfo=KST)).metric("penalty_points").numerator == 1
    # 4 business days after 11/6 is 11/12; still unshipped at its end -> +3 on 11/13
    assert (
        ledger.report(datetime(2025, 11, 12, 23, tzinfo=KST)).metric("penalty_points").numerator
        == 1
    )
    assert ledger.report(datetime(2025, 11, 13, tzinfo=KST)).metric("penalty_points").numerator == 4

    shipped_in_time = feed(
        Ledger(NAVER), [paid(o), shipped(o, datetime(2025, 11, 12, 15, tzinfo=KST))]
    )
    report = shipped_in_time.report(datetime(2025, 11, 20, tzinfo=KST))
    assert report.metric("penalty_points").numerator == 1


def test_a_stock_out_moratorium_makes_cancels_harmless_for_headroom() -> None:
    amnesty = Moratorium(
        start=date(2025, 11, 1),
        end=date(2025, 11, 30),
        suspended=frozenset({PenaltyKind.STOCK_OUT_CANCEL}),
        market="naver",
    )
    profile = NAVER.with_moratoria(amnesty)
    ledger = feed(Ledger(profile), [paid(o) for o in naver_orders(5)])
    headroom = ledger.headroom(MONDAY + timedelta(hours=1))
    assert (headroom.cancels_to_warning, headroom.cancels_to_sanction) == (None, None)
    assert "cannot reach" in headroom.describe()
    # a calendar moratorium for every market works the same way
    calendar = BusinessCalendar(moratoria=(attrs.evolve(amnesty, market=None),))
    ledger = feed(Ledger(NAVER, calendar=calendar), [paid(o) for o in naver_orders(5)])
    assert ledger.headroom(MONDAY + timedelta(hours=1)).cancels_to_sanction is None


# --------------------------------------------------------------------------- Amazon, eBay


def test_amazon_exactly_two_and_a_half_percent_is_a_sanction() -> None:
    orders = many(40, profile=AMAZON)
    at = MONDAY + timedelta(hours=1)
    report = compute_report(AMAZON, [*map(paid, orders), cancelled(orders[0], at)], at)
    rate = report.metric("cancellation_rate")
    assert rate.value == pytest.approx(0.025)
    assert rate.status is MetricStatus.SANCTION  # the target is < 2.5%


def test_ebay_needs_both_the_rate_and_the_defect_count_for_below_standard() -> None:
    orders = many(100, profile=EBAY)
    at = MONDAY + timedelta(hours=1)
    four = compute_report(EBAY, [*map(paid, orders), *(cancelled(o, at) for o in orders[:4])], at)
    defects = four.metric("transaction_defect_rate")
    assert defects.status is MetricStatus.WARNING  # 4% but only 4 defects: lost Top Rated
    assert defects.cancels_to_sanction == 1
    five = compute_report(EBAY, [*map(paid, orders), *(cancelled(o, at) for o in orders[:5])], at)
    assert five.metric("transaction_defect_rate").status is MetricStatus.SANCTION


def test_a_rate_exactly_at_a_strict_threshold_does_not_meet_it() -> None:
    orders = many(250, profile=EBAY)
    at = MONDAY + timedelta(hours=3)
    events: list[Event] = [*map(paid, orders), *(cancelled(o, at) for o in orders[:5])]
    defects = compute_report(EBAY, events, at).metric("transaction_defect_rate")
    assert defects.value == pytest.approx(0.02)  # 5 / 250: not "> 2%"
    assert defects.status is MetricStatus.WARNING
    assert (defects.cancels_to_warning, defects.cancels_to_sanction) == (0, 1)


def test_headroom_description_does_not_claim_a_sanction_the_cancels_have_not_reached() -> None:
    """Late shipments put Amazon's late-shipment rates in sanction; the cancellation rate is
    still at 0 of 100, 3 stock-outs away from its 2.5% target."""
    orders = [order(f"A{i}", MONDAY + timedelta(minutes=i), profile=AMAZON) for i in range(100)]
    ledger = Ledger(AMAZON)
    for o in orders:  # none ever ships: all late at their deadline
        ledger.observe(OrderPaid(order=o))
    now = MONDAY + timedelta(days=4)
    assert ledger.report(now).metric("late_shipment_rate_10d").status is MetricStatus.SANCTION
    headroom = ledger.headroom(now)
    assert headroom.status is MetricStatus.SANCTION
    assert (headroom.cancels_to_warning, headroom.cancels_to_sanction) == (3, 3)
    assert headroom.describe() == (
        "3 more seller-fault cancels reach the sanction threshold of Amazon cancellation rate"
    )


# --------------------------------------------------------------------------- late shipments


def late_only(late_booking: str = "deadline") -> RuleProfile:
    """Late shipments over orders due, 7 days; warning at the first one."""
    return RuleProfile(
        market="coupang",
        display_name="Test",
        metrics=(
            MetricSpec(
                name="late",
                title="late shipments",
                counts=(PointWeight(event=CountedEvent.LATE_SHIPMENT),),
                denominator=Denominator.ORDERS_DUE,
                window=Window.rolling_days(7),
                warning=Threshold.all_of(Condition.count_at_least(1)),
            ),
        ),
        ship_by=ShipByRule(business_days=1, late_booking=LateBooking(late_booking)),
    )


def test_a_late_shipment_is_counted_when_the_deadline_passes_with_no_event() -> None:
    o = order("x", MONDAY)
    ledger = feed(Ledger(late_only()), [paid(o)])
    before = ledger.report(o.ship_by - timedelta(microseconds=1)).metric("late")
    assert (before.numerator, before.denominator) == (0, 0)
    at = ledger.report(o.ship_by).metric("late")
    assert (at.numerator, at.denominator) == (1, 1)


@pytest.mark.parametrize(
    ("offset", "late"),
    [(timedelta(microseconds=-1), 0), (timedelta(0), 1), (timedelta(hours=5), 1)],
)
def test_shipping_strictly_before_the_deadline_is_on_time(offset: timedelta, late: int) -> None:
    for booking in ("deadline", "next_business_day"):
        o = order("x", MONDAY)
        ledger = feed(Ledger(late_only(booking)), [paid(o), shipped(o, o.ship_by + offset)])
        metric = ledger.report(o.ship_by + timedelta(days=3)).metric("late")
        assert (metric.numerator, metric.denominator) == (late, 1)


def test_an_order_cancelled_before_its_deadline_is_not_due() -> None:
    o = order("x", MONDAY)
    ledger = feed(Ledger(late_only()), [paid(o), cancelled(o, MONDAY + timedelta(hours=1))])
    metric = ledger.report(o.ship_by + timedelta(days=1)).metric("late")
    assert (metric.numerator, metric.denominator) == (0, 0)


def test_a_delivery_without_a_waybill_counts_as_the_shipment() -> None:
    o = order("x", MONDAY)
    events: list[Event] = [paid(o), Delivered(ref=o.ref, at=MONDAY + timedelta(hours=3))]
    metric = compute_report(late_only(), events, o.ship_by + timedelta(days=1)).metric("late")
    assert (metric.numerator, metric.denominator) == (0, 1)


def due_rate_profile() -> RuleProfile:
    """Stock-out cancels over orders due: a denominator that moves at deadlines only."""
    return RuleProfile(
        market="coupang",
        display_name="Test",
        metrics=(
            MetricSpec(
                name="per_due",
                title="cancels per order due",
                counts=(PointWeight(event=CountedEvent.STOCK_OUT_CANCEL),),
                denominator=Denominator.ORDERS_DUE,
                window=Window.rolling_days(7),
                sanction=Threshold.all_of(Condition.rate_at_least(1.0)),
            ),
        ),
        ship_by=ShipByRule(business_days=1),
    )


def test_headroom_follows_a_denominator_that_moves_at_a_deadline() -> None:
    orders = [order(f"o{i}", MONDAY + timedelta(minutes=i)) for i in range(2)]
    ledger = feed(Ledger(due_rate_profile()), [*map(paid, orders)])
    ledger.observe(shipped(orders[0], MONDAY + timedelta(hours=2)))
    ledger.observe(shipped(orders[1], MONDAY + timedelta(hours=2)))
    assert ledger.headroom(MONDAY + timedelta(hours=3)).cancels_to_sanction == 1  # 1/0: +inf
    after = orders[0].ship_by + timedelta(hours=1)  # both were due, on time: 2 due
    assert ledger.headroom(after).cancels_to_sanction == 2  # 2/2 >= 100%


def test_a_waybill_for_a_forgotten_order_counts_as_unknown() -> None:
    per_shipped = RuleProfile(
        market="coupang",
        display_name="Test",
        metrics=(
            MetricSpec(
                name="late_per_shipped",
                title="late per shipped",
                counts=(PointWeight(event=CountedEvent.LATE_SHIPMENT),),
                unit=CountUnit.UNIT,
                denominator=Denominator.ORDERS_SHIPPED,
                window=Window.rolling_days(7),
            ),
        ),
        ship_by=ShipByRule(business_days=1),
    )
    o = order("x", MONDAY, quantity=5)
    ledger = feed(Ledger(per_shipped), [paid(o), shipped(o, MONDAY + timedelta(hours=1))])
    ledger.observe(shipped(o, MONDAY + timedelta(hours=2)))  # a duplicate: ignored
    assert ledger.report(MONDAY + timedelta(hours=3)).metric("late_per_shipped").denominator == 5
    later = MONDAY + timedelta(days=7, hours=2)  # the order is forgotten after 7 days
    ledger.observe(shipped(o, later))
    assert ledger.report(later).metric("late_per_shipped").denominator == 1  # unknown: weight 1


# --------------------------------------------------------------------------- calendar month


def test_a_calendar_month_window_restarts_on_the_first_in_kst() -> None:
    monthly = RuleProfile(
        market="auction",
        display_name="Auction",
        metrics=(
            MetricSpec(
                name="cancel_rate",
                title="sale cancel rate",
                counts=(PointWeight(event=CountedEvent.STOCK_OUT_CANCEL),),
                denominator=Denominator.ORDERS_PAID,
                window=Window.calendar_months(1),
                sanction=Threshold.all_of(Condition.rate_at_least(0.05)),
            ),
        ),
        ship_by=ShipByRule(business_days=3),
    )
    sept = order("a", datetime(2025, 9, 10, 10, tzinfo=KST), market="auction", profile=monthly)
    late_sept = datetime(2025, 9, 30, 14, 59, tzinfo=timezone.utc)  # 23:59 KST, still Sept
    ledger = feed(Ledger(monthly), [paid(sept), cancelled(sept, late_sept)])
    in_sept = ledger.report(datetime(2025, 9, 30, 23, 59, 30, tzinfo=KST)).metric("cancel_rate")
    assert (in_sept.numerator, in_sept.denominator) == (1, 1)
    assert in_sept.window_start == datetime(2025, 9, 1, tzinfo=KST)
    assert in_sept.next_expiry == datetime(2025, 10, 1, tzinfo=KST)
    in_oct = ledger.report(datetime(2025, 9, 30, 15, 0, tzinfo=timezone.utc)).metric("cancel_rate")
    assert (in_oct.numerator, in_oct.denominator) == (0, 0)
    assert in_oct.window_start == datetime(2025, 10, 1, tzinfo=KST)


# --------------------------------------------------------------------------- stream rules


def test_an_event_earlier_than_the_clock_names_both_times() -> None:
    ledger = Ledger(COUPANG)
    ledger.observe(paid(order("a", MONDAY)))
    with pytest.raises(DomainError) as info:
        ledger.observe(paid(order("b", MONDAY - timedelta(minutes=1))))
    message = str(info.value)
    assert "2025-11-03T09:59:00+09:00" in message
    assert "2025-11-03T10:00:00+09:00" in message
    with pytest.raises(DomainError, match="earlier"):
        ledger.headroom(MONDAY - timedelta(seconds=1))


def test_equal_times_are_allowed() -> None:
    orders = [order(f"o{i}", MONDAY) for i in range(3)]
    ledger = feed(Ledger(COUPANG), [*map(paid, orders), cancelled(orders[0], MONDAY)])
    assert ledger.report(MONDAY).metric("order_fulfilment").numerator == 1


def test_time_order_is_checked_on_instants_not_wall_clock_in_a_zone_with_dst() -> None:
    zone = FallBackZone()
    first = datetime(2025, 11, 2, 1, 30, tzinfo=zone)  # 05:30 UTC
    second = datetime(2025, 11, 2, 1, 10, tzinfo=zone, fold=1)  # 06:10 UTC: 40 minutes later
    assert second.astimezone(timezone.utc) > first.astimezone(timezone.utc)
    a = order("a", first, profile=AMAZON)
    b = order("b", second, profile=AMAZON)
    events: list[Event] = [OrderPaid(order=b), OrderPaid(order=a)]  # compute_report sorts
    report = compute_report(AMAZON, events, second)
    assert report.metric("cancellation_rate").denominator == 2
    ledger = Ledger(AMAZON)
    ledger.observe(OrderPaid(order=b))
    with pytest.raises(DomainError, match="earlier than the ledger's current time"):
        ledger.observe(OrderPaid(order=a))  # really 40 minutes earlier


@settings(max_examples=examples(200), deadline=None)
@given(st.integers(0, 179), st.booleans(), st.integers(0, 179), st.booleans(), st.booleans())
def test_the_ledger_rejects_exactly_the_events_earlier_in_real_time(
    first_minute: int, first_fold: bool, second_minute: int, second_fold: bool, query: bool
) -> None:
    zone = FallBackZone()
    base = datetime(2025, 11, 2, 0, 0, tzinfo=zone)
    first = base.replace(hour=first_minute // 60, minute=first_minute % 60, fold=first_fold)
    second = base.replace(hour=second_minute // 60, minute=second_minute % 60, fold=second_fold)
    ledger = Ledger(AMAZON)
    ledger.observe(OrderPaid(order=order("a", first, profile=AMAZON)))
    later = order("b", second, profile=AMAZON)
    earlier = second.astimezone(timezone.utc) < first.astimezone(timezone.utc)
    if earlier and query:
        with pytest.raises(DomainError, match="earlier than the ledger's current time"):
            ledger.headroom(second)
    elif earlier:
        with pytest.raises(DomainError, match="earlier than the ledger's current time"):
            ledger.observe(OrderPaid(order=later))
    elif query:
        assert ledger.headroom(second).cancels_to_sanction == 1  # of 1 order: 100% >= 2.5%
    else:
        ledger.observe(OrderPaid(order=later))
        assert ledger.report(second).metric("cancellation_rate").denominator == 2


@pytest.mark.parametrize("method", ["advance", "report", "headroom"])
def test_a_naive_now_is_rejected_naming_the_argument(method: str) -> None:
    ledger = Ledger(COUPANG)
    with pytest.raises(NaiveDatetimeError, match="now"):
        getattr(ledger, method)(datetime(2025, 11, 3, 10))  # noqa: DTZ001
    with pytest.raises(NaiveDatetimeError, match="now"):
        ledger.project(datetime(2025, 11, 3, 10), [])  # noqa: DTZ001
    with pytest.raises(NaiveDatetimeError, match="now"):
        compute_report(COUPANG, [], datetime(2025, 11, 3, 10))  # noqa: DTZ001


def test_irrelevant_events_and_other_markets_only_move_the_clock() -> None:
    o = order("a", MONDAY)
    other = order("b", MONDAY, market="naver")
    shouty = order("c", MONDAY, market="Coupang")  # market names match case-insensitively
    at = MONDAY + timedelta(hours=1)
    events: list[Event] = [
        paid(o),
        paid(other),
        paid(shouty),
        SupplierOrderPlaced(
            ref=o.ref, at=at, supplier_id="S", supplier_order_id="D", item_id="I", quantity=1
        ),
        MarketAcknowledged(ref=o.ref, at=at),
        cancelled(other, at),
    ]
    ledger = feed(Ledger(COUPANG), events)
    metric = ledger.report(at).metric("order_fulfilment")
    assert (metric.numerator, metric.denominator) == (0, 2)
    assert ledger.now == at


def test_duplicate_events_of_a_remembered_order_are_ignored() -> None:
    o = order("a", MONDAY)
    at = MONDAY + timedelta(hours=1)
    events: list[Event] = [paid(o), paid(o), cancelled(o, at), cancelled(o, at)]
    metric = compute_report(COUPANG, events, at).metric("order_fulfilment")
    assert (metric.numerator, metric.denominator) == (1, 1)


def test_a_cancel_of_an_order_never_seen_paid_counts_with_weight_one() -> None:
    per_unit = COUPANG.with_metric("order_fulfilment", unit=CountUnit.UNIT, minimum_volume=None)
    stranger = order("z", MONDAY, quantity=20)
    at = MONDAY + timedelta(hours=1)
    metric = compute_report(per_unit, [cancelled(stranger, at)], at).metric("order_fulfilment")
    assert (metric.numerator, metric.denominator, metric.value) == (1, 0, None)
    assert metric.status is MetricStatus.SANCTION  # a cancel over no orders: rate +inf
    # with the built-in floor, no orders in the window is below it: not evaluated
    floored = compute_report(COUPANG, [cancelled(stranger, at)], at).metric("order_fulfilment")
    assert (floored.numerator, floored.evaluated, floored.status) == (1, False, MetricStatus.OK)


def test_memory_is_bounded_by_the_longest_window() -> None:
    ledger = Ledger(COUPANG)
    assert ledger.retention == timedelta(days=7)
    start = MONDAY
    for day in range(60):
        batch = [order(f"d{day}-{i}", start + timedelta(days=day, minutes=i)) for i in range(50)]
        feed(
            ledger,
            [*map(paid, batch), *(shipped(o, o.paid_at + timedelta(hours=2)) for o in batch)],
        )
    report = ledger.report(start + timedelta(days=59, hours=12))
    assert report.orders_remembered <= 8 * 50
    state = ledger.snapshot()
    assert all(len(w.denominator) <= 8 * 50 for w in state.metrics)
    idle = ledger.report(start + timedelta(days=120))
    assert idle.orders_remembered == 0
    assert all(not w.denominator and not w.numerator for w in ledger.snapshot().metrics)


def test_project_reports_only_the_orders_still_remembered_at_its_instant() -> None:
    orders = [order(f"C{i}", MONDAY + timedelta(minutes=i)) for i in range(10)]
    ledger = Ledger(COUPANG)
    for o in orders:
        ledger.observe(OrderPaid(order=o))
    for o in orders:
        ledger.observe(shipped(o, MONDAY + timedelta(hours=1)))
    later = MONDAY + timedelta(days=7, hours=1)  # every order is past the 7-day retention
    assert ledger.project(later, []).orders_remembered == 0
    assert ledger.report(later).orders_remembered == 0


def test_compute_report_sorts_and_ignores_events_after_now() -> None:
    orders = many(10)
    at = MONDAY + timedelta(hours=1)
    later = cancelled(orders[1], at + timedelta(hours=1))
    events: list[Event] = [later, cancelled(orders[0], at), *map(paid, orders)]
    metric = compute_report(COUPANG, events, at).metric("order_fulfilment")
    assert (metric.numerator, metric.denominator) == (1, 10)


def test_snapshot_round_trips_exactly_through_json() -> None:
    orders = many(30, profile=NAVER)
    at = MONDAY + timedelta(days=5)
    ledger = feed(
        Ledger(NAVER),
        [*map(paid, orders), cancelled(orders[0], MONDAY + timedelta(hours=1))],
    )
    ledger.advance(at)
    state = ledger.snapshot()
    text = json.dumps(unstructure(state), ensure_ascii=False)
    restored = Ledger.from_snapshot(structure(json.loads(text), LedgerState))
    assert restored.snapshot() == state
    assert restored.report(at) == ledger.report(at)
    later = at + timedelta(days=2)
    assert restored.report(later) == ledger.report(later)


def test_from_snapshot_rejects_a_state_of_another_profile() -> None:
    state = Ledger(COUPANG).snapshot()
    with pytest.raises(ConfigurationError, match="do not match"):
        Ledger.from_snapshot(attrs.evolve(state, metrics=state.metrics[:1]))


def test_the_ledger_rejects_a_non_profile() -> None:
    with pytest.raises(ConfigurationError, match="RuleProfile"):
        Ledger("coupang")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="BusinessCalendar"):
        Ledger(COUPANG, calendar="KR")  # type: ignore[arg-type]


def test_observing_something_that_is_not_an_event_is_a_validation_error() -> None:
    ledger = Ledger(COUPANG)
    with pytest.raises(ValidationError, match="event must be") as info:
        ledger.observe("OrderPaid")  # type: ignore[arg-type]
    assert info.value.field == "event"
    assert info.value.value == "OrderPaid"


def test_from_snapshot_rejects_something_that_is_not_a_ledger_state() -> None:
    with pytest.raises(ConfigurationError, match="LedgerState"):
        Ledger.from_snapshot({"profile": "coupang"})  # type: ignore[arg-type]


def test_headroom_ignores_a_metric_that_cancels_cannot_move() -> None:
    """Late shipments put on-time shipment in warning; cancels still have room on fulfilment."""
    ledger = Ledger(COUPANG)
    start = datetime(2025, 11, 3, 9, 0, tzinfo=KST)
    for i in range(300):
        paid = start + timedelta(minutes=10 * i)
        order = MarketOrder(
            ref=OrderRef(market="coupang", order_id=f"o{i}"),
            lines=[OrderLine(sku="A", quantity=1, unit_price=1_000)],
            paid_at=paid,
            ship_by=paid + timedelta(hours=6),
        )
        ledger.observe(OrderPaid(order=order))  # none is ever shipped: all late
    now = start + timedelta(days=2, hours=12)
    report = ledger.report(now)
    assert report.metric("on_time_shipment").status is not MetricStatus.OK
    fulfilment = report.metric("order_fulfilment")
    room = ledger.headroom(now)
    assert fulfilment.cancels_to_warning is not None
    assert fulfilment.cancels_to_warning > 0
    assert room.cancels_to_warning == fulfilment.cancels_to_warning
    assert room.metric == "order_fulfilment"
    assert room.status is not MetricStatus.OK  # the worst current status is still reported


# --------------------------------------------------------------------------- minimum volume


def _floorless(profile: RuleProfile) -> RuleProfile:
    for metric in profile.metrics:
        profile = profile.with_metric(metric.name, minimum_volume=None)
    return profile


@settings(max_examples=60, deadline=None)
@given(
    floor=st.integers(1, 40),
    volume=st.integers(0, 60),
    cancels=st.integers(0, 10),
)
def test_below_its_minimum_volume_a_metric_is_not_evaluated_and_above_it_nothing_changes(
    floor: int, volume: int, cancels: int
) -> None:
    profile = COUPANG.with_metric("order_fulfilment", minimum_volume=floor)
    orders = many(volume)
    now = MONDAY + timedelta(hours=5)  # before any ship-by deadline
    events: list[Event] = [paid(o) for o in orders]
    events += [cancelled(o, now) for o in orders[:cancels]]
    floored = feed(Ledger(profile), events)
    plain = feed(Ledger(_floorless(profile)), events)
    got = floored.report(now).metric("order_fulfilment")
    bare = plain.report(now).metric("order_fulfilment")
    assert (got.numerator, got.denominator, got.value) == (bare.numerator, volume, bare.value)
    assert got.minimum_volume == floor
    if volume >= floor:
        assert got.evaluated
        assert got.reason == ""
        assert (got.status, got.cancels_to_warning, got.cancels_to_sanction) == (
            bare.status,
            bare.cancels_to_warning,
            bare.cancels_to_sanction,
        )
        assert floored.headroom(now) == plain.headroom(now)
    else:
        assert not got.evaluated
        assert got.status is MetricStatus.OK
        assert (got.cancels_to_warning, got.cancels_to_sanction) == (None, None)
        assert got.reason == (
            f"not evaluated: {volume} order{'' if volume == 1 else 's'} paid in the window, "
            f"below the minimum volume of {floor}"
        )
        assert got.describe().endswith(f": ok, {got.reason}")
        headroom = floored.headroom(now)
        assert (headroom.cancels_to_warning, headroom.cancels_to_sanction) == (None, None)


def test_a_brand_new_coupang_account_is_not_rated_on_its_first_cancel() -> None:
    first = order("first", MONDAY)
    ledger = feed(Ledger(COUPANG), [paid(first)])
    headroom = ledger.headroom(MONDAY)
    assert (headroom.cancels_to_warning, headroom.cancels_to_sanction) == (None, None)
    assert headroom.status is MetricStatus.OK
    plain = feed(Ledger(_floorless(COUPANG)), [paid(first)]).headroom(MONDAY)
    assert (plain.cancels_to_warning, plain.cancels_to_sanction) == (1, 1)  # the old pricing
    at = MONDAY + timedelta(hours=1)
    ledger.observe(cancelled(first, at))
    report = ledger.report(at)
    fulfilment = report.metric("order_fulfilment")
    assert (fulfilment.value, fulfilment.status, fulfilment.evaluated) == (
        0.0,
        MetricStatus.OK,
        False,
    )
    assert report.status is MetricStatus.OK


def test_the_cancel_still_counts_once_the_volume_reaches_the_floor() -> None:
    floor = COUPANG.metric("order_fulfilment").minimum_volume
    assert floor is not None
    first = order("first", MONDAY)
    ledger = feed(Ledger(COUPANG), [paid(first), cancelled(first, MONDAY + timedelta(minutes=1))])
    rest = many(floor - 1, start=MONDAY + timedelta(minutes=2))
    for o in rest[:-1]:
        ledger.observe(paid(o))
    at = rest[-1].paid_at
    assert not ledger.report(at).metric("order_fulfilment").evaluated  # one order short
    ledger.observe(paid(rest[-1]))
    fulfilment = ledger.report(at).metric("order_fulfilment")
    assert fulfilment.evaluated
    assert fulfilment.denominator == floor
    expected = compute_report(
        _floorless(COUPANG), [paid(first), cancelled(first, MONDAY), *map(paid, rest)], at
    ).metric("order_fulfilment")
    assert (fulfilment.numerator, fulfilment.status) == (1, expected.status)
    assert fulfilment.status is not MetricStatus.OK  # 1 cancel in 20 is under 99%


def test_a_floored_ledger_snapshot_continues_identically() -> None:
    orders = many(5)
    at = MONDAY + timedelta(hours=1)
    ledger = feed(Ledger(COUPANG), [*map(paid, orders), cancelled(orders[0], at)])
    back = Ledger.from_snapshot(
        structure(json.loads(json.dumps(unstructure(ledger.snapshot()))), LedgerState)
    )
    assert back.report(at) == ledger.report(at)
    assert back.profile.metric("order_fulfilment").minimum_volume == 20


def test_naver_penalty_points_are_described_as_points_with_their_ratio() -> None:
    orders = many(25, profile=NAVER)
    now = MONDAY + timedelta(hours=20)
    ledger = feed(Ledger(NAVER), [*map(paid, orders), *(cancelled(o, now) for o in orders[:4])])
    points = ledger.report(now).metric("penalty_points")
    n, d = points.numerator, points.denominator
    assert d is not None
    assert points.counts_points
    text = points.describe()
    assert text.startswith(f"penalty points {n} points ({n}/{d} = {n / d * 100:.1f}%, window")
    assert points.value is not None
    assert f"{points.value * 100:.1f}% (" not in text  # the rate is not the headline


def test_a_rate_metric_is_still_described_as_a_percentage() -> None:
    orders = many(50)
    at = MONDAY + timedelta(hours=1)
    ledger = feed(Ledger(COUPANG), [*map(paid, orders), cancelled(orders[0], at)])
    fulfilment = ledger.report(at).metric("order_fulfilment")
    assert not fulfilment.counts_points
    assert fulfilment.value is not None
    assert fulfilment.describe().startswith(
        f"order fulfilment {fulfilment.value * 100:.1f}% (1/50,"
    )
