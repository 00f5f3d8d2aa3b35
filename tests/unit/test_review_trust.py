"""Regression tests from a review of the trust model and the confirmation-timing policies."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consign_core.domain.calendar import DEFAULT_CALENDAR, KST
from consign_core.domain.cancel_rate import Headroom
from consign_core.domain.events import SupplierCancelled, SupplierInvoiced, SupplierOrderPlaced
from consign_core.domain.model import (
    CancelReason,
    MarketOrder,
    OrderLine,
    OrderRef,
    Supplier,
    SupplierSignals,
    Tracking,
)
from consign_core.domain.rules import COUPANG, MetricStatus
from consign_core.domain.timing import (
    AwaitInvoice,
    ConfirmImmediately,
    DecisionContext,
    Escalate,
    ExpectedCost,
    SupplierOrderState,
    TrustThreshold,
    WaitForInvoice,
    decide_safely,
    last_safe_moment,
    make_policy,
)
from consign_core.domain.trust import (
    TrustAssessment,
    TrustConfig,
    TrustModel,
    TrustTier,
    predict_online,
    score_predictions,
)
from consign_core.errors import ConfigurationError, ValidationError


CAL = DEFAULT_CALENDAR
MONDAY = datetime(2025, 3, 10, 9, 0, tzinfo=KST)
REF = OrderRef(market="coupang", order_id="m-1")
FIXED = TrustConfig(refit_every_events=0)


def placed(
    sid: str, oid: str, at: datetime, qty: int = 1, stock: int | None = None
) -> SupplierOrderPlaced:
    return SupplierOrderPlaced(
        ref=REF,
        at=at,
        supplier_id=sid,
        supplier_order_id=oid,
        item_id="item-1",
        quantity=qty,
        reported_stock=stock,
    )


def invoiced(sid: str, oid: str, at: datetime) -> SupplierInvoiced:
    tracking = Tracking(courier="CJGLS", number=oid)
    return SupplierInvoiced(
        ref=REF, at=at, supplier_id=sid, supplier_order_id=oid, tracking=tracking
    )


def cancelled(sid: str, oid: str, at: datetime) -> SupplierCancelled:
    return SupplierCancelled(
        ref=REF, at=at, supplier_id=sid, supplier_order_id=oid, reason=CancelReason.STOCK_OUT
    )


def shipped_history(model: TrustModel, n: int = 30) -> TrustModel:
    for i in range(n):
        at = MONDAY + timedelta(hours=3 * i)
        model.observe(placed("S1", f"h{i}", at))
        model.observe(invoiced("S1", f"h{i}", at + timedelta(hours=10)))
    return model


def registered_model() -> TrustModel:
    """A model told about a supplier before it saw any event (as the docs' example does)."""
    model = TrustModel(FIXED)
    model.register_supplier(Supplier(supplier_id="S1", signals=SupplierSignals(seller_rank=3)))
    return model


# --------------------------------------------------------------------------------------
# censored exits are not lost when the scaled counts are re-based
# --------------------------------------------------------------------------------------


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


SHORT = TrustConfig(refit_every_events=0, half_life_days=0.5)  # re-bases every ~29 days
ops = st.lists(
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
            else:
                model.observe((invoiced if kind == "ship" else cancelled)(sid, oid, clock))
        elif kind == "wait":
            clock += timedelta(hours=n % (24 * 60))
        elif kind == "refit":
            model.refit_population()
    return clock


@settings(max_examples=100, deadline=None)
@given(ops)
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
# reported stock and quantity
# --------------------------------------------------------------------------------------


def test_a_cancel_above_a_stock_given_by_report_stock_is_discounted_as_if_on_the_event() -> None:
    at = MONDAY + timedelta(days=5)
    on_event = shipped_history(TrustModel(FIXED))
    on_event.observe(placed("S1", "big", at, 5, stock=2))
    by_report = shipped_history(TrustModel(FIXED))
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
    model = shipped_history(TrustModel(FIXED))
    at = MONDAY + timedelta(days=20)
    model.report_stock("S1", "item-1", 2, at - timedelta(days=FIXED.stock_report_max_age_days + 1))
    model.observe(placed("S1", "big", at, 5))
    assert not model.snapshot().suppliers["S1"].pending["big"].stock_exceeded


@pytest.mark.parametrize("quantity", [10**310, 10**400], ids=["1e310", "1e400"])
def test_an_absurdly_large_quantity_is_a_near_certain_cancel_not_an_overflow(
    quantity: int,
) -> None:
    model = shipped_history(TrustModel(FIXED))
    now = MONDAY + timedelta(days=5)
    a = model.assess("S1", quantity, now, now + timedelta(days=2))
    assert a.p_cancel == pytest.approx(1.0)
    assert a.p_cancel_upper == pytest.approx(1.0)


def test_observing_the_cancel_of_an_absurdly_large_order_keeps_the_model_consistent() -> None:
    model = shipped_history(TrustModel(TrustConfig(refit_every_events=0, quantity_k_default=3)))
    at = MONDAY + timedelta(days=5)
    model.observe(placed("S1", "huge", at, 10**120))
    model.observe(cancelled("S1", "huge", at + timedelta(hours=1)))
    state = model.snapshot().suppliers["S1"]
    assert state.pending == {}
    assert state.resolved["huge"] is True
    assert sum(state.lead_cancelled) > 0.0  # the cancel was counted, not lost half-way
    assert state.cancels_raw > 0.0


# --------------------------------------------------------------------------------------
# validation of the model's and the evaluation helpers' arguments
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("item_id", [["item-1"], 7, ""], ids=["list", "int", "empty"])
def test_assess_rejects_an_item_id_that_is_not_a_string_naming_it(item_id: object) -> None:
    model = TrustModel(FIXED)
    model.report_stock("S1", "item-1", 3, MONDAY)
    with pytest.raises(ValidationError, match="item_id") as info:
        model.assess("S1", 1, MONDAY, MONDAY + timedelta(days=1), item_id=item_id)  # type: ignore[arg-type]
    assert info.value.field == "item_id"


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


# --------------------------------------------------------------------------------------
# timing: contexts and policies reject bad input instead of misbehaving
# --------------------------------------------------------------------------------------

PAID = datetime(2025, 11, 3, 10, 0, tzinfo=KST)  # a Monday
SHIP_BY = datetime(2025, 11, 6, 0, 0, tzinfo=KST)


def make_order() -> MarketOrder:
    return MarketOrder(
        ref=OrderRef(market="coupang", order_id="O1"),
        lines=[OrderLine(sku="SKU", quantity=1, unit_price=20_000)],
        paid_at=PAID,
        ship_by=SHIP_BY,
    )


def make_trust(tier: TrustTier = TrustTier.TRUSTED) -> TrustAssessment:
    return TrustAssessment(
        supplier_id="S1",
        tier=tier,
        quantity=1,
        p_cancel=0.01,
        p_cancel_upper=0.02,
        p_invoice_by_deadline=0.97,
        p_cancel_by_deadline=0.01,
        median_hours_to_invoice=8.0,
        p90_hours_to_invoice=20.0,
        effective_n=120.0,
        stock_exceeded=False,
        reason="S1: 1 cancel in 120 recent orders",
    )


def make_headroom() -> Headroom:
    return Headroom(
        cancels_to_warning=10,
        cancels_to_sanction=30,
        metric="order_fulfilment",
        metric_title="order fulfilment",
        warning_level=MetricStatus.WARNING,
        sanction_metric="order_fulfilment",
        sanction_metric_title="order fulfilment",
        status=MetricStatus.OK,
        market_name="Coupang",
    )


def context_kwargs(**overrides: object) -> dict[str, object]:
    kwargs: dict[str, object] = {
        "order": make_order(),
        "now": PAID + timedelta(minutes=5),
        "trust": make_trust(),
        "headroom": make_headroom(),
        "profile": COUPANG,
        "supplier_state": SupplierOrderState.PLACED,
        "placed_at": PAID + timedelta(minutes=1),
    }
    kwargs.update(overrides)
    return kwargs


def test_a_supplier_state_given_as_its_string_value_is_rejected_not_confirmed() -> None:
    # "cancelled" is not SupplierOrderState.CANCELLED: accepted, it skipped the safety rule
    # and a policy confirmed an order whose supplier had cancelled it
    with pytest.raises(ValidationError, match="supplier_state") as info:
        DecisionContext(**context_kwargs(supplier_state="cancelled"))  # type: ignore[arg-type]
    assert info.value.field == "supplier_state"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("trust", None),
        ("headroom", None),
        ("order", "O1"),
        ("profile", "coupang"),
        ("unconfirmed_cancel_counts", "no"),
    ],
)
def test_a_context_of_the_wrong_types_is_rejected_naming_the_field(
    field: str, value: object
) -> None:
    with pytest.raises(ValidationError, match=field) as info:
        DecisionContext(**context_kwargs(**{field: value}))  # type: ignore[arg-type]
    assert info.value.field == field


def test_expected_cost_rejects_weights_that_are_not_weights() -> None:
    with pytest.raises(ValidationError, match="weights") as info:
        ExpectedCost(weights=None)  # type: ignore[arg-type]
    assert info.value.field == "weights"


@pytest.mark.parametrize("margin", [timedelta(hours=-30), 4, None])
def test_decide_safely_rejects_a_negative_or_non_timedelta_margin(margin: object) -> None:
    # a negative margin put the "last safe moment" after ship_by: a wait past the deadline
    context = DecisionContext(**context_kwargs())  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="margin") as info:
        decide_safely(AwaitInvoice(), context, margin=margin)  # type: ignore[arg-type]
    assert info.value.field == "margin"
    with pytest.raises(ValidationError, match="margin"):
        last_safe_moment(make_order(), margin)  # type: ignore[arg-type]


def test_decide_safely_rejects_something_that_is_not_a_context() -> None:
    with pytest.raises(ValidationError, match="context"):
        decide_safely(ConfirmImmediately(), None)  # type: ignore[arg-type]


def test_make_policy_rejects_a_name_that_is_not_a_string() -> None:
    with pytest.raises(ConfigurationError, match="unknown policy"):
        make_policy(["trust-threshold"])  # type: ignore[arg-type]


def test_trust_threshold_escalates_at_the_last_safe_moment_instead_of_waiting() -> None:
    policy = TrustThreshold()
    late = last_safe_moment(make_order(), policy.margin) + timedelta(minutes=10)
    context = DecisionContext(
        **context_kwargs(now=late, trust=make_trust(TrustTier.RISKY))  # type: ignore[arg-type]
    )
    decision = policy.decide(context)
    assert isinstance(decision, Escalate)
    assert "S1 is risky" in decision.reason
    early = DecisionContext(**context_kwargs(trust=make_trust(TrustTier.RISKY)))  # type: ignore[arg-type]
    assert isinstance(policy.decide(early), WaitForInvoice)
