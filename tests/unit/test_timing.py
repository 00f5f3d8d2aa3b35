"""Confirmation-timing policies: safety for every policy, monotonicity, determinism, reasons."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from consign_core.domain.calendar import DEFAULT_CALENDAR, KST
from consign_core.domain.cancel_rate import Headroom, Ledger
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
from consign_core.domain.rules import COUPANG, MetricStatus
from consign_core.domain.timing import (
    DEFAULT_POLICY_NAMES,
    AwaitInvoice,
    ConfirmationPolicy,
    ConfirmImmediately,
    ConfirmNow,
    DecisionContext,
    Escalate,
    ExpectedCost,
    ExpectedCostWeights,
    SupplierOrderState,
    TrustThreshold,
    WaitForInvoice,
    decide_safely,
    last_safe_moment,
    make_policy,
    policy_names,
)
from consign_core.domain.trust import TrustAssessment, TrustModel, TrustTier
from consign_core.errors import ConfigurationError, ValidationError


PAID = datetime(2025, 11, 3, 10, 0, tzinfo=KST)  # a Monday
SHIP_BY = datetime(2025, 11, 6, 0, 0, tzinfo=KST)
TIER_RISK_ORDER = [TrustTier.TRUSTED, TrustTier.UNPROVEN, TrustTier.RISKY, TrustTier.QUARANTINED]


def make_order(quantity: int = 1, unit_price: int = 20_000) -> MarketOrder:
    return MarketOrder(
        ref=OrderRef(market="coupang", order_id="O1"),
        lines=[OrderLine(sku="SKU", quantity=quantity, unit_price=unit_price)],
        paid_at=PAID,
        ship_by=SHIP_BY,
    )


def make_trust(**overrides: object) -> TrustAssessment:
    fields: dict[str, object] = {
        "supplier_id": "S1",
        "tier": TrustTier.TRUSTED,
        "quantity": 1,
        "p_cancel": 0.01,
        "p_cancel_upper": 0.02,
        "p_invoice_by_deadline": 0.97,
        "p_cancel_by_deadline": 0.01,
        "median_hours_to_invoice": 8.0,
        "p90_hours_to_invoice": 20.0,
        "effective_n": 120.0,
        "stock_exceeded": False,
        "reason": "S1: 1 cancel in 120 recent orders",
    }
    fields.update(overrides)
    return TrustAssessment(**fields)  # type: ignore[arg-type]


def make_headroom(to_warning: int | None = 10, to_sanction: int | None = 30) -> Headroom:
    return Headroom(
        cancels_to_warning=to_warning,
        cancels_to_sanction=to_sanction,
        metric="order_fulfilment",
        metric_title="order fulfilment",
        warning_level=MetricStatus.WARNING,
        sanction_metric="order_fulfilment",
        sanction_metric_title="order fulfilment",
        status=MetricStatus.OK,
        market_name="Coupang",
    )


def make_context(
    *,
    trust: TrustAssessment | None = None,
    headroom: Headroom | None = None,
    now: datetime = PAID + timedelta(minutes=5),
    state: SupplierOrderState = SupplierOrderState.PLACED,
    order: MarketOrder | None = None,
    alternates: int = 0,
    unconfirmed_cancel_counts: bool = True,
) -> DecisionContext:
    return DecisionContext(
        order=order or make_order(),
        now=now,
        trust=trust or make_trust(),
        headroom=headroom or make_headroom(),
        profile=COUPANG,
        supplier_state=state,
        placed_at=PAID + timedelta(minutes=1),
        alternates=alternates,
        unconfirmed_cancel_counts=unconfirmed_cancel_counts,
    )


ALL_POLICIES: list[ConfirmationPolicy] = [make_policy(name) for name in DEFAULT_POLICY_NAMES]


# --- strategies ---------------------------------------------------------------------------


@st.composite
def assessments(draw: st.DrawFn) -> TrustAssessment:
    p_cancel = draw(st.floats(0, 1))
    upper = draw(st.floats(p_cancel, 1))
    p_inv = draw(st.floats(0, 1))
    p_cb = draw(st.floats(0, 1 - p_inv))
    median = draw(st.none() | st.floats(0, 200))
    return make_trust(
        tier=draw(st.sampled_from(TrustTier)),
        quantity=draw(st.integers(1, 40)),
        p_cancel=p_cancel,
        p_cancel_upper=upper,
        p_invoice_by_deadline=p_inv,
        p_cancel_by_deadline=p_cb,
        median_hours_to_invoice=median,
        p90_hours_to_invoice=None if median is None else median * 2,
        stock_exceeded=draw(st.booleans()),
    )


headrooms = st.builds(
    make_headroom,
    to_warning=st.none() | st.integers(0, 50),
    to_sanction=st.none() | st.integers(0, 100),
)
policies = st.sampled_from(ALL_POLICIES)
moments = st.integers(0, 4 * 24 * 60).map(lambda minutes: PAID + timedelta(minutes=minutes))


@st.composite
def contexts(draw: st.DrawFn) -> DecisionContext:
    return make_context(
        trust=draw(assessments()),
        headroom=draw(headrooms),
        now=draw(moments),
        state=draw(st.sampled_from(SupplierOrderState)),
        order=make_order(quantity=draw(st.integers(1, 40))),
        alternates=draw(st.integers(0, 3)),
        unconfirmed_cancel_counts=draw(st.booleans()),
    )


# --- safety, for every policy ---------------------------------------------------------------


@given(policies, contexts())
def test_safety_rules_hold_for_every_policy(
    policy: ConfirmationPolicy, context: DecisionContext
) -> None:
    decision = decide_safely(policy, context)
    safe_until = last_safe_moment(context.order)
    state = context.supplier_state
    if state is SupplierOrderState.INVOICED:
        assert isinstance(decision, ConfirmNow)
        return
    if state is SupplierOrderState.CANCELLED:
        assert not isinstance(decision, ConfirmNow), "confirmed after the supplier cancelled"
    if context.trust.tier is TrustTier.QUARANTINED or context.trust.stock_exceeded:
        assert not isinstance(decision, ConfirmNow), "confirmed a blocked order before tracking"
    if context.now >= safe_until:
        assert not isinstance(decision, WaitForInvoice), (
            "left an order waiting past the last safe moment"
        )
    if isinstance(decision, WaitForInvoice):
        assert context.now < decision.recheck_at <= decision.until <= safe_until
    assert decision.reason.strip()


@given(policies, contexts())
def test_decisions_are_deterministic(policy: ConfirmationPolicy, context: DecisionContext) -> None:
    assert decide_safely(policy, context) == decide_safely(policy, attrs.evolve(context))


@pytest.mark.parametrize("policy", ALL_POLICIES, ids=DEFAULT_POLICY_NAMES)
def test_invoiced_order_is_confirmed_by_every_policy(policy: ConfirmationPolicy) -> None:
    context = make_context(
        trust=make_trust(tier=TrustTier.QUARANTINED), state=SupplierOrderState.INVOICED
    )
    assert isinstance(decide_safely(policy, context), ConfirmNow)


def test_a_misbehaving_policy_cannot_confirm_a_quarantined_supplier() -> None:
    context = make_context(trust=make_trust(tier=TrustTier.QUARANTINED))
    decision = decide_safely(ConfirmImmediately(), context)
    assert isinstance(decision, WaitForInvoice)
    assert "quarantined" in decision.reason


def test_a_wait_at_the_last_safe_moment_becomes_an_escalation() -> None:
    context = make_context(now=last_safe_moment(make_order()))
    decision = decide_safely(TrustThreshold(max_cancel_upper=0.0), context)
    assert isinstance(decision, Escalate)
    assert "deadline" in decision.reason


def test_a_wait_that_rechecks_in_the_past_is_pushed_forward() -> None:
    class Stale:
        name = "stale"

        def decide(self, context: DecisionContext) -> WaitForInvoice:
            past = context.now - timedelta(hours=1)
            return WaitForInvoice(until=past, recheck_at=past, reason="stale")

    context = make_context()
    decision = decide_safely(Stale(), context)
    assert isinstance(decision, WaitForInvoice)
    assert decision.recheck_at > context.now
    assert decision.until == last_safe_moment(context.order)


# --- monotonicity ----------------------------------------------------------------------------


def _riskier(low: TrustAssessment, bump: float, tier_steps: int) -> TrustAssessment:
    p_cb = min(1 - low.p_invoice_by_deadline, low.p_cancel_by_deadline + bump)
    p_cancel = min(1.0, low.p_cancel + bump)
    tier = TIER_RISK_ORDER[min(3, TIER_RISK_ORDER.index(low.tier) + tier_steps)]
    return attrs.evolve(
        low,
        p_cancel=p_cancel,
        p_cancel_upper=max(p_cancel, min(1.0, low.p_cancel_upper + bump)),
        p_cancel_by_deadline=p_cb,
        tier=tier,
    )


@given(
    st.sampled_from(ALL_POLICIES),
    contexts(),
    st.floats(0, 1),
    st.integers(0, 3),
)
def test_higher_supplier_risk_never_makes_confirming_now_more_likely(
    policy: ConfirmationPolicy, context: DecisionContext, bump: float, tier_steps: int
) -> None:
    riskier = attrs.evolve(context, trust=_riskier(context.trust, bump, tier_steps))
    if isinstance(decide_safely(policy, riskier), ConfirmNow):
        assert isinstance(decide_safely(policy, context), ConfirmNow)


def _riskier_as_the_model_sees_it(
    low: TrustAssessment, soon: float, after: float
) -> TrustAssessment:
    """More cancels, before and after the deadline, taken out of the orders that would have
    shipped by it (as the trust model moves them), so the chance of tracking falls too."""
    p_inv = max(0.0, low.p_invoice_by_deadline - soon - after)
    p_soon = min(1.0 - p_inv, low.p_cancel_by_deadline + soon)
    p_all = min(1.0 - p_inv, max(p_soon, low.cancel_eventually + soon + after))
    p_cancel = min(1.0, low.p_cancel + soon + after)
    return attrs.evolve(
        low,
        p_cancel=p_cancel,
        p_cancel_upper=max(p_cancel, min(1.0, low.p_cancel_upper + soon + after)),
        p_invoice_by_deadline=p_inv,
        p_cancel_by_deadline=p_soon,
        p_cancel_eventually=p_all,
    )


@given(st.sampled_from(ALL_POLICIES), contexts(), st.floats(0, 0.5), st.floats(0, 0.5))
def test_more_cancels_before_or_after_the_deadline_never_make_confirming_now_more_likely(
    policy: ConfirmationPolicy, context: DecisionContext, soon: float, after: float
) -> None:
    riskier = attrs.evolve(context, trust=_riskier_as_the_model_sees_it(context.trust, soon, after))
    if isinstance(decide_safely(policy, riskier), ConfirmNow):
        assert isinstance(decide_safely(policy, context), ConfirmNow)


def _late_reporting_supplier() -> TrustModel:
    """Ships in 5 business hours, except every sixth order: cancelled 80 business hours in."""
    model = TrustModel()
    start = datetime(2025, 6, 2, 9, 0, tzinfo=KST)
    ref = OrderRef(market="coupang", order_id="1")
    for i in range(60):
        at = start + timedelta(hours=20 * i)
        oid = f"o{i}"
        model.observe(
            SupplierOrderPlaced(
                ref=ref, at=at, supplier_id="SLOW", supplier_order_id=oid, item_id="I", quantity=1
            )
        )
        if i % 6 == 0:
            cancelled = SupplierCancelled(
                ref=ref,
                at=DEFAULT_CALENDAR.add_business_hours(at, 80),
                supplier_id="SLOW",
                supplier_order_id=oid,
                reason=CancelReason.STOCK_OUT,
            )
            model.observe(cancelled)
        else:
            shipped = SupplierInvoiced(
                ref=ref,
                at=DEFAULT_CALENDAR.add_business_hours(at, 5),
                supplier_id="SLOW",
                supplier_order_id=oid,
                tracking=Tracking(courier=Courier.CJ, number=str(i)),
            )
            model.observe(shipped)
    model.refit_population()
    return model


def test_a_supplier_that_reports_stock_outs_late_gets_no_easier_to_confirm_as_risk_grows() -> None:
    model = _late_reporting_supplier()
    now = datetime(2025, 7, 28, 10, 0, tzinfo=KST)
    ship_by = now + timedelta(hours=40)
    policy = ExpectedCost()
    margins = []
    for quantity in (1, 2, 4, 8, 12):  # larger orders: a higher cancel risk, mostly after ship_by
        trust = model.assess("SLOW", quantity, now, ship_by, placed_at=now)
        assert trust.cancel_eventually > 10 * trust.p_cancel_by_deadline
        order = MarketOrder(
            ref=OrderRef(market="coupang", order_id="1"),
            lines=[OrderLine(sku="X", quantity=quantity, unit_price=20_000 // quantity)],
            paid_at=now,
            ship_by=ship_by,
        )
        context = attrs.evolve(
            make_context(trust=trust, now=now, order=order), placed_at=now, alternates=1
        )
        costs = policy.costs(context)
        margins.append(costs["cost_confirm"] - costs["cost_wait"])
    # the case for waiting never shrinks as the risk grows (it used to, through the late term)
    assert all(b >= a - 1e-6 for a, b in itertools.pairwise(margins))


@given(st.sampled_from(ALL_POLICIES), contexts(), st.integers(0, 50), st.integers(0, 100))
def test_less_headroom_never_makes_confirming_now_more_likely(
    policy: ConfirmationPolicy, context: DecisionContext, cut_warning: int, cut_sanction: int
) -> None:
    room = context.headroom
    assume(room.cancels_to_warning is not None or room.cancels_to_sanction is not None)

    def cut(value: int | None, by: int) -> int | None:
        return None if value is None else max(0, value - by)

    tighter = attrs.evolve(
        context,
        headroom=make_headroom(
            cut(room.cancels_to_warning, cut_warning), cut(room.cancels_to_sanction, cut_sanction)
        ),
    )
    if isinstance(decide_safely(policy, tighter), ConfirmNow):
        assert isinstance(decide_safely(policy, context), ConfirmNow)


@given(st.floats(0, 1), st.floats(0, 1))
def test_cancel_penalty_rises_as_headroom_shrinks(a: float, b: float) -> None:
    weights = ExpectedCostWeights()
    more, less = int(max(a, b) * 20), int(min(a, b) * 20)
    assert weights.cancel_penalty(less, less) >= weights.cancel_penalty(more, more)
    assert weights.cancel_penalty(None, None) == weights.seller_fault_cancel


# --- the policies one by one -------------------------------------------------------------------


def test_confirm_immediately_confirms_a_fresh_order() -> None:
    decision = decide_safely(ConfirmImmediately(), make_context())
    assert isinstance(decision, ConfirmNow)
    assert "baseline" in decision.reason


def test_await_invoice_waits_until_the_last_safe_moment_then_confirms() -> None:
    policy = AwaitInvoice()
    early = decide_safely(policy, make_context())
    assert isinstance(early, WaitForInvoice)
    assert early.until == last_safe_moment(make_order())
    late = decide_safely(policy, make_context(now=early.until))
    assert isinstance(late, ConfirmNow)


def test_trust_threshold_makes_group_orders_wait() -> None:
    context = make_context(order=make_order(quantity=12), trust=make_trust(quantity=12))
    decision = decide_safely(TrustThreshold(group_quantity=10), context)
    assert isinstance(decision, WaitForInvoice)
    assert "12 units >= 10" in decision.reason


def test_trust_threshold_waits_when_no_headroom_is_left() -> None:
    context = make_context(headroom=make_headroom(to_warning=0))
    assert isinstance(decide_safely(TrustThreshold(), context), WaitForInvoice)


def test_expected_cost_confirms_a_reliable_supplier_at_once() -> None:
    decision = decide_safely(ExpectedCost(), make_context())
    assert isinstance(decision, ConfirmNow)
    assert decision.numbers["cost_confirm"] <= decision.numbers["cost_wait"]


def test_expected_cost_waits_for_a_risky_supplier_and_rechecks() -> None:
    risky = make_trust(
        tier=TrustTier.RISKY,
        p_cancel=0.3,
        p_cancel_upper=0.45,
        p_cancel_by_deadline=0.3,
        p_invoice_by_deadline=0.65,
    )
    context = make_context(trust=risky, alternates=1)
    decision = decide_safely(ExpectedCost(recheck_every=timedelta(hours=2)), context)
    assert isinstance(decision, WaitForInvoice)
    assert decision.recheck_at == context.now + timedelta(hours=2)
    assert decision.numbers["cost_confirm"] > decision.numbers["cost_wait"]
    assert "wait for tracking until" in decision.reason


def test_expected_cost_gets_stricter_near_a_sanction() -> None:
    middling = make_trust(
        p_cancel=0.04, p_cancel_upper=0.06, p_cancel_by_deadline=0.04, p_invoice_by_deadline=0.93
    )
    relaxed = decide_safely(
        ExpectedCost(),
        make_context(trust=middling, headroom=make_headroom(None, None), alternates=1),
    )
    tight = decide_safely(
        ExpectedCost(), make_context(trust=middling, headroom=make_headroom(0, 1), alternates=1)
    )
    assert isinstance(relaxed, ConfirmNow)
    assert isinstance(tight, WaitForInvoice)


@given(st.sampled_from(ALL_POLICIES), contexts(), st.integers(1, 3))
def test_more_alternates_never_make_confirming_now_more_likely(
    policy: ConfirmationPolicy, context: DecisionContext, extra: int
) -> None:
    more = attrs.evolve(context, alternates=context.alternates + extra)
    if isinstance(decide_safely(policy, more), ConfirmNow):
        assert isinstance(decide_safely(policy, context), ConfirmNow)


def test_expected_cost_confirms_when_waiting_cannot_avoid_the_cancel() -> None:
    risky = make_trust(
        tier=TrustTier.RISKY,
        p_cancel=0.3,
        p_cancel_upper=0.45,
        p_cancel_by_deadline=0.3,
        p_invoice_by_deadline=0.65,
    )
    no_way_out = decide_safely(ExpectedCost(), make_context(trust=risky, alternates=0))
    assert isinstance(no_way_out, ConfirmNow)
    assert "waiting would not avoid the cancel" in no_way_out.reason
    uncounted = make_context(trust=risky, alternates=0, unconfirmed_cancel_counts=False)
    assert isinstance(decide_safely(ExpectedCost(), uncounted), WaitForInvoice)


def test_trust_threshold_escalates_at_the_last_safe_moment_instead_of_waiting() -> None:
    policy = TrustThreshold()
    late = last_safe_moment(make_order(), policy.margin) + timedelta(minutes=10)
    context = make_context(now=late, trust=make_trust(tier=TrustTier.RISKY))
    decision = policy.decide(context)
    assert isinstance(decision, Escalate)
    assert "S1 is risky" in decision.reason
    early = make_context(trust=make_trust(tier=TrustTier.RISKY))
    assert isinstance(policy.decide(early), WaitForInvoice)


# --- construction --------------------------------------------------------------------------------


def test_policy_names_are_the_four_built_ins() -> None:
    assert policy_names() == (
        "confirm-immediately",
        "await-invoice",
        "trust-threshold",
        "expected-cost",
    )
    assert [make_policy(name).name for name in policy_names()] == list(policy_names())


def test_make_policy_passes_parameters_and_weights() -> None:
    policy = make_policy(
        "expected-cost", seller_fault_cancel=50_000.0, recheck_every=timedelta(hours=1)
    )
    assert isinstance(policy, ExpectedCost)
    assert policy.weights.seller_fault_cancel == 50_000.0
    assert policy.recheck_every == timedelta(hours=1)


def test_unknown_policy_or_parameter_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match=r"unknown policy 'yolo'.*expected-cost"):
        make_policy("yolo")
    with pytest.raises(ConfigurationError, match="bad parameters for policy 'trust-threshold'"):
        make_policy("trust-threshold", nonsense=1)


def test_invalid_weights_name_the_field() -> None:
    with pytest.raises(ValidationError, match="buyer_cancel_per_hour"):
        ExpectedCostWeights(buyer_cancel_per_hour=2.0)


def test_a_supplier_state_given_as_its_string_value_is_rejected_not_confirmed() -> None:
    # "cancelled" is not SupplierOrderState.CANCELLED: accepted, it skipped the safety rule
    # and a policy confirmed an order whose supplier had cancelled it
    with pytest.raises(ValidationError, match="supplier_state") as info:
        attrs.evolve(make_context(), supplier_state="cancelled")  # type: ignore[arg-type]
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
        attrs.evolve(make_context(), **{field: value})  # type: ignore[arg-type]
    assert info.value.field == field


def test_expected_cost_rejects_weights_that_are_not_weights() -> None:
    with pytest.raises(ValidationError, match="weights") as info:
        ExpectedCost(weights=None)  # type: ignore[arg-type]
    assert info.value.field == "weights"


@pytest.mark.parametrize("margin", [timedelta(hours=-30), 4, None])
def test_decide_safely_rejects_a_negative_or_non_timedelta_margin(margin: object) -> None:
    # a negative margin put the "last safe moment" after ship_by: a wait past the deadline
    context = make_context()
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


# --- the seller's story, with the real trust model and ledger -----------------------------------


def _history(
    model: TrustModel, supplier: str, orders: int, *, stock_outs: tuple[int, ...] = ()
) -> None:
    start = datetime(2025, 9, 1, 10, 0, tzinfo=KST)
    for i in range(orders):
        at = start + timedelta(hours=12 * i)
        ref = OrderRef(market="coupang", order_id=f"{supplier}-{i}")
        common: dict[str, Any] = {
            "ref": ref,
            "supplier_id": supplier,
            "supplier_order_id": f"D-{supplier}-{i}",
        }
        model.observe(SupplierOrderPlaced(at=at, item_id="ITEM", quantity=1, **common))
        if i in stock_outs:
            model.observe(
                SupplierCancelled(
                    at=at + timedelta(hours=3), reason=CancelReason.STOCK_OUT, **common
                )
            )
        else:
            tracking = Tracking(courier=Courier.CJ, number=f"T{i}")
            model.observe(SupplierInvoiced(at=at + timedelta(hours=6), tracking=tracking, **common))


def _busy_coupang_ledger(now: datetime) -> Ledger:
    """A seller with 500 orders in the last 6 days, each shipped a day after payment."""
    events: list[OrderPaid | InvoiceUploaded] = []
    for i in range(500):
        paid = now - timedelta(days=6) + timedelta(minutes=17 * i)
        order = MarketOrder(
            ref=OrderRef(market="coupang", order_id=f"past-{i}"),
            lines=[OrderLine(sku="SKU", quantity=1, unit_price=20_000)],
            paid_at=paid,
            ship_by=paid + timedelta(days=3),
        )
        events.append(OrderPaid(order=order))
        shipped = paid + timedelta(days=1)
        if shipped <= now:
            tracking = Tracking(courier=Courier.CJ, number=f"P{i}")
            events.append(InvoiceUploaded(ref=order.ref, at=shipped, tracking=tracking))
    ledger = Ledger(COUPANG)
    for event in sorted(events, key=lambda e: e.at):
        ledger.observe(event)
    return ledger


def test_sellers_story_group_order_waits_and_reliable_single_unit_is_confirmed() -> None:
    """The seller maps a second source for the gift set, so a stock-out found before
    confirmation can be rerouted instead of becoming a seller-fault cancel."""
    model = TrustModel()
    _history(model, "RELIABLE", 120)
    _history(model, "GIFTSET", 60, stock_outs=(57,))  # a stock-out a day and a half ago
    for other in ("A", "B", "C", "D", "E"):
        _history(model, other, 30, stock_outs=(4,))
    model.refit_population()
    now = datetime(2025, 10, 2, 9, 0, tzinfo=KST)
    ledger = _busy_coupang_ledger(now)

    def context_for(supplier: str, quantity: int) -> DecisionContext:
        order = MarketOrder(
            ref=OrderRef(market="coupang", order_id=f"new-{supplier}"),
            lines=[OrderLine(sku="GIFT-SET", quantity=quantity, unit_price=15_000)],
            paid_at=now - timedelta(minutes=10),
            ship_by=COUPANG.ship_by_deadline(now - timedelta(minutes=10), DEFAULT_CALENDAR),
        )
        return DecisionContext(
            order=order,
            now=now,
            trust=model.assess(supplier, quantity, now, order.ship_by, placed_at=now),
            headroom=ledger.headroom(now, order),
            profile=COUPANG,
            supplier_state=SupplierOrderState.PLACED,
            placed_at=now,
            alternates=1,
        )

    group = context_for("GIFTSET", 20)
    single = context_for("RELIABLE", 1)
    for policy in (ExpectedCost(), TrustThreshold()):
        assert not isinstance(decide_safely(policy, group), ConfirmNow), policy.name
        decision = decide_safely(policy, single)
        assert isinstance(decision, ConfirmNow), (policy.name, decision.reason)
    waiting = decide_safely(ExpectedCost(), group)
    assert "20 units" in waiting.reason


# --------------------------------------------------------------------------- a brand-new account


def _first_order_costs(profile: Any) -> dict[str, float]:
    """expected-cost's figures for the first order of a new account (nothing else in the
    window), from a supplier with no history, decided when the supplier order is placed."""
    order = make_order(unit_price=10_000)
    ledger = Ledger(profile)
    ledger.observe(OrderPaid(order=order))
    trust = TrustModel().assess("S1", 1, PAID, order.ship_by, placed_at=PAID)
    context = attrs.evolve(
        make_context(order=order, now=PAID, trust=trust, headroom=ledger.headroom(PAID, order)),
        profile=profile,
        placed_at=PAID,
    )
    return ExpectedCost().costs(context)


def test_expected_cost_prices_a_new_accounts_first_order_at_the_base_penalty() -> None:
    """One order in the window: the floor leaves order fulfilment unrated, so one cancel is
    priced as a cancel with plenty of headroom, not as one from sanction."""
    weights = ExpectedCostWeights()
    floored = _first_order_costs(COUPANG)
    unfloored = _first_order_costs(COUPANG.with_metric("order_fulfilment", minimum_volume=None))
    assert floored["penalty"] == weights.seller_fault_cancel
    assert unfloored["penalty"] == weights.cancel_penalty(1, 1)  # one cancel from sanction
    assert floored["cost_confirm"] < unfloored["cost_confirm"]
    assert floored["p_fail"] == unfloored["p_fail"]  # the same supplier risk, priced lower
