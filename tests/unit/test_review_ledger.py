"""Regression tests from a review of the ledger, the rule profiles and the calendar."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consign_core.domain.calendar import DEFAULT_CALENDAR, KST, NAVER_CHUSEOK_2025, PenaltyKind
from consign_core.domain.cancel_rate import Ledger, compute_report
from consign_core.domain.events import Event, InvoiceUploaded, OrderPaid
from consign_core.domain.model import MarketOrder, OrderLine, OrderRef, Tracking
from consign_core.domain.rules import AMAZON, COUPANG, MetricStatus, RuleProfile
from consign_core.errors import ConfigurationError, DomainError, ValidationError
from tests._zones import FallBackZone


MONDAY = datetime(2025, 11, 3, 9, 0, tzinfo=KST)  # no holidays nearby


def order(oid: str, paid: datetime, profile: RuleProfile = COUPANG) -> MarketOrder:
    return MarketOrder(
        ref=OrderRef(market=profile.market, order_id=oid),
        lines=(OrderLine(sku="MUG-01", quantity=1, unit_price=12_900),),
        paid_at=paid,
        ship_by=profile.ship_by_deadline(paid),
    )


# ------------------------------------------------------------------ cancel_rate


def test_headroom_description_does_not_claim_a_sanction_the_cancels_have_not_reached() -> None:
    """Late shipments put Amazon's late-shipment rates in sanction; the cancellation rate is
    still at 0 of 100, 3 stock-outs away from its 2.5% target."""
    orders = [order(f"A{i}", MONDAY + timedelta(minutes=i), AMAZON) for i in range(100)]
    ledger = Ledger(AMAZON)
    for o in orders:  # none ever ships: all late at their deadline
        ledger.observe(OrderPaid(order=o))
    now = MONDAY + timedelta(days=4)
    assert ledger.report(now).metric("late_shipment_rate_10d").status is MetricStatus.SANCTION
    headroom = ledger.headroom(now)
    assert headroom.status is MetricStatus.SANCTION
    assert (headroom.cancels_to_warning, headroom.cancels_to_sanction) == (3, 3)
    assert headroom.describe() == (
        "3 more seller-fault cancels before the sanction threshold of Amazon cancellation rate"
    )


def test_project_reports_only_the_orders_still_remembered_at_its_instant() -> None:
    orders = [order(f"C{i}", MONDAY + timedelta(minutes=i)) for i in range(10)]
    ledger = Ledger(COUPANG)
    for o in orders:
        ledger.observe(OrderPaid(order=o))
    tracking = Tracking(courier="CJGLS", number="640012345678")
    for o in orders:
        ledger.observe(
            InvoiceUploaded(ref=o.ref, at=MONDAY + timedelta(hours=1), tracking=tracking)
        )
    later = MONDAY + timedelta(days=7, hours=1)  # every order is past the 7-day retention
    assert ledger.project(later, []).orders_remembered == 0
    assert ledger.report(later).orders_remembered == 0


def test_time_order_is_checked_on_instants_not_wall_clock_in_a_zone_with_dst() -> None:
    zone = FallBackZone()
    first = datetime(2025, 11, 2, 1, 30, tzinfo=zone)  # 05:30 UTC
    second = datetime(2025, 11, 2, 1, 10, tzinfo=zone, fold=1)  # 06:10 UTC: 40 minutes later
    assert second.astimezone(timezone.utc) > first.astimezone(timezone.utc)
    a = order("a", first, AMAZON)
    b = order("b", second, AMAZON)
    events: list[Event] = [OrderPaid(order=b), OrderPaid(order=a)]  # compute_report sorts
    report = compute_report(AMAZON, events, second)
    assert report.metric("cancellation_rate").denominator == 2
    ledger = Ledger(AMAZON)
    ledger.observe(OrderPaid(order=b))
    with pytest.raises(DomainError, match="earlier than the ledger's current time"):
        ledger.observe(OrderPaid(order=a))  # really 40 minutes earlier


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 179), st.booleans(), st.integers(0, 179), st.booleans(), st.booleans())
def test_the_ledger_rejects_exactly_the_events_earlier_in_real_time(
    first_minute: int, first_fold: bool, second_minute: int, second_fold: bool, query: bool
) -> None:
    zone = FallBackZone()
    base = datetime(2025, 11, 2, 0, 0, tzinfo=zone)
    first = base.replace(hour=first_minute // 60, minute=first_minute % 60, fold=first_fold)
    second = base.replace(hour=second_minute // 60, minute=second_minute % 60, fold=second_fold)
    ledger = Ledger(AMAZON)
    ledger.observe(OrderPaid(order=order("a", first, AMAZON)))
    later = order("b", second, AMAZON)
    earlier = second.astimezone(timezone.utc) < first.astimezone(timezone.utc)
    if earlier:
        with pytest.raises(DomainError, match="earlier than the ledger's current time"):
            _ = ledger.headroom(second) if query else ledger.observe(OrderPaid(order=later))
    elif query:
        assert ledger.headroom(second).cancels_to_sanction == 1  # of 1 order: 100% >= 2.5%
    else:
        ledger.observe(OrderPaid(order=later))
        assert ledger.report(second).metric("cancellation_rate").denominator == 2


def test_observing_something_that_is_not_an_event_is_a_validation_error() -> None:
    ledger = Ledger(COUPANG)
    with pytest.raises(ValidationError, match="event must be") as info:
        ledger.observe("OrderPaid")  # type: ignore[arg-type]
    assert info.value.field == "event"
    assert info.value.value == "OrderPaid"


def test_from_snapshot_rejects_something_that_is_not_a_ledger_state() -> None:
    with pytest.raises(ConfigurationError, match="LedgerState"):
        Ledger.from_snapshot({"profile": "coupang"})  # type: ignore[arg-type]


# ------------------------------------------------------------------ rules


@pytest.mark.parametrize(
    ("field", "value"),
    [("window", 7), ("warning", "99%"), ("sanction", 0.95)],
)
def test_a_metric_field_of_the_wrong_type_is_a_validation_error_naming_it(
    field: str, value: object
) -> None:
    spec = COUPANG.metric("order_fulfilment")
    with pytest.raises(ValidationError, match=rf"MetricSpec\.{field} must be") as info:
        attrs.evolve(spec, **{field: value})
    assert (info.value.field, info.value.value) == (field, value)


def test_a_ship_by_rule_of_the_wrong_type_is_a_validation_error_naming_it() -> None:
    with pytest.raises(ValidationError, match=r"RuleProfile\.ship_by must be") as info:
        attrs.evolve(COUPANG, ship_by=2)
    assert (info.value.field, info.value.value) == ("ship_by", 2)


def test_overriding_an_unknown_metric_field_names_it_and_the_known_ones() -> None:
    with pytest.raises(ConfigurationError, match=r"'threshold'.*warning"):
        COUPANG.with_metric("order_fulfilment", threshold=None)


def test_overriding_an_unknown_ship_by_field_names_it_and_the_known_ones() -> None:
    with pytest.raises(ConfigurationError, match=r"'days'.*business_days"):
        COUPANG.with_ship_by(days=2)


# ------------------------------------------------------------------ calendar


def test_a_moratorium_asked_about_a_datetime_says_to_pass_a_date() -> None:
    with pytest.raises(ValidationError, match=r"day must be a datetime\.date") as info:
        NAVER_CHUSEOK_2025.covers(datetime(2025, 10, 2, 9, tzinfo=KST), "naver")  # type: ignore[arg-type]
    assert info.value.field == "day"


def test_a_moratorium_takes_penalty_kinds_as_strings_as_its_constructor_does() -> None:
    day = date(2025, 10, 2)
    assert NAVER_CHUSEOK_2025.suspends("late_shipment", day, "naver")
    assert not NAVER_CHUSEOK_2025.suspends("stock_out_cancel", day, "naver")
    assert NAVER_CHUSEOK_2025.suspends(PenaltyKind.LATE_SHIPMENT, day, "naver")
    at = datetime(2025, 10, 2, 9, tzinfo=KST)
    assert DEFAULT_CALENDAR.with_moratoria(NAVER_CHUSEOK_2025).is_penalty_suspended(
        "late_shipment", at, "naver"
    )
    for calendar in (DEFAULT_CALENDAR, DEFAULT_CALENDAR.with_moratoria(NAVER_CHUSEOK_2025)):
        with pytest.raises(ValidationError, match="kind must be a PenaltyKind") as info:
            calendar.is_penalty_suspended("late shipment", at, "naver")  # a typo: not False
        assert (info.value.field, info.value.value) == ("kind", "late shipment")
