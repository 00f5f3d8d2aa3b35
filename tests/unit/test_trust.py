"""Tests for consign_core.domain.trust: the supplier trust model, its persistence and its
evaluation."""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consign_core.domain.calendar import DEFAULT_CALENDAR, KST, BusinessCalendar
from consign_core.domain.events import (
    Event,
    MarketAcknowledged,
    SupplierCancelled,
    SupplierConfirmed,
    SupplierInvoiced,
    SupplierOrderPlaced,
)
from consign_core.domain.model import (
    CancelReason,
    Courier,
    OrderRef,
    Supplier,
    SupplierSignals,
    Tracking,
)
from consign_core.domain.serialization import structure, unstructure
from consign_core.domain.trust import (
    TrustAssessment,
    TrustConfig,
    TrustModel,
    TrustState,
    TrustTier,
    compare_with_baselines,
    predict_online,
    score_predictions,
)
from consign_core.errors import InsufficientHistoryError, NaiveDatetimeError, ValidationError
from tests.strategies import examples


CAL = DEFAULT_CALENDAR
MONDAY = datetime(2025, 3, 10, 9, 0, tzinfo=KST)  # a Monday; no holiday for 3 weeks
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
REF = OrderRef(market="coupang", order_id="m-1")
TRACK = Tracking(courier=Courier.CJ, number="123")
STOCK_OUT = CancelReason.STOCK_OUT
FIXED = TrustConfig(refit_every_events=0)  # no automatic refit: the prior stays put
HOUR = timedelta(hours=1)


# --------------------------------------------------------------------------------------
# event helpers and a synthetic supplier generator
# --------------------------------------------------------------------------------------


def placed(sid: str, oid: str, at: datetime, qty: int = 1, **kw: object) -> SupplierOrderPlaced:
    return SupplierOrderPlaced(
        ref=REF,
        at=at,
        supplier_id=sid,
        supplier_order_id=oid,
        item_id=str(kw.pop("item_id", "item-1")),
        quantity=qty,
        **kw,  # type: ignore[arg-type]
    )


def invoiced(sid: str, oid: str, at: datetime) -> SupplierInvoiced:
    return SupplierInvoiced(ref=REF, at=at, supplier_id=sid, supplier_order_id=oid, tracking=TRACK)


def cancelled(
    sid: str, oid: str, at: datetime, reason: CancelReason = STOCK_OUT
) -> SupplierCancelled:
    return SupplierCancelled(ref=REF, at=at, supplier_id=sid, supplier_order_id=oid, reason=reason)


def feed(model: TrustModel, events: list[Event]) -> TrustModel:
    for event in events:
        model.observe(event)
    return model


@dataclass
class Synth:
    """A synthetic supplier with known behaviour."""

    sid: str
    p_cancel: float  # P(cancel) of a 1-unit order
    k: float = 0.0  # true log-odds slope per log(quantity / band) above the band
    quantities: tuple[int, ...] = (1,)
    band: float = 1.0
    invoice_hours: tuple[float, float] = (8.0, 40.0)  # uniform, business hours
    cancel_hours: tuple[float, float] = (1.0, 10.0)

    def cancel_probability(self, qty: int) -> float:
        logit = math.log(self.p_cancel / (1 - self.p_cancel))
        logit += self.k * max(0.0, math.log(qty / self.band))
        return 1 / (1 + math.exp(-logit))


def synth_orders(
    rng: random.Random, s: Synth, n: int, *, start: datetime = MONDAY, days: float = 60.0
) -> list[tuple[datetime, int, Event]]:
    """``n`` orders of ``s`` at uniform random times over ``days``, with their outcomes."""
    out: list[tuple[datetime, int, Event]] = []
    for _ in range(n):
        at = start + timedelta(hours=rng.uniform(0, 24 * days))
        oid = f"{s.sid}-{rng.getrandbits(48):x}"
        qty = rng.choice(s.quantities)
        out.append((at, 0, placed(s.sid, oid, at, qty)))
        if rng.random() < s.cancel_probability(qty):
            when = CAL.add_business_hours(at, rng.uniform(*s.cancel_hours))
            out.append((when, 1, cancelled(s.sid, oid, when)))
        else:
            when = CAL.add_business_hours(at, rng.uniform(*s.invoice_hours))
            out.append((when, 1, invoiced(s.sid, oid, when)))
    return out


def in_time_order(*batches: list[tuple[datetime, int, Event]]) -> list[Event]:
    merged = [item for batch in batches for item in batch]
    merged.sort(key=lambda item: (item[0], item[1]))
    return [event for _, _, event in merged]


def last_time(events: list[Event]) -> datetime:
    return max(e.at for e in events)


# --------------------------------------------------------------------------------------
# cancel risk: convergence, empirical Bayes, signals
# --------------------------------------------------------------------------------------


def test_estimates_converge_to_each_suppliers_true_cancel_rate() -> None:
    rng = random.Random(20250303)
    truths = [0.02, 0.05, 0.08, 0.12, 0.16, 0.2, 0.25, 0.3]
    suppliers = [Synth(f"S{i}", p) for i, p in enumerate(truths)]
    events = in_time_order(*(synth_orders(rng, s, 400, days=120) for s in suppliers))
    model = feed(TrustModel(), events)
    model.refit_population()
    now = last_time(events) + timedelta(minutes=1)
    for s in suppliers:
        a = model.assess(s.sid, 1, now, now + timedelta(days=3))
        tolerance = 3 * math.sqrt(s.p_cancel * (1 - s.p_cancel) / a.effective_n) + 0.01
        assert abs(a.p_cancel - s.p_cancel) < tolerance, (s, a)
        assert a.effective_n > 200


def test_time_to_tracking_converges_to_the_true_distribution() -> None:
    rng = random.Random(7)
    # invoices uniform on [8, 40] business hours: median 24, p90 36.8
    suppliers = [Synth(f"S{i}", 0.1) for i in range(6)]
    events = in_time_order(*(synth_orders(rng, s, 300, days=90) for s in suppliers))
    model = feed(TrustModel(), events)
    model.refit_population()
    now = last_time(events) + timedelta(minutes=1)
    a = model.assess("S0", 1, now, now + timedelta(days=3))
    assert a.median_hours_to_invoice == pytest.approx(24.0, abs=2.5)
    assert a.p90_hours_to_invoice == pytest.approx(36.8, abs=3.0)
    # pending 12 business hours (past every cancel, which come within 10): only invoices remain;
    # P(invoice within the next 18) = (30 - 12) / (40 - 12)
    placed_at = CAL.add_business_hours(now, 0.5)
    a = model.assess(
        "S0",
        1,
        CAL.add_business_hours(placed_at, 12),
        CAL.add_business_hours(placed_at, 30),
        placed_at=placed_at,
    )
    assert a.p_invoice_by_deadline == pytest.approx(18 / 28, abs=0.06)
    assert a.p_cancel_by_deadline < 0.02


def test_new_supplier_gets_the_population_prior() -> None:
    rng = random.Random(11)
    suppliers = [Synth(f"S{i}", rng.betavariate(2, 18)) for i in range(40)]
    events = in_time_order(*(synth_orders(rng, s, 40, days=20) for s in suppliers))
    model = feed(TrustModel(FIXED), events)
    model.refit_population()
    population = model.snapshot().population
    assert population.fitted_suppliers == 40
    now = last_time(events)
    a = model.assess("NEW", 1, now, now + timedelta(days=2))
    assert a.p_cancel == pytest.approx(population.cancel_rate, rel=1e-12)
    assert a.effective_n == 0.0
    assert a.tier is TrustTier.UNPROVEN
    assert a.reason.startswith("NEW: no recent orders of its own")
    assert "NEW" not in model.suppliers()  # assessing never creates state


def test_empirical_bayes_recovers_the_population_mean_and_spread() -> None:
    rng = random.Random(2024)
    # true rates ~ Beta(2, 18): mean 0.1, prior strength alpha + beta = 20
    suppliers = [Synth(f"S{i}", rng.betavariate(2, 18)) for i in range(300)]
    events = in_time_order(*(synth_orders(rng, s, 60, days=30) for s in suppliers))
    model = feed(TrustModel(TrustConfig(refit_every_events=0, half_life_days=1e6)), events)
    model.refit_population()
    population = model.snapshot().population
    assert population.cancel_rate == pytest.approx(0.1, abs=0.012)
    assert 12.0 < population.prior_strength < 35.0


def test_default_prior_is_used_until_enough_suppliers_have_history() -> None:
    model = feed(
        TrustModel(FIXED),
        [placed("S1", "o1", MONDAY), cancelled("S1", "o1", MONDAY + timedelta(hours=1))],
    )
    model.refit_population()
    population = model.snapshot().population
    assert population.fitted_suppliers == 0
    assert population.cancel_rate == FIXED.default_cancel_rate
    assert population.prior_strength == FIXED.default_prior_strength


def test_platform_signals_shift_a_new_suppliers_prior_within_bounds() -> None:
    model = TrustModel(FIXED)
    good = SupplierSignals(seller_rank=0, seller_score=99.0, avg_dispatch_days=1.0)
    bad = SupplierSignals(seller_rank=80, seller_score=70.0, avg_dispatch_days=7.0)
    model.register_supplier(Supplier(supplier_id="GOOD", signals=good))
    model.register_supplier(Supplier(supplier_id="BAD", signals=bad))
    model.register_supplier(Supplier(supplier_id="PLAIN"))
    late = MONDAY + timedelta(days=1)
    p = {s: model.assess(s, 1, MONDAY, late).p_cancel for s in ("GOOD", "PLAIN", "BAD")}
    assert p["GOOD"] < p["PLAIN"] < p["BAD"]

    def logit(x: float) -> float:
        return math.log(x / (1 - x))

    bound = FIXED.signal_max_shift + 1e-9
    assert abs(logit(p["BAD"]) - logit(p["PLAIN"])) <= bound
    assert abs(logit(p["GOOD"]) - logit(p["PLAIN"])) <= bound
    assert logit(p["BAD"]) - logit(p["PLAIN"]) == pytest.approx(bound, abs=1e-6)  # clamped


def test_seller_score_as_percent_or_fraction_means_the_same() -> None:
    model = TrustModel(FIXED)
    model.register_supplier(Supplier(supplier_id="A", signals=SupplierSignals(seller_score=97.0)))
    model.register_supplier(Supplier(supplier_id="B", signals=SupplierSignals(seller_score=0.97)))
    late = MONDAY + timedelta(days=1)
    assert (
        model.assess("A", 1, MONDAY, late).p_cancel == model.assess("B", 1, MONDAY, late).p_cancel
    )


def test_forgetting_halves_the_weight_of_old_evidence() -> None:
    model = feed(TrustModel(FIXED), [invoiced("S1", "o1", MONDAY)])
    later = MONDAY + timedelta(days=FIXED.half_life_days)
    a = model.assess("S1", 1, later, later + timedelta(days=1))
    assert a.effective_n == pytest.approx(0.5, rel=1e-9)


# --------------------------------------------------------------------------------------
# upper bound, tiers and reasons
# --------------------------------------------------------------------------------------


def _history(sid: str, n: int, cancels: int, qty: int = 1, at: datetime = MONDAY) -> list[Event]:
    """``n`` orders of ``qty`` units over a few hours, the first ``cancels`` stock-outs."""
    out: list[Event] = []
    for i in range(n):
        t = at + timedelta(minutes=5 * i)
        out.append(placed(sid, f"{sid}-{i}", t, qty))
        done = t + timedelta(minutes=2)
        out.append(
            cancelled(sid, f"{sid}-{i}", done) if i < cancels else invoiced(sid, f"{sid}-{i}", done)
        )
    return out


def test_upper_bound_is_the_wilson_bound_on_prior_plus_evidence() -> None:
    model = feed(TrustModel(FIXED), _history("S1", 30, 3))
    now = MONDAY + timedelta(hours=3)
    a = model.assess("S1", 1, now, now + timedelta(days=1))
    s0, mu0 = FIXED.default_prior_strength, FIXED.default_cancel_rate
    x, n, z = mu0 * s0 + 3 * _decay(now, MONDAY), s0 + a.effective_n, FIXED.z
    p = x / n
    wilson = (p + z * z / (2 * n) + z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))) / (
        1 + z * z / n
    )
    assert z == pytest.approx(1.6449, abs=1e-4)
    assert a.p_cancel == pytest.approx(p, rel=1e-3)
    assert a.p_cancel_upper == pytest.approx(wilson, rel=1e-3)


def _decay(now: datetime, then: datetime) -> float:
    return float(0.5 ** ((now - then).total_seconds() / 86400 / FIXED.half_life_days))


def test_reliable_supplier_with_history_is_trusted_and_a_flaky_one_risky() -> None:
    model = feed(TrustModel(FIXED), _history("GOOD", 80, 0) + _history("FLAKY", 40, 12))
    now = MONDAY + timedelta(hours=8)
    assert model.assess("GOOD", 1, now, now + timedelta(days=1)).tier is TrustTier.TRUSTED
    assert model.assess("FLAKY", 1, now, now + timedelta(days=1)).tier is TrustTier.RISKY
    few = feed(TrustModel(FIXED), _history("FEW", 3, 0))
    assert few.assess("FEW", 1, now, now + timedelta(days=1)).tier is TrustTier.UNPROVEN


def test_reason_reads_like_a_sellers_summary() -> None:
    model = feed(TrustModel(FIXED), _history("S12", 41, 3, qty=2))
    now = MONDAY + timedelta(hours=5)
    a = model.assess("S12", 20, now, now + timedelta(days=1))
    assert a.reason.startswith(
        "S12: 3 cancels (3 stock-outs) in 41 recent orders; 20 units vs usual 2; cancel risk "
    )
    assert "\n" not in a.reason
    assert a.typical_quantity == pytest.approx(2.0, rel=0.05)


# --------------------------------------------------------------------------------------
# quantity and stock
# --------------------------------------------------------------------------------------


def test_large_order_raises_the_cancel_risk_over_the_usual_quantity() -> None:
    model = feed(TrustModel(FIXED), _history("S1", 40, 2, qty=2))
    now = MONDAY + timedelta(hours=5)
    usual = model.assess("S1", 2, now, now + timedelta(days=1))
    big = model.assess("S1", 20, now, now + timedelta(days=1))
    odds = big.p_cancel / (1 - big.p_cancel) / (usual.p_cancel / (1 - usual.p_cancel))
    band = FIXED.quantity_ordinary_factor * usual.typical_quantity  # type: ignore[operator]
    assert odds == pytest.approx((20 / band) ** FIXED.quantity_k_default, rel=1e-9)
    assert usual.typical_quantity == pytest.approx(2.0, rel=0.05)
    within = model.assess("S1", 3, now, now + timedelta(days=1))
    assert within.p_cancel == usual.p_cancel  # up to twice the usual size is ordinary
    assert big.p_cancel_upper > usual.p_cancel_upper


def test_order_above_reported_stock_is_a_near_certain_stock_out() -> None:
    model = feed(TrustModel(FIXED), _history("S1", 80, 0))
    model.report_stock("S1", "item-9", 5, MONDAY)
    now = MONDAY + timedelta(hours=8)
    ok = model.assess("S1", 5, now, now + timedelta(days=1), item_id="item-9")
    over = model.assess("S1", 6, now, now + timedelta(days=1), item_id="item-9")
    assert not ok.stock_exceeded
    assert over.stock_exceeded
    assert over.p_cancel >= FIXED.stock_exceeded_floor
    assert over.tier is TrustTier.RISKY
    assert "6 units > last reported stock 5" in over.reason
    stale = now + timedelta(days=FIXED.stock_report_max_age_days + 1)
    assert not model.assess(
        "S1", 6, stale, stale + timedelta(days=1), item_id="item-9"
    ).stock_exceeded


def test_reported_stock_on_a_placed_order_feeds_the_stock_check() -> None:
    model = feed(TrustModel(FIXED), [placed("S1", "o1", MONDAY, 1, reported_stock=3)])
    a = model.assess("S1", 4, MONDAY, MONDAY + timedelta(days=1), item_id="item-1")
    assert a.stock_exceeded


@pytest.mark.parametrize(("k_true", "low", "high"), [(2.0, 1.5, 2.5), (0.3, 0.0, 0.6)])
def test_quantity_exponent_is_fitted_from_data_when_there_is_enough(
    k_true: float, low: float, high: float
) -> None:
    rng = random.Random(99)
    suppliers = [  # usual size 1; odds grow as (q / 2) ** k_true above 2 units
        Synth(f"S{i}", rng.uniform(0.02, 0.08), k_true, (1,) * 12 + (4, 16), band=2.0)
        for i in range(30)
    ]
    events = in_time_order(*(synth_orders(rng, s, 200, days=60) for s in suppliers))
    model = feed(TrustModel(), events)
    model.refit_population()
    population = model.snapshot().population
    assert population.large_orders >= FIXED.quantity_min_large_orders
    assert low < population.quantity_k < high


def test_quantity_exponent_stays_at_its_default_without_large_orders() -> None:
    model = feed(TrustModel(), _history("S1", 100, 5))
    model.refit_population()
    assert model.snapshot().population.quantity_k == FIXED.quantity_k_default


def test_a_cancel_above_a_stock_given_by_report_stock_is_discounted_as_if_on_the_event() -> None:
    at = MONDAY + timedelta(days=5)
    on_event = feed(TrustModel(FIXED), _history("S1", 30, 0))
    on_event.observe(placed("S1", "big", at, 5, reported_stock=2))
    by_report = feed(TrustModel(FIXED), _history("S1", 30, 0))
    by_report.report_stock("S1", "item-1", 2, at - timedelta(hours=1))
    # the model itself flags the order as above the reported stock before it is placed
    assert by_report.assess("S1", 5, at, at + timedelta(days=2), item_id="item-1").stock_exceeded
    by_report.observe(placed("S1", "big", at, 5))
    assert by_report.snapshot().suppliers["S1"].pending["big"].stock_exceeded
    for model in (on_event, by_report):
        model.observe(cancelled("S1", "big", at + timedelta(hours=1)))
    later = at + timedelta(hours=2)
    expected = on_event.assess("S1", 1, later, later + timedelta(days=2))
    got = by_report.assess("S1", 1, later, later + timedelta(days=2))
    assert got.p_cancel == pytest.approx(expected.p_cancel)  # not a full cancel's weight


def test_a_stale_stock_report_does_not_mark_a_new_order_above_stock() -> None:
    model = feed(TrustModel(FIXED), _history("S1", 30, 0))
    at = MONDAY + timedelta(days=20)
    model.report_stock("S1", "item-1", 2, at - timedelta(days=FIXED.stock_report_max_age_days + 1))
    model.observe(placed("S1", "big", at, 5))
    assert not model.snapshot().suppliers["S1"].pending["big"].stock_exceeded


@pytest.mark.parametrize("quantity", [10**310, 10**400], ids=["1e310", "1e400"])
def test_an_absurdly_large_quantity_is_a_near_certain_cancel_not_an_overflow(
    quantity: int,
) -> None:
    model = feed(TrustModel(FIXED), _history("S1", 30, 0))
    now = MONDAY + timedelta(days=5)
    a = model.assess("S1", quantity, now, now + timedelta(days=2))
    assert a.p_cancel == pytest.approx(1.0)
    assert a.p_cancel_upper == pytest.approx(1.0)


def test_observing_the_cancel_of_an_absurdly_large_order_keeps_the_model_consistent() -> None:
    config = TrustConfig(refit_every_events=0, quantity_k_default=3)
    model = feed(TrustModel(config), _history("S1", 30, 0))
    at = MONDAY + timedelta(days=5)
    model.observe(placed("S1", "huge", at, 10**120))
    model.observe(cancelled("S1", "huge", at + timedelta(hours=1)))
    state = model.snapshot().suppliers["S1"]
    assert state.pending == {}
    assert state.resolved["huge"] is True
    assert sum(state.lead_cancelled) > 0.0  # the cancel was counted, not lost half-way
    assert state.cancels_raw > 0.0


# --------------------------------------------------------------------------------------
# time to tracking: censoring and competing risks
# --------------------------------------------------------------------------------------


def test_pending_orders_are_censored_not_dropped() -> None:
    cfg = TrustConfig(refit_every_events=0, lead_prior_strength=0.5)
    events: list[Event] = []
    for i in range(20):  # 20 orders invoiced 10 business hours after placement
        events += [
            placed("S1", f"a{i}", MONDAY),
            invoiced("S1", f"a{i}", MONDAY + timedelta(hours=10)),
        ]
    for i in range(20):  # 20 placed at the same time and still pending 100 business hours later
        events.append(placed("S1", f"b{i}", MONDAY))
    model = feed(TrustModel(cfg), events)
    now = CAL.add_business_hours(MONDAY, 100)
    model.refit_population()
    a = model.assess("S1", 1, now, CAL.add_business_hours(now, 24))
    fresh = model.assess("S1", 1, now, CAL.add_business_hours(now, 24), placed_at=now)
    # half the orders shipped within 10 hours, half were still waiting at 100: about 0.5, not 1
    assert 0.3 < fresh.p_invoice_by_deadline < 0.7
    assert a.p_invoice_by_deadline == fresh.p_invoice_by_deadline


def test_supplier_cancels_compete_with_invoices_instead_of_being_censored() -> None:
    cfg = TrustConfig(refit_every_events=0, default_prior_strength=2.0, lead_prior_strength=0.5)
    events: list[Event] = []
    for i in range(40):  # every other order is cancelled after 2 business hours
        events.append(placed("S1", f"o{i}", MONDAY))
        if i % 2:
            events.append(cancelled("S1", f"o{i}", MONDAY + timedelta(hours=2)))
        else:
            events.append(invoiced("S1", f"o{i}", MONDAY + timedelta(hours=10)))
    model = feed(TrustModel(cfg), events)
    model.refit_population()
    start = MONDAY + timedelta(days=1)
    fresh = model.assess("S1", 1, start, start + timedelta(hours=24), placed_at=start)
    assert fresh.p_invoice_by_deadline == pytest.approx(0.5, abs=0.06)
    assert fresh.p_cancel_by_deadline == pytest.approx(0.5, abs=0.06)
    # past the cancel window, surviving orders ship: P(invoice) rises with elapsed time here
    later = model.assess(
        "S1", 1, start + timedelta(hours=5), start + timedelta(hours=24), placed_at=start
    )
    assert later.p_invoice_by_deadline > 0.9
    assert later.p_cancel_by_deadline < 0.05


def test_deadline_already_passed_gives_no_chance_left() -> None:
    model = feed(TrustModel(FIXED), _history("S1", 10, 1))
    now = MONDAY + timedelta(days=1)
    a = model.assess("S1", 1, now, now - timedelta(hours=1), placed_at=MONDAY)
    assert a.p_invoice_by_deadline == 0.0
    assert a.p_cancel_by_deadline == 0.0


def test_quantiles_are_none_without_any_timing_data() -> None:
    a = TrustModel().assess("S1", 1, MONDAY, MONDAY + timedelta(days=1))
    assert a.median_hours_to_invoice is None
    assert a.p90_hours_to_invoice is None
    assert 0.0 < a.p_invoice_by_deadline < 1.0  # the documented default curve still answers


def registered_model() -> TrustModel:
    """A model told about a supplier before it saw any event (as the docs' example does)."""
    model = TrustModel(FIXED)
    model.register_supplier(Supplier(supplier_id="S1", signals=SupplierSignals(seller_rank=3)))
    return model


def test_a_withdrawal_is_censored_for_a_supplier_registered_before_any_event() -> None:
    model = registered_model()
    model.observe(placed("S1", "a", MONDAY))
    assert model.withdraw("S1", "a", MONDAY + timedelta(hours=2))
    state = model.snapshot()
    assert sum(state.suppliers["S1"].lead_censored) == pytest.approx(1.0)
    assert sum(state.population.lead_censored) == pytest.approx(1.0)


def test_an_order_pending_past_the_grid_is_censored_for_a_registered_supplier() -> None:
    model = registered_model()
    model.observe(placed("S1", "old", MONDAY))
    late = CAL.add_business_hours(MONDAY, FIXED.lead_grid_hours[-1] + 1)
    model.observe(placed("S2", "x", late))  # advances the model's clock
    model.refit_population()
    state = model.snapshot()
    assert state.suppliers["S1"].resolved == {"old": False}
    assert state.suppliers["S1"].lead_censored[-1] == pytest.approx(1.0)
    assert state.population.lead_censored[-1] == pytest.approx(1.0)


def test_a_restored_model_answers_the_same_after_a_withdrawal_by_a_registered_supplier() -> None:
    model = registered_model()
    model.observe(placed("S1", "a", MONDAY))
    model.withdraw("S1", "a", MONDAY + timedelta(hours=2))
    restored = TrustModel.from_snapshot(model.snapshot())
    now = MONDAY + timedelta(days=1)
    for sid in ("S1", "NEW"):
        args = (sid, 1, now, now + timedelta(days=2))
        assert restored.assess(*args, placed_at=now) == model.assess(*args, placed_at=now)


# --------------------------------------------------------------------------------------
# hard trigger
# --------------------------------------------------------------------------------------


def test_supplier_that_turns_bad_is_quarantined_within_the_trigger_bound() -> None:
    rng = random.Random(5)
    switch = MONDAY + timedelta(days=60)
    good = Synth("S1", 1e-12)  # never cancels before the switch
    bad = Synth("S1", 0.6)
    others = [Synth(f"P{i}", rng.uniform(0.02, 0.1)) for i in range(10)]
    events = in_time_order(
        synth_orders(rng, good, 240, start=MONDAY, days=60),
        synth_orders(rng, bad, 40, start=switch, days=10),
        *(synth_orders(rng, s, 100, days=70) for s in others),
    )
    model = TrustModel()
    flagged_at = None
    stock_outs_after_switch: list[datetime] = []
    for event in events:
        if (
            isinstance(event, SupplierCancelled)
            and event.supplier_id == "S1"
            and event.at >= switch
        ):
            stock_outs_after_switch.append(event.at)
        before = event.at < switch
        model.observe(event)
        if before:
            continue
        a = model.assess("S1", 1, event.at, event.at + timedelta(days=1))
        if a.tier is TrustTier.QUARANTINED and flagged_at is None:
            flagged_at = event.at
            # the decayed score alone still looks fine: that is why the trigger exists
            assert a.p_cancel < FIXED.risky_min_mean
            assert "quarantined after 2 stock-outs within 30 days" in a.reason
    bound = stock_outs_after_switch[FIXED.quarantine_stockouts - 1]
    assert bound - switch <= timedelta(days=FIXED.quarantine_window_days)
    assert flagged_at == bound
    just_before = switch - timedelta(minutes=1)
    fresh = feed(TrustModel(), [e for e in events if e.at < switch])
    assert fresh.assess("S1", 1, just_before, switch).tier is TrustTier.TRUSTED


def test_quarantine_lifts_after_the_configured_clean_orders() -> None:
    cfg = TrustConfig(refit_every_events=0, quarantine_release_clean_orders=3)
    events: list[Event] = _history("S1", 60, 0)
    t = MONDAY + timedelta(days=1)
    events += [placed("S1", "x1", t), cancelled("S1", "x1", t + timedelta(hours=1))]
    events += [placed("S1", "x2", t), cancelled("S1", "x2", t + timedelta(days=20))]
    model = feed(TrustModel(cfg), events)
    now = t + timedelta(days=20, hours=1)
    assert model.assess("S1", 1, now, now + timedelta(days=1)).tier is TrustTier.QUARANTINED
    for i in range(3):
        at = now + timedelta(hours=i)
        model.observe(placed("S1", f"c{i}", at))
        model.observe(invoiced("S1", f"c{i}", at + timedelta(minutes=30)))
        tier = model.assess("S1", 1, at + timedelta(hours=1), at + timedelta(days=1)).tier
        assert (tier is TrustTier.QUARANTINED) == (i < 2)


def test_a_cancel_during_quarantine_restarts_the_clean_count() -> None:
    cfg = TrustConfig(refit_every_events=0, quarantine_release_clean_orders=2)
    t = MONDAY
    events: list[Event] = []
    for i, kind in enumerate(["so", "so", "ok", "other", "ok", "ok"]):
        at = t + timedelta(hours=i)
        events.append(placed("S1", f"o{i}", at))
        if kind == "ok":
            events.append(invoiced("S1", f"o{i}", at + timedelta(minutes=1)))
        else:
            reason = STOCK_OUT if kind == "so" else CancelReason.PRICE_ERROR
            events.append(cancelled("S1", f"o{i}", at + timedelta(minutes=1), reason))
    model = feed(TrustModel(cfg), events[:-2])
    now = t + timedelta(hours=10)
    assert model.assess("S1", 1, now, now + timedelta(days=1)).tier is TrustTier.QUARANTINED
    model = feed(model, events[-2:])
    assert model.assess("S1", 1, now, now + timedelta(days=1)).tier is not TrustTier.QUARANTINED


@pytest.mark.parametrize(
    ("reason", "gap_days", "quarantined"),
    [
        (STOCK_OUT, 29, True),
        (STOCK_OUT, 31, False),
        (CancelReason.PRICE_ERROR, 1, False),
        (CancelReason.DELIVERY_DELAY, 1, False),
    ],
)
def test_only_stock_outs_within_the_window_trigger_quarantine(
    reason: CancelReason, gap_days: int, quarantined: bool
) -> None:
    second = MONDAY + timedelta(days=gap_days)
    events: list[Event] = [
        placed("S1", "o1", MONDAY),
        cancelled("S1", "o1", MONDAY + timedelta(hours=1), reason),
        placed("S1", "o2", second),
        cancelled("S1", "o2", second + timedelta(hours=1), reason),
    ]
    model = feed(TrustModel(FIXED), events)
    now = second + timedelta(hours=2)
    a = model.assess("S1", 1, now, now + timedelta(days=1))
    assert (a.tier is TrustTier.QUARANTINED) == quarantined
    assert a.effective_n > 1.5  # every supplier cancel counts toward the cancel risk


# --------------------------------------------------------------------------------------
# bookkeeping: idempotence, robustness, memory
# --------------------------------------------------------------------------------------


def _mixed_stream() -> list[Event]:
    rng = random.Random(3)
    return in_time_order(*(synth_orders(rng, Synth(f"S{i}", 0.1), 30, days=20) for i in range(5)))


def test_duplicate_events_do_not_double_count() -> None:
    events = _mixed_stream()
    once = feed(TrustModel(), events)
    twice = TrustModel()
    for event in events:
        twice.observe(event)
        twice.observe(event)
    feed(twice, events)  # a full replay as well
    assert twice.snapshot() == once.snapshot()


def test_an_invoice_for_an_order_never_seen_placed_still_counts() -> None:
    model = feed(TrustModel(FIXED), [invoiced("S1", "ghost", MONDAY)])
    a = model.assess("S1", 1, MONDAY, MONDAY + timedelta(days=1))
    assert a.effective_n == pytest.approx(1.0)
    model.observe(placed("S1", "ghost", MONDAY - timedelta(hours=1)))  # arrives late: ignored
    assert model.snapshot().suppliers["S1"].pending == {}
    model.observe(cancelled("S1", "ghost", MONDAY))  # contradicting duplicate: ignored
    assert model.assess("S1", 1, MONDAY, MONDAY + timedelta(days=1)).effective_n == a.effective_n


def test_events_the_model_does_not_learn_from_are_ignored() -> None:
    model = TrustModel()
    before = model.snapshot()
    model.observe(MarketAcknowledged(ref=REF, at=MONDAY))
    model.observe(SupplierConfirmed(ref=REF, at=MONDAY, supplier_id="S1", supplier_order_id="o"))
    assert model.snapshot() == before


def test_supplier_confirmation_is_recorded_on_the_pending_order() -> None:
    model = feed(
        TrustModel(FIXED),
        [
            placed("S1", "o1", MONDAY),
            SupplierConfirmed(ref=REF, at=MONDAY, supplier_id="S1", supplier_order_id="o1"),
        ],
    )
    assert model.snapshot().suppliers["S1"].pending["o1"].confirmed


def test_memory_per_supplier_stays_bounded() -> None:
    cfg = TrustConfig(refit_every_events=0, dedup_memory_orders=16)
    model = feed(TrustModel(cfg), _history("S1", 100, 5))
    state = model.snapshot().suppliers["S1"]
    assert state.pending == {}
    assert len(state.resolved) == 16
    assert len(state.lead_invoiced) == len(cfg.lead_grid_hours) + 1


def test_orders_pending_past_the_grid_are_censored_and_a_late_outcome_still_counts() -> None:
    model = feed(TrustModel(FIXED), [placed("S1", "old", MONDAY), placed("S2", "x", MONDAY)])
    late = CAL.add_business_hours(MONDAY, FIXED.lead_grid_hours[-1] + 1)
    model.observe(placed("S2", "y", late))  # advances the model's clock
    model.refit_population()
    state = model.snapshot().suppliers["S1"]
    assert state.pending == {}
    assert state.resolved == {"old": False}
    assert state.lead_censored[-1] > 0
    model.observe(invoiced("S1", "old", late))
    assert model.snapshot().suppliers["S1"].resolved == {"old": True}
    assert model.assess("S1", 1, late, late + timedelta(days=1)).effective_n == pytest.approx(1.0)


def test_a_withdrawn_order_is_censored_when_withdrawn_not_when_it_runs_off_the_grid() -> None:
    cfg = TrustConfig(refit_every_events=0, lead_prior_strength=0.5)
    shipped: list[Event] = []
    for i in range(20):  # every order the supplier kept shipped 10 business hours later
        shipped += [
            placed("S1", f"a{i}", MONDAY),
            invoiced("S1", f"a{i}", MONDAY + timedelta(hours=10)),
        ]
    withdrawn_at = MONDAY + timedelta(hours=2)
    honest = feed(TrustModel(cfg), shipped)
    forgotten = feed(TrustModel(cfg), shipped)
    for i in range(20):  # 20 more the seller withdrew 2 hours in (the buyers cancelled)
        for model in (honest, forgotten):
            model.observe(placed("S1", f"b{i}", MONDAY))
        assert honest.withdraw("S1", f"b{i}", withdrawn_at)
    now = CAL.add_business_hours(MONDAY, 100)
    for model in (honest, forgotten):
        model.refit_population()
    deadline = CAL.add_business_hours(now, 24)
    with_withdrawal = honest.assess("S1", 1, now, deadline, placed_at=now)
    without = forgotten.assess("S1", 1, now, deadline, placed_at=now)
    # withdrawn at 2 h, they say nothing about shipping by 10 h: nearly every order ships
    assert with_withdrawal.p_invoice_by_deadline > 0.9
    # left pending, they look like orders the supplier never shipped
    assert without.p_invoice_by_deadline < 0.7
    state = honest.snapshot().suppliers["S1"]
    assert state.pending == {}
    assert sum(state.lead_censored) == pytest.approx(20.0, rel=0.05)
    # neither a shipment nor a supplier cancel: the cancel-risk evidence is unchanged
    assert with_withdrawal.p_cancel == without.p_cancel


def test_withdrawing_an_unknown_or_settled_order_changes_nothing() -> None:
    model = feed(TrustModel(FIXED), [placed("S1", "a", MONDAY), invoiced("S1", "a", MONDAY + HOUR)])
    before = model.snapshot()
    assert not model.withdraw("S1", "a", MONDAY + 2 * HOUR)  # already shipped
    assert not model.withdraw("S1", "zz", MONDAY + 2 * HOUR)  # never placed
    assert not model.withdraw("S9", "a", MONDAY + 2 * HOUR)  # unknown supplier
    assert model.snapshot() == before
    model.observe(placed("S1", "b", MONDAY))
    assert model.withdraw("S1", "b", MONDAY + HOUR)
    assert not model.withdraw("S1", "b", MONDAY + HOUR)  # twice: once only
    assert model.snapshot().suppliers["S1"].resolved["b"] is False


def test_withdraw_rejects_bad_arguments_naming_them() -> None:
    model = TrustModel(FIXED)
    with pytest.raises(ValidationError, match="supplier_id"):
        model.withdraw("", "a", MONDAY)
    with pytest.raises(ValidationError, match="supplier_order_id"):
        model.withdraw("S1", "", MONDAY)
    with pytest.raises(NaiveDatetimeError, match="at"):
        model.withdraw("S1", "a", datetime(2025, 3, 10, 9, 0))  # noqa: DTZ001 - on purpose


def test_population_is_refitted_automatically_on_a_doubling_schedule() -> None:
    events = _mixed_stream()
    auto = feed(TrustModel(TrustConfig(refit_min_events=20)), events)
    assert auto.snapshot().population.fitted_suppliers == 5
    manual = feed(TrustModel(FIXED), events)
    assert manual.snapshot().population.fitted_suppliers == 0
    assert manual.snapshot().next_refit_at == 0


def test_assess_never_changes_the_learned_state() -> None:
    model = feed(TrustModel(), _mixed_stream())
    before = model.snapshot()
    now = MONDAY + timedelta(days=30)
    for sid in ("S0", "S1", "NEW"):
        model.assess(sid, 3, now, now + timedelta(days=1), placed_at=now, item_id="item-1")
    assert model.snapshot() == before


# --------------------------------------------------------------------------------------
# validation
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("argument", ["now", "deadline", "placed_at"])
def test_naive_datetimes_are_rejected_naming_the_argument(argument: str) -> None:
    model = TrustModel()
    kwargs: dict[str, datetime] = {
        "now": MONDAY,
        "deadline": MONDAY + timedelta(days=1),
        "placed_at": MONDAY,
    }
    kwargs[argument] = kwargs[argument].replace(tzinfo=None)
    with pytest.raises(NaiveDatetimeError, match=argument):
        model.assess("S1", 1, kwargs["now"], kwargs["deadline"], placed_at=kwargs["placed_at"])


def test_report_stock_rejects_a_naive_time_and_bad_values() -> None:
    model = TrustModel()
    with pytest.raises(NaiveDatetimeError, match="at"):
        model.report_stock("S1", "i", 3, MONDAY.replace(tzinfo=None))
    with pytest.raises(ValidationError, match="stock"):
        model.report_stock("S1", "i", -1, MONDAY)
    with pytest.raises(ValidationError, match="item_id"):
        model.report_stock("S1", " ", 1, MONDAY)


@pytest.mark.parametrize(
    ("quantity", "supplier_id", "field"),
    [
        (0, "S1", "quantity"),
        (True, "S1", "quantity"),
        (2.0, "S1", "quantity"),
        (1, "", "supplier_id"),
    ],
)
def test_assess_rejects_bad_arguments_naming_them(
    quantity: object, supplier_id: object, field: str
) -> None:
    with pytest.raises(ValidationError, match=field) as info:
        TrustModel().assess(supplier_id, quantity, MONDAY, MONDAY)  # type: ignore[arg-type]
    assert info.value.field == field


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("half_life_days", 0.0),
        ("confidence", 1.0),
        ("default_cancel_rate", 0.0),
        ("quarantine_stockouts", 0),
        ("stock_exceeded_floor", 1.5),
        ("lead_grid_hours", (4.0, 2.0)),
        ("refit_every_events", -1),
        ("prior_strength_max", 1.0),
        ("quantity_k_default", 5.0),
    ],
)
def test_config_rejects_invalid_values_naming_field_and_value(field: str, value: object) -> None:
    with pytest.raises(ValidationError) as info:
        TrustConfig(**{field: value})  # type: ignore[arg-type]
    assert info.value.field == field
    assert repr(value) in str(info.value)


def test_model_rejects_a_config_of_the_wrong_type() -> None:
    with pytest.raises(ValidationError, match="config"):
        TrustModel({"half_life_days": 3})  # type: ignore[arg-type]


def test_assessment_enforces_its_invariants() -> None:
    a = TrustModel().assess("S1", 1, MONDAY, MONDAY + timedelta(days=1))
    with pytest.raises(ValidationError, match="p_cancel_upper"):
        attrs.evolve(a, p_cancel_upper=a.p_cancel / 2)
    with pytest.raises(ValidationError, match="p_cancel_by_deadline"):
        attrs.evolve(a, p_invoice_by_deadline=0.9, p_cancel_by_deadline=0.2)


@pytest.mark.parametrize("item_id", [["item-1"], 7, ""], ids=["list", "int", "empty"])
def test_assess_rejects_an_item_id_that_is_not_a_string_naming_it(item_id: object) -> None:
    model = TrustModel(FIXED)
    model.report_stock("S1", "item-1", 3, MONDAY)
    with pytest.raises(ValidationError, match="item_id") as info:
        model.assess("S1", 1, MONDAY, MONDAY + timedelta(days=1), item_id=item_id)  # type: ignore[arg-type]
    assert info.value.field == "item_id"


# --------------------------------------------------------------------------------------
# persistence
# --------------------------------------------------------------------------------------


def test_snapshot_round_trips_exactly_and_the_restored_model_answers_the_same() -> None:
    model = TrustModel()
    model.register_supplier(Supplier(supplier_id="S0", signals=SupplierSignals(seller_rank=3)))
    events = _mixed_stream()
    feed(model, events[: len(events) - 7])  # leave a few orders pending
    model.report_stock("S1", "item-1", 4, MONDAY + timedelta(days=5))
    state = model.snapshot()
    data = unstructure(state)
    again: TrustState = structure(data, TrustState)
    assert again == state
    restored = TrustModel.from_snapshot(again)
    now = MONDAY + timedelta(days=21)
    for sid in ("S0", "S1", "S4", "NEW"):
        for qty in (1, 6):
            args = (sid, qty, now, now + timedelta(days=2))
            kw = {"placed_at": now - timedelta(hours=5), "item_id": "item-1"}
            assert restored.assess(*args, **kw) == model.assess(*args, **kw)  # type: ignore[arg-type]
    feed(model, events[len(events) - 7 :])
    feed(restored, events[len(events) - 7 :])
    assert restored.snapshot() == model.snapshot()


@pytest.mark.parametrize("late_minutes", [30, -90])
def test_assessment_depends_on_the_state_not_on_what_was_cached(late_minutes: int) -> None:
    model = feed(TrustModel(), _mixed_stream())
    now = MONDAY + timedelta(days=21, minutes=45)
    ask_it = ("S1", 2, now, now + timedelta(days=2))
    model.assess(*ask_it, placed_at=now)  # caches S1's curve for this hour
    # a new order placed in this hour (30) or, arriving late, before it began (-90)
    model.observe(placed("S1", "new", now + timedelta(minutes=late_minutes - 45)))
    restored = TrustModel.from_snapshot(model.snapshot())  # no caches
    assert model.assess(*ask_it, placed_at=now) == restored.assess(*ask_it, placed_at=now)


def test_snapshot_is_plain_json_data() -> None:
    import json

    model = feed(TrustModel(), _mixed_stream()[:40])
    data = unstructure(model.snapshot())
    assert structure(json.loads(json.dumps(data)), TrustState) == model.snapshot()


# --------------------------------------------------------------------------------------
# Hypothesis properties
# --------------------------------------------------------------------------------------

OUTCOMES = st.sampled_from(["invoiced", "stock_out", "price_error", "pending"])
orders = st.lists(
    st.tuples(
        st.sampled_from(["A", "B", "C"]),  # supplier
        st.integers(1, 30),  # quantity
        st.floats(0, 24 * 20),  # placed, hours after MONDAY
        OUTCOMES,
        st.floats(0.1, 24 * 6),  # hours to the outcome
    ),
    max_size=25,
)


def build(
    history: list[tuple[str, int, float, str, float]], cfg: TrustConfig = FIXED
) -> TrustModel:
    timed: list[tuple[datetime, int, Event]] = []
    for i, (sid, qty, at_h, outcome, delay) in enumerate(history):
        at = MONDAY + timedelta(hours=at_h)
        timed.append((at, 0, placed(sid, f"o{i}", at, qty)))
        done = at + timedelta(hours=delay)
        if outcome == "invoiced":
            timed.append((done, 1, invoiced(sid, f"o{i}", done)))
        elif outcome != "pending":
            reason = STOCK_OUT if outcome == "stock_out" else CancelReason.PRICE_ERROR
            timed.append((done, 1, cancelled(sid, f"o{i}", done, reason)))
    model = feed(TrustModel(cfg), in_time_order(timed))
    model.register_supplier(Supplier(supplier_id="C", signals=SupplierSignals(seller_rank=9)))
    model.report_stock("A", "item-1", 15, NOW - timedelta(hours=1))  # A's queries check stock
    return model


NOW = MONDAY + timedelta(days=28)  # a Monday, 00:00 UTC
queries = st.tuples(
    st.sampled_from(["A", "B", "C", "D"]),
    st.integers(1, 60),
    st.floats(0, 24 * 10),  # placed this many hours before NOW
    st.floats(-24, 24 * 10),  # deadline this many hours after NOW
)


def ask(model: TrustModel, query: tuple[str, int, float, float]) -> TrustAssessment:
    sid, qty, ago, ahead = query
    return model.assess(
        sid,
        qty,
        NOW,
        NOW + timedelta(hours=ahead),
        placed_at=NOW - timedelta(hours=ago),
        item_id="item-1",
    )


@settings(max_examples=examples(60))
@given(orders, queries)
def test_assessments_are_probabilities_with_the_upper_bound_above_the_mean(
    history: list[tuple[str, int, float, str, float]], query: tuple[str, int, float, float]
) -> None:
    a = ask(build(history, TrustConfig()), query)
    attrs.validate(a)  # the validators accept what the fast constructor built
    assert hash(a) == hash(attrs.evolve(a))  # and it is a normal frozen value
    for p in (a.p_cancel, a.p_cancel_upper, a.p_invoice_by_deadline, a.p_cancel_by_deadline):
        assert 0.0 <= p <= 1.0
    assert a.p_cancel_upper >= a.p_cancel
    assert a.p_invoice_by_deadline + a.p_cancel_by_deadline <= 1.0 + 1e-12
    # a cancel at all is at least as likely as one by the deadline, and leaves room for tracking
    assert a.p_cancel_eventually is not None
    assert a.p_cancel_by_deadline <= a.p_cancel_eventually <= 1.0 - a.p_invoice_by_deadline + 1e-12
    if a.median_hours_to_invoice is not None and a.p90_hours_to_invoice is not None:
        assert a.median_hours_to_invoice <= a.p90_hours_to_invoice


@settings(max_examples=examples(60))
@given(orders, queries, st.integers(1, 60))
def test_a_larger_quantity_never_lowers_the_cancel_risk(
    history: list[tuple[str, int, float, str, float]],
    query: tuple[str, int, float, float],
    extra: int,
) -> None:
    model = build(history)
    small = ask(model, query)
    large = ask(model, (query[0], query[1] + extra, query[2], query[3]))
    assert large.p_cancel >= small.p_cancel
    assert large.p_cancel_upper >= small.p_cancel_upper


@settings(max_examples=examples(80))
@given(orders, queries, st.floats(0, 24 * 26), st.none() | st.integers(1, 60))
def test_one_more_stock_out_never_lowers_the_cancel_risk(
    history: list[tuple[str, int, float, str, float]],
    query: tuple[str, int, float, float],
    when_h: float,
    extra_qty: int | None,
) -> None:
    model = build(history)
    before = ask(model, query)
    at = MONDAY + timedelta(hours=when_h)
    if extra_qty is not None:  # an order of any size (None: never seen placed), then cancelled
        model.observe(placed(query[0], "extra", at, extra_qty, reported_stock=20))
    model.observe(cancelled(query[0], "extra", at + timedelta(hours=1)))
    after = ask(model, query)
    assert after.p_cancel >= before.p_cancel
    assert after.p_cancel_upper >= before.p_cancel_upper


@settings(max_examples=examples(60))
@given(orders, queries, st.floats(0, 24 * 10))
def test_a_later_deadline_never_lowers_either_by_deadline_probability(
    history: list[tuple[str, int, float, str, float]],
    query: tuple[str, int, float, float],
    extra_h: float,
) -> None:
    model = build(history)
    early = ask(model, query)
    late = ask(model, (query[0], query[1], query[2], query[3] + extra_h))
    assert late.p_invoice_by_deadline >= early.p_invoice_by_deadline - 1e-12
    assert late.p_cancel_by_deadline >= early.p_cancel_by_deadline - 1e-12


STILL = TrustConfig(refit_every_events=0, half_life_days=1e9, curve_refresh_hours=24)


@settings(max_examples=examples(60))
@given(orders, st.sampled_from(["A", "B", "D"]), st.floats(0, 23.9), st.floats(0, 23.9))
def test_waiting_longer_without_news_never_raises_the_chance_that_anything_happens_by_d(
    history: list[tuple[str, int, float, str, float]], sid: str, wait1: float, wait2: float
) -> None:
    # P(invoice by D) alone can rise with waiting (an early cancel window passes), but
    # P(invoice or cancel by D | pending at t) = (F(D) - F(t)) / S(t) never rises with t.
    model = build(history, STILL)  # NOW is 00:00 UTC: both times fall in one curve bucket
    placed_at = NOW - timedelta(hours=30)
    deadline = NOW + timedelta(days=3)
    t1, t2 = sorted((wait1, wait2))
    a1 = model.assess(sid, 1, NOW + timedelta(hours=t1), deadline, placed_at=placed_at)
    a2 = model.assess(sid, 1, NOW + timedelta(hours=t2), deadline, placed_at=placed_at)
    total1 = a1.p_invoice_by_deadline + a1.p_cancel_by_deadline
    total2 = a2.p_invoice_by_deadline + a2.p_cancel_by_deadline
    assert total2 <= total1 + 1e-9


@settings(max_examples=examples(40))
@given(orders)
def test_snapshot_round_trip_is_exact_for_any_history(
    history: list[tuple[str, int, float, str, float]],
) -> None:
    state = build(history, TrustConfig(refit_min_events=3)).snapshot()
    assert structure(unstructure(state), TrustState) == state


# the pending-order histogram: kept incrementally, equal to a count from scratch

OFFICE = BusinessCalendar(work_start_hour=9, work_end_hour=18)  # nights, weekends: ties in b
steps = st.lists(
    st.one_of(
        st.tuples(st.just("place"), st.sampled_from("AB"), st.integers(-6 * 4, 0)),  # late
        st.tuples(st.just("resolve"), st.sampled_from("AB"), st.integers(0, 10**6)),
        st.tuples(st.just("cancel"), st.sampled_from("AB"), st.integers(0, 10**6)),
        st.tuples(st.just("withdraw"), st.sampled_from("AB"), st.integers(0, 10**6)),
        st.tuples(st.just("wait"), st.just(""), st.integers(1, 4 * 60)),  # quarter hours
        st.tuples(st.just("assess"), st.sampled_from("AB"), st.integers(-4 * 30, 0)),
        st.tuples(st.just("refit"), st.just(""), st.just(0)),
    ),
    max_size=60,
)


def histogram_from_scratch(model: TrustModel, sid: str, tb: float) -> list[int]:
    """Pending orders of ``sid`` placed by ``tb`` per elapsed-time bin, one by one, on the
    model's lead-time clock (business hours, plus the learned share of the closed ones)."""
    grid = model.config.lead_grid_hours
    at = EPOCH + timedelta(hours=tb)
    counts = [0] * (len(grid) + 1)
    for p in model.snapshot().suppliers[sid].pending.values():
        if (p.placed_at - EPOCH).total_seconds() / 3600.0 <= tb:
            counts[bisect_right(grid, model._bh(p.placed_at, at))] += 1
    return counts


def check_histograms(model: TrustModel) -> None:
    for sid in model.suppliers():
        sup = model._sups[sid]
        if not math.isnan(sup.ztb) and sup.zv == model._zver:  # the counts taken at ztb on
            # the current lead-time clock, kept up to date since
            assert sup.zc == histogram_from_scratch(model, sid, sup.ztb)
            assert sup.zn == sum(sup.zc)
        if math.isnan(sup.ztb):  # never counted: nothing clocked yet
            assert len(sup.fresh) == len(sup.pending)
        else:  # the unclocked orders are the ones placed after the counts' bucket start
            assert all(p.placed_h > sup.ztb for p in sup.fresh.values())
        assert all(p.placed_h >= sup.fresh_h for p in sup.fresh.values())  # a lower bound


@settings(max_examples=examples(200), deadline=None)
@given(
    st.lists(st.integers(0, 4 * 24 * 24), min_size=1, max_size=40),  # open orders, 1/4 h ago
    steps,
    st.sampled_from([CAL, OFFICE]),
    st.sampled_from([1.0, 3.0, 0.5]),
    st.integers(0, 4 * 24 * 6),  # start, quarter hours after MONDAY 00:00 KST
)
def test_pending_histogram_is_kept_equal_to_a_count_from_scratch(
    open_orders: list[int],
    script: list[tuple[str, str, int]],
    calendar: BusinessCalendar,
    width: float,
    start: int,
) -> None:
    cfg = TrustConfig(refit_every_events=0, curve_refresh_hours=width)
    model = TrustModel(cfg, calendar=calendar)
    clock = MONDAY.replace(hour=0) + timedelta(minutes=15 * start)
    ids: dict[str, list[str]] = {"A": [], "B": []}
    serial = 0
    for sid in "AB":  # a history, so that the suppliers' own curves are built
        model.observe(placed(sid, f"h{sid}", clock - timedelta(days=13)))
        model.observe(invoiced(sid, f"h{sid}", clock - timedelta(days=12)))
    for ago in sorted(open_orders, reverse=True):
        serial += 1
        sid = "AB"[serial % 2]
        ids[sid].append(f"o{serial}")
        model.observe(placed(sid, f"o{serial}", clock - timedelta(minutes=15 * ago)))
    check_histograms(model)
    for kind, sid, n in script:
        if kind == "place":  # at the clock, or up to 6 hours before it (a late order)
            serial += 1
            ids[sid].append(f"o{serial}")
            model.observe(placed(sid, f"o{serial}", clock + timedelta(minutes=15 * n)))
        elif kind in {"resolve", "cancel"} and ids[sid]:
            oid = ids[sid].pop(n % len(ids[sid]))
            event = invoiced if kind == "resolve" else cancelled
            model.observe(event(sid, oid, clock))
        elif kind == "withdraw" and ids[sid]:
            oid = ids[sid].pop(n % len(ids[sid]))
            assert model.withdraw(sid, oid, clock)
        elif kind == "wait":
            clock += timedelta(minutes=15 * n)
        elif kind == "assess":  # now, or up to 30 hours ago (an earlier bucket)
            now = clock + timedelta(minutes=15 * n)
            got = model.assess(sid, 1, now, now + timedelta(days=2), placed_at=now)
            restored = TrustModel.from_snapshot(model.snapshot(), calendar=calendar)
            assert restored.assess(sid, 1, now, now + timedelta(days=2), placed_at=now) == got
        elif kind == "refit":  # censors orders pending past the grid and drops them
            model.refit_population()
        check_histograms(model)
        for sid_ in "AB":
            pending = model.snapshot().suppliers[sid_].pending
            ids[sid_] = [oid for oid in ids[sid_] if oid in pending]


@pytest.mark.parametrize("calendar", [CAL, OFFICE], ids=["default", "office-hours"])
def test_the_business_microsecond_clock_reproduces_every_business_hours_difference(
    calendar: BusinessCalendar,
) -> None:
    model = TrustModel(calendar=calendar)
    rng = random.Random(7)
    for _ in range(3000):  # quarter hours (exact bin edges) and odd microseconds, 1949..2099
        x = datetime(
            rng.choice([1949, 1975, 2024, 2025, 2026, 2060, 2099]),
            rng.randint(1, 11),
            rng.randint(1, 28),
            rng.randint(0, 23),
            rng.choice([0, 15, 30, 45]),
            rng.choice([0, 1]),
            rng.choice([0, 1, 999_999]),
            tzinfo=KST,
        )
        y = x + timedelta(minutes=15 * rng.randint(0, 2000), microseconds=rng.choice([0, 0, 1]))
        bx = model._bclock(x)
        by = model._bclock(y)
        assert bx is not None
        assert by is not None
        assert (by - bx) / 3_600_000_000 == calendar.business_hours_between(x, y)
    assert model._bclock(datetime(2100, 1, 2, tzinfo=KST)) is None  # outside the calendar


@attrs.frozen(kw_only=True)
class _OwnCalendar(BusinessCalendar):
    """A calendar subclass: the model cannot assume its business-hours arithmetic."""


def test_a_calendar_subclass_bins_pending_orders_one_by_one_with_the_same_result() -> None:
    own = _OwnCalendar(work_start_hour=9, work_end_hour=18)
    base = BusinessCalendar(work_start_hour=9, work_end_hour=18)
    events: list[Event] = [
        placed("S1", f"o{i}", MONDAY + timedelta(minutes=37 * i)) for i in range(300)
    ]
    events += [invoiced("S1", f"o{i}", MONDAY + timedelta(hours=200)) for i in range(0, 300, 3)]
    now = MONDAY + timedelta(hours=201)
    got = feed(TrustModel(FIXED, calendar=own), events)
    want = feed(TrustModel(FIXED, calendar=base), events)
    for placed_at in (now, now - timedelta(hours=30)):
        a = got.assess("S1", 1, now, now + timedelta(days=1), placed_at=placed_at)
        b = want.assess("S1", 1, now, now + timedelta(days=1), placed_at=placed_at)
        assert a.p_invoice_by_deadline == pytest.approx(b.p_invoice_by_deadline, abs=1e-12)
        assert a.p_cancel_by_deadline == pytest.approx(b.p_cancel_by_deadline, abs=1e-12)
        assert a.median_hours_to_invoice == pytest.approx(b.median_hours_to_invoice, abs=1e-9)
    assert got._sups["S1"].loose == 200
    assert want._sups["S1"].loose == 0


SHORT = TrustConfig(refit_every_events=0, half_life_days=0.5)  # re-bases every ~29 days
scripts = st.lists(
    st.tuples(
        st.sampled_from(["place", "ship", "cancel", "withdraw", "wait", "refit"]),
        st.sampled_from(["S1", "S2"]),
        st.integers(0, 10**6),
    ),
    max_size=40,
)


def run_script(model: TrustModel, script: list[tuple[str, str, int]]) -> datetime:
    clock = MONDAY
    open_ids: list[tuple[str, str]] = []
    for serial, (kind, supplier, n) in enumerate(script):
        if kind == "place":
            model.observe(placed(supplier, f"o{serial}", clock, 1 + n % 30))
            open_ids.append((supplier, f"o{serial}"))
        elif kind in {"ship", "cancel", "withdraw"} and open_ids:
            sid, oid = open_ids.pop(n % len(open_ids))
            if kind == "withdraw":
                model.withdraw(sid, oid, clock)
            elif kind == "ship":
                model.observe(invoiced(sid, oid, clock))
            else:
                model.observe(cancelled(sid, oid, clock))
        elif kind == "wait":
            clock += timedelta(hours=n % (24 * 60))
        elif kind == "refit":
            model.refit_population()
    return clock


@settings(max_examples=examples(100), deadline=None)
@given(scripts)
def test_registering_a_supplier_without_signals_first_changes_no_answer(
    script: list[tuple[str, str, int]],
) -> None:
    # registered before any event, S1's counts start at the epoch and are re-based at its
    # first outcome or withdrawal; the answers must not depend on that bookkeeping
    plain = TrustModel(SHORT)
    registered = TrustModel(SHORT)
    registered.register_supplier(Supplier(supplier_id="S1"))
    clock = run_script(plain, script)
    run_script(registered, script)
    restored = TrustModel.from_snapshot(registered.snapshot())
    now = clock + timedelta(hours=1)
    for sid in ("S1", "S2"):
        for placed_at in (now, now - timedelta(hours=20)):
            args = (sid, 2, now, now + timedelta(days=2))
            want = plain.assess(*args, placed_at=placed_at)
            got = registered.assess(*args, placed_at=placed_at)
            assert restored.assess(*args, placed_at=placed_at) == got
            for name in ("p_cancel", "p_invoice_by_deadline", "p_cancel_by_deadline"):
                assert getattr(got, name) == pytest.approx(getattr(want, name), abs=1e-9)


# --------------------------------------------------------------------------------------
# evaluation
# --------------------------------------------------------------------------------------


def test_score_predictions_computes_brier_log_loss_and_calibration() -> None:
    score = score_predictions([(0.2, True), (0.8, False), (0.25, False), (0.95, True)], bins=4)
    assert score.n == 4
    assert score.brier == pytest.approx((0.64 + 0.64 + 0.0625 + 0.0025) / 4)
    expected = -(math.log(0.2) + math.log(0.2) + math.log(0.75) + math.log(0.95)) / 4
    assert score.log_loss == pytest.approx(expected)
    assert score.base_rate == 0.5
    assert [b.count for b in score.bins] == [1, 1, 0, 2]
    assert score.bins[3].observed_rate == 0.5
    assert score.bins[2].mean_predicted is None


def test_log_loss_is_clipped_for_confident_mistakes() -> None:
    score = score_predictions([(0.0, True), (1.0, False)])
    assert math.isfinite(score.log_loss)
    assert score.log_loss == pytest.approx(-math.log(1e-15), rel=1e-4)


def test_score_predictions_rejects_bad_input() -> None:
    with pytest.raises(ValidationError):
        score_predictions([(1.2, True)])
    with pytest.raises(InsufficientHistoryError):
        score_predictions([])
    with pytest.raises(ValidationError, match="bins"):
        score_predictions([(0.5, True)], bins=0)


@pytest.mark.parametrize("eps", ["tiny", None])
def test_score_predictions_rejects_an_eps_that_is_not_a_number(eps: object) -> None:
    with pytest.raises(ValidationError, match="eps"):
        score_predictions([(0.5, True)], eps=eps)  # type: ignore[arg-type]


def test_score_predictions_rejects_an_item_that_is_not_a_pair() -> None:
    with pytest.raises(ValidationError, match="pair"):
        score_predictions([0.5])  # type: ignore[list-item]


def test_predict_online_rejects_a_model_that_is_not_a_trust_model() -> None:
    with pytest.raises(ValidationError, match="model"):
        predict_online([placed("S1", "a", MONDAY)], model="trust")  # type: ignore[arg-type]


def test_online_predictions_use_only_events_before_each_order() -> None:
    events = _mixed_stream()
    first = predict_online(events)
    last_order = next(e for e in reversed(events) if isinstance(e, SupplierOrderPlaced))
    flipped: list[Event] = []
    for e in events:
        if isinstance(e, SupplierInvoiced | SupplierCancelled) and (
            e.supplier_order_id == last_order.supplier_order_id
        ):
            e = (  # noqa: PLW2901
                cancelled(e.supplier_id, e.supplier_order_id, e.at)
                if isinstance(e, SupplierInvoiced)
                else invoiced(e.supplier_id, e.supplier_order_id, e.at)
            )
        flipped.append(e)
    second = predict_online(flipped)
    assert [p.p_model for p in first] == [p.p_model for p in second]
    assert first[-1].cancelled is not second[-1].cancelled or first[-1].cancelled is None
    assert first[0].prior_orders == 0
    assert first[0].p_model == pytest.approx(
        TrustModel().assess(first[0].supplier_id, first[0].quantity, MONDAY, MONDAY).p_cancel
    )


def test_model_beats_global_rate_and_raw_frequency_for_suppliers_with_few_orders() -> None:
    rng = random.Random(42)
    many = [
        Synth(f"B{i}", rng.betavariate(1.5, 12), k=0.8, quantities=(1, 1, 1, 2, 5, 10))
        for i in range(20)
    ]
    few = [
        Synth(f"F{i}", rng.betavariate(1.5, 12), k=0.8, quantities=(1, 1, 1, 2, 5, 10))
        for i in range(400)
    ]
    events = in_time_order(
        *(synth_orders(rng, s, 150, days=90) for s in many),
        *(synth_orders(rng, s, rng.randint(2, 12), days=90) for s in few),
    )
    predictions = predict_online(events)
    cold = compare_with_baselines(predictions, max_prior_orders=5)
    assert cold.model.n > 1500
    assert cold.model.brier < cold.global_rate.brier
    assert cold.model.brier < cold.supplier_rate.brier
    assert cold.model.log_loss < cold.global_rate.log_loss
    overall = compare_with_baselines(predictions)
    assert overall.model.brier < min(overall.global_rate.brier, overall.supplier_rate.brier)
    assert overall.model.calibration_error < 0.05


@pytest.mark.parametrize("seed", [43, 44])
def test_shrinkage_alone_beats_both_baselines_for_suppliers_with_one_to_five_orders(
    seed: int,
) -> None:
    rng = random.Random(seed)  # heterogeneous suppliers, one quantity: only shrinkage helps
    many = [Synth(f"B{i}", rng.betavariate(0.8, 6)) for i in range(20)]
    few = [Synth(f"F{i}", rng.betavariate(0.8, 6)) for i in range(300)]
    events = in_time_order(
        *(synth_orders(rng, s, 150, days=90) for s in many),
        *(synth_orders(rng, s, rng.randint(2, 12), days=90) for s in few),
    )
    cold = compare_with_baselines(predict_online(events), min_prior_orders=1, max_prior_orders=5)
    assert cold.model.n > 1000
    assert cold.model.brier < cold.global_rate.brier
    assert cold.model.brier < cold.supplier_rate.brier


def test_different_time_zones_describe_the_same_instants() -> None:
    utc_events: list[Event] = [
        placed("S1", "o1", MONDAY.astimezone(timezone.utc)),
        invoiced("S1", "o1", (MONDAY + timedelta(hours=20)).astimezone(timezone.utc)),
    ]
    kst_events: list[Event] = [
        placed("S1", "o1", MONDAY),
        invoiced("S1", "o1", MONDAY + timedelta(hours=20)),
    ]
    later = MONDAY + timedelta(days=2)
    a = feed(TrustModel(FIXED), utc_events).assess("S1", 1, later, later + timedelta(days=1))
    b = feed(TrustModel(FIXED), kst_events).assess("S1", 1, later, later + timedelta(days=1))
    assert a == b
