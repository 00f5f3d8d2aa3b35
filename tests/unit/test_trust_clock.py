"""The trust model's lead-time clock: the learned closed-time weight, the within-bin shape of
the time-to-tracking curve, and what ``observe`` refuses."""

from __future__ import annotations

import logging
import math
import random
from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consign_core.domain.calendar import DEFAULT_CALENDAR, KST, BusinessCalendar
from consign_core.domain.events import Event, SupplierInvoiced, SupplierOrderPlaced
from consign_core.domain.model import Courier, OrderRef, Recipient, Tracking
from consign_core.domain.serialization import structure, unstructure
from consign_core.domain.trust import TrustConfig, TrustModel, TrustState
from consign_core.errors import ConsignError, ValidationError


CAL = DEFAULT_CALENDAR
MONDAY = datetime(2025, 3, 10, 9, 0, tzinfo=KST)  # no Korean public holiday for 3 weeks
REF = OrderRef(market="coupang", order_id="M-1")
TRACK = Tracking(courier=Courier.CJ, number="1")
HOUR = timedelta(hours=1)


class SameCalendar(BusinessCalendar):
    """The default calendar under another type: the model cannot use its exact clock, so it
    bins every pending order one by one (the reference for the pending-order index)."""


def placed(sid: str, oid: str, at: datetime) -> SupplierOrderPlaced:
    return SupplierOrderPlaced(
        ref=REF, at=at, supplier_id=sid, supplier_order_id=oid, item_id="item", quantity=1
    )


def invoiced(sid: str, oid: str, at: datetime) -> SupplierInvoiced:
    return SupplierInvoiced(ref=REF, at=at, supplier_id=sid, supplier_order_id=oid, tracking=TRACK)


def is_open(at: datetime) -> bool:
    return CAL.business_hours_between(at, at + timedelta(minutes=1)) > 0


def work_clock_lead(start: datetime, lead: float, theta: float) -> datetime:
    """When ``lead`` hours of work are done from ``start`` if a closed hour does ``theta`` of
    an open one's work (stepping in whole minutes)."""
    at = start
    done = 0.0
    step = timedelta(minutes=15)
    while True:
        rate = 1.0 if is_open(at) else theta
        if done + 0.25 * rate >= lead:
            return at + (lead - done) / rate * HOUR if rate else at + step
        done += 0.25 * rate
        at += step


def orders(
    rng: random.Random,
    n: int,
    *,
    theta: float | None,
    suppliers: int = 4,
    days: float = 42.0,
    lead: tuple[float, float] = (8.0, 40.0),
) -> list[tuple[datetime, int, Event]]:
    """Orders placed uniformly over calendar time, tracked after a uniform ``lead`` of work.

    ``theta=None``: the supplier keeps the calendar (lead in business hours, the default
    calendar's add_business_hours); else the work clock of :func:`work_clock_lead`.
    """
    out: list[tuple[datetime, int, Event]] = []
    for i in range(n):
        sid = f"S{i % suppliers}"
        oid = f"o{i}"
        at = MONDAY + timedelta(hours=rng.uniform(0.0, 24.0 * days))
        hours = rng.uniform(*lead)
        if theta is None:
            when = CAL.add_business_hours(at, hours)
        else:
            when = work_clock_lead(at, hours, theta)
        out.append((at, 0, placed(sid, oid, at)))
        out.append((when, 1, invoiced(sid, oid, when)))
    out.sort(key=lambda item: (item[0], item[1]))
    return out


def feed(model: TrustModel, items: list[tuple[datetime, int, Event]]) -> TrustModel:
    for _, _, event in items:
        model.observe(event)
    return model


def closed_time_weight(model: TrustModel) -> float:
    return model.snapshot().population.closed_time_weight


# --------------------------------------------------------------------------------------
# the closed-time weight
# --------------------------------------------------------------------------------------


def test_suppliers_keeping_the_calendar_leave_the_clock_in_business_hours() -> None:
    model = feed(TrustModel(), orders(random.Random(1), 600, theta=None))
    model.refit_population()
    assert closed_time_weight(model) == 0.0


def test_suppliers_working_around_the_clock_move_it_to_calendar_hours() -> None:
    model = feed(TrustModel(), orders(random.Random(2), 600, theta=1.0))
    model.refit_population()
    assert closed_time_weight(model) > 0.75


def test_the_closed_time_weight_estimates_how_much_a_closed_hour_works() -> None:
    model = feed(TrustModel(), orders(random.Random(3), 800, theta=0.5))
    model.refit_population()
    assert 0.3 < closed_time_weight(model) < 0.7


def test_a_deadline_in_closed_hours_is_reachable_when_suppliers_work_then() -> None:
    # placed on a Saturday, due on the Sunday: no business hour in between
    saturday = datetime(2025, 3, 29, 10, 0, tzinfo=KST)
    sunday = saturday + timedelta(hours=34)
    assert CAL.business_hours_between(saturday, sunday) == 0
    around = feed(TrustModel(), orders(random.Random(4), 600, theta=1.0))
    keeping = feed(TrustModel(), orders(random.Random(4), 600, theta=None))
    for model in (around, keeping):
        model.refit_population()
    # uniform 8..40 hours of work, 34 calendar hours to go: about (34 - 8) / 32 by then
    reachable = around.assess("S0", 1, saturday, sunday).p_invoice_by_deadline
    assert reachable == pytest.approx(26 / 32, abs=0.12)
    assert keeping.assess("S0", 1, saturday, sunday).p_invoice_by_deadline == 0.0


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    theta=st.sampled_from([0.5, 1.0]),
    cut_days=st.floats(10.0, 30.0),
)
def test_the_pending_order_index_bins_on_the_mixed_clock_like_the_one_by_one_count(
    seed: int, theta: float, cut_days: float
) -> None:
    items = orders(random.Random(seed), 400, theta=theta, suppliers=3, days=35.0)
    cut = MONDAY + timedelta(days=cut_days)
    before = [item for item in items if item[0] <= cut]
    indexed = feed(TrustModel(), before)
    one_by_one = feed(TrustModel(calendar=SameCalendar()), before)
    assert closed_time_weight(indexed) == closed_time_weight(one_by_one)
    for k in range(3):
        now = cut + timedelta(minutes=17 + 131 * k)
        for sid in ("S0", "S1", "S2"):
            a = indexed.assess(sid, 1, now, now + timedelta(days=2))
            b = one_by_one.assess(sid, 1, now, now + timedelta(days=2))
            assert a.p_invoice_by_deadline == pytest.approx(b.p_invoice_by_deadline, abs=1e-12)
            assert a.median_hours_to_invoice == pytest.approx(b.median_hours_to_invoice)


def test_a_snapshot_keeps_the_closed_time_weight_and_answers_the_same() -> None:
    items = orders(random.Random(5), 500, theta=1.0)
    model = feed(TrustModel(), items[: len(items) * 3 // 4])
    model.refit_population()
    state = model.snapshot()
    assert state.population.closed_time_weight > 0.5
    restored = TrustModel.from_snapshot(structure(unstructure(state), TrustState))
    assert restored.snapshot() == state
    now = items[len(items) * 3 // 4][0]
    for sid in ("S0", "S1", "S2", "S3"):
        a = model.assess(sid, 1, now, now + timedelta(days=1))
        b = restored.assess(sid, 1, now, now + timedelta(days=1))
        assert a == b


# --------------------------------------------------------------------------------------
# the curve between grid edges
# --------------------------------------------------------------------------------------


def test_within_a_wide_bin_the_curve_follows_a_constant_hazard() -> None:
    # exponential leads (mean 48 business hours) on a grid with one wide bin, 24..240: a
    # uniform spread over the bin would say 0.61 at 100 hours, the truth is 0.875
    rng = random.Random(6)
    model = TrustModel(TrustConfig(lead_grid_hours=(24.0, 240.0)))
    items: list[tuple[datetime, int, Event]] = []
    for i in range(2000):
        at = CAL.add_business_hours(MONDAY, rng.uniform(0.0, 24.0 * 60))
        when = CAL.add_business_hours(at, rng.expovariate(1 / 48))
        items += [(at, 0, placed("S0", f"o{i}", at)), (when, 1, invoiced("S0", f"o{i}", when))]
    items.sort(key=lambda item: (item[0], item[1]))
    feed(model, items)
    model.refit_population()
    now = items[-1][0] + HOUR
    deadline = CAL.add_business_hours(now, 100.0)
    expected = 1.0 - math.exp(-100 / 48)
    assert model.assess("S0", 1, now, deadline).p_invoice_by_deadline == pytest.approx(
        expected, abs=0.04
    )


# --------------------------------------------------------------------------------------
# what observe refuses
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (None, "NoneType"),
        ("SupplierInvoiced", "str"),
        ({"supplier_id": "S1", "phone": "010-1234-5678"}, "dict"),
        (REF, "OrderRef"),
    ],
)
def test_observe_refuses_what_is_not_an_event_naming_its_type(value: object, kind: str) -> None:
    model = TrustModel()
    with pytest.raises(ValidationError) as info:
        model.observe(value)  # type: ignore[arg-type]
    assert isinstance(info.value, ConsignError)
    assert info.value.field == "event"
    assert f"got a {kind}" in str(info.value)
    assert "010-1234-5678" not in str(info.value)
    assert model.snapshot().events_observed == 0


def test_refusing_a_recipient_shows_none_of_its_personal_data(
    caplog: pytest.LogCaptureFixture,
) -> None:
    recipient = Recipient(
        name="김민지", phone="010-9876-5432", zip_code="06236", address1="서울 강남구 테헤란로 1"
    )
    with caplog.at_level(logging.DEBUG), pytest.raises(ValidationError) as info:
        TrustModel().observe(recipient)  # type: ignore[arg-type]
    text = str(info.value) + repr(info.value) + caplog.text
    assert "got a Recipient" in str(info.value)
    for secret in ("김민지", "010-9876-5432", "06236", "테헤란로"):
        assert secret not in text
