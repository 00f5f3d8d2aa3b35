"""The simulator: reproducible, fair (common random numbers), honest accounting, real workflow."""

from __future__ import annotations

import gc
import json
import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consign_core.domain.calendar import KST
from consign_core.domain.model import CancelReason, Courier
from consign_core.domain.timing import DEFAULT_POLICY_NAMES, ExpectedCostWeights
from consign_core.domain.trust import TrustModel
from consign_core.errors import ConfigurationError, ConsignError, ValidationError
from consign_core.lab import compare_policies, sim
from consign_core.lab._runner import DEFAULT_CADENCE_MINUTES
from consign_core.lab._world import SourceDraws, WorldSupplier, build_world, outcome_of
from consign_core.lab.sim import (
    SCENARIOS,
    BuyerModel,
    PersonModel,
    Scenario,
    SupplierType,
    get_scenario,
    scenario_names,
    simulate,
    simulate_log,
)
from consign_core.lab.sweep import SweepSpec, grid, run_sweep


SMALL = get_scenario("default").evolve(name="small", suppliers=12, days=20.0)
ORDERS = 400


def run(
    policy: str, *, seed: int = 1, scenario: Scenario = SMALL, orders: int = ORDERS
) -> sim.PolicyResult:
    return simulate(scenario, policy, seed=seed, orders=orders)


# ---------------------------------------------------------------------------- scenarios


def test_the_four_required_scenarios_are_built_in_and_documented() -> None:
    names = scenario_names()
    assert names[0] == "default"
    assert {"default", "flaky-suppliers", "holiday-season", "group-orders"} <= set(names)
    for scenario in SCENARIOS.values():
        assert scenario.description, scenario.name


def test_holiday_season_runs_over_chuseok_2025() -> None:
    scenario = get_scenario("holiday-season")
    assert scenario.start <= datetime(2025, 10, 3, tzinfo=KST) < scenario.end
    assert scenario.end >= datetime(2025, 10, 10, tzinfo=KST)


def test_flaky_suppliers_has_a_worse_mix_than_default() -> None:
    def mean_rate(s: Scenario) -> float:
        total = sum(t.share for t in s.supplier_types)
        return sum(t.share * t.cancel_rate for t in s.supplier_types) / total

    assert mean_rate(get_scenario("flaky-suppliers")) > mean_rate(get_scenario("default"))


def test_unknown_scenario_names_the_choices() -> None:
    with pytest.raises(ConfigurationError, match="default"):
        get_scenario("nope")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"alternate_share": 1.5}, "alternate_share"),
        ({"suppliers": 0}, "suppliers"),
        ({"days": -1.0}, "days"),
        ({"market": "nowhere"}, "market"),
        ({"group_quantity": (5, 2)}, "group_quantity"),
        ({"hourly_profile": (1.0,) * 23}, "hourly_profile"),
        ({"start": datetime(2025, 1, 1)}, "start"),  # noqa: DTZ001 - the point of the test
        ({"supplier_types": ()}, "supplier_types"),
    ],
)
def test_invalid_scenario_fields_are_named(changes: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        SMALL.evolve(**changes)
    assert info.value.field == field
    assert field in str(info.value)


def test_supplier_type_and_models_validate_their_fields() -> None:
    with pytest.raises(ValidationError, match="cancel_rate"):
        SupplierType(name="x", share=1.0, cancel_rate=2.0, hours_to_tracking=10.0)
    with pytest.raises(ValidationError, match="recheck_hours"):
        PersonModel(recheck_hours=0.0)
    with pytest.raises(ValidationError, match="base_per_hour"):
        BuyerModel(base_per_hour=-0.1)


def test_scenario_profile_keeps_unconfirmed_flags_and_sets_ship_by() -> None:
    profile = SMALL.evolve(ship_by_business_days=3).profile()
    assert profile.ship_by.business_days == 3
    assert profile.is_unconfirmed("ship_by.business_days")
    assert SMALL.evolve(ship_by_business_days=None).profile().ship_by.business_days == 1


# ---------------------------------------------------------------------------- world


def test_world_has_exactly_the_orders_asked_in_arrival_order() -> None:
    world = build_world(SMALL, 3, 250)
    orders = list(world.orders())
    assert len(orders) == 250
    paid = [o.paid_us for o in orders]
    assert paid == sorted(paid)
    assert all(o.order.ship_by >= o.order.paid_at for o in orders)
    assert len({o.order.ref for o in orders}) == 250


def test_world_follows_the_daily_seasonality() -> None:
    world = build_world(SMALL.evolve(days=60.0), 5, 3000)
    hours = [o.order.paid_at.astimezone(KST).hour for o in world.orders()]
    night = sum(1 for h in hours if 2 <= h <= 5)
    evening = sum(1 for h in hours if 20 <= h <= 23)
    assert evening > 5 * night


def test_group_orders_appear_at_their_share() -> None:
    scenario = SMALL.evolve(group_order_share=0.3, group_quantity=(10, 12))
    quantities = [o.order.quantity for o in build_world(scenario, 2, 1000).orders()]
    share = sum(1 for q in quantities if q >= 10) / len(quantities)
    assert 0.22 < share < 0.38


def test_larger_orders_are_likelier_to_stock_out() -> None:
    world = build_world(SMALL, 1, 10)
    supplier = world.suppliers[0]
    at = world.orders().__next__().paid_us
    small = supplier.cancel_probability(at, supplier.usual_quantity, 0.8)
    large = supplier.cancel_probability(at, 20, 0.8)
    assert large > small


def test_suppliers_can_turn_bad_mid_run() -> None:
    world = build_world(SMALL.evolve(turn_bad_share=1.0, turn_bad_cancel_rate=0.9), 1, 10)
    supplier = world.suppliers[0]
    assert supplier.bad_from_us is not None
    before = supplier.cancel_probability(supplier.bad_from_us - 1, 1, 0.0)
    after = supplier.cancel_probability(supplier.bad_from_us, 1, 0.0)
    assert after == 0.9 > before


def test_supplier_outcome_times_skip_non_business_days() -> None:
    world = build_world(SMALL, 1, 5)
    order = next(world.orders())
    supplier = world.by_id[order.sources[0][0]]
    saturday = datetime(2025, 3, 8, 10, 0, tzinfo=KST)
    from consign_core.lab._world import to_us

    _cancelled, at, _reason = outcome_of(
        supplier, order.draws[0], 1, saturday, to_us(saturday), SMALL
    )
    assert at.astimezone(KST).weekday() < 5  # nothing happens before Monday


@given(threshold=st.floats(0.0, 20.0), already=st.floats(0.0, 200.0))
def test_buyer_patience_inverts_the_cumulative_hazard(threshold: float, already: float) -> None:
    buyer = BuyerModel()
    hours = buyer.patience_hours(threshold, already)
    assert hours >= already
    assert math.isclose(
        buyer.cumulative(hours) - buyer.cumulative(already), threshold, rel_tol=1e-6, abs_tol=1e-9
    )


def test_buyer_without_hazard_never_cancels() -> None:
    assert BuyerModel(base_per_hour=0.0, growth_per_hour2=0.0).patience_hours(1.0) == math.inf


# ---------------------------------------------------------------------------- runs


def test_same_seed_and_scenario_give_identical_json() -> None:
    a = compare_policies(SMALL, ["expected-cost"], seeds=[4], orders=300).to_dict()
    b = compare_policies(SMALL, ["expected-cost"], seeds=[4], orders=300).to_dict()
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def test_different_seeds_give_different_worlds() -> None:
    a = run("confirm-immediately", seed=1)
    b = run("confirm-immediately", seed=2)
    assert (a.supplier_cancels, a.late_shipments, a.cost.total) != (
        b.supplier_cancels,
        b.late_shipments,
        b.cost.total,
    )


def test_every_policy_faces_the_same_orders() -> None:
    results = [run(p) for p in DEFAULT_POLICY_NAMES]
    assert {r.orders for r in results} == {ORDERS}


@pytest.mark.parametrize("policy", DEFAULT_POLICY_NAMES)
def test_every_order_ends_exactly_one_way(policy: str) -> None:
    r = run(policy)
    assert r.shipped + r.seller_fault_cancels + r.buyer_cancels + r.open_at_end == r.orders
    assert r.open_at_end == 0  # the simulator drains every order
    assert r.stock_out_cancels <= r.seller_fault_cancels
    assert 0.0 <= r.seller_fault_cancel_rate <= 1.0
    assert r.confirmed >= r.shipped


def test_confirm_immediately_confirms_in_the_engine_run_that_takes_the_order_in() -> None:
    r = run("confirm-immediately")
    cadence_hours = DEFAULT_CADENCE_MINUTES / 60.0
    # the engine sees a paid order at its next run (on a 10-minute grid) and confirms it then
    assert r.median_hours_to_confirm is not None
    assert 0.0 <= r.median_hours_to_confirm <= cadence_hours
    assert r.median_hours_to_confirm > 0.0  # orders are paid between runs, not at them
    assert r.buyer_cancels < r.orders * 0.02


def test_await_invoice_waits_for_tracking_and_bears_fewer_seller_fault_cancels() -> None:
    immediate = run("confirm-immediately", scenario=SMALL.evolve(alternate_share=1.0))
    waiting = run("await-invoice", scenario=SMALL.evolve(alternate_share=1.0))
    assert waiting.median_hours_to_confirm is not None
    assert waiting.median_hours_to_confirm > 5.0
    assert waiting.rerouted > immediate.rerouted
    assert waiting.seller_fault_cancels < immediate.seller_fault_cancels
    assert waiting.buyer_cancels > immediate.buyer_cancels


def test_without_alternates_waiting_cannot_avoid_honest_stock_out_cancels() -> None:
    scenario = SMALL.evolve(
        alternate_share=0.0, buyer=BuyerModel(base_per_hour=0.0, growth_per_hour2=0.0)
    )
    immediate = run("confirm-immediately", scenario=scenario)
    waiting = run("await-invoice", scenario=scenario)
    assert waiting.rerouted == immediate.rerouted == 0
    assert waiting.seller_fault_cancels == immediate.seller_fault_cancels


def test_costs_use_the_given_weights_for_every_component() -> None:
    base = run("await-invoice")
    free_delay = simulate(
        SMALL,
        "await-invoice",
        seed=1,
        orders=ORDERS,
        weights=ExpectedCostWeights(delay_per_hour=0.0),
    )
    assert free_delay.cost.delay == 0.0
    assert base.cost.delay > 0.0
    assert free_delay.seller_fault_cancels == base.seller_fault_cancels
    assert base.cost.total == pytest.approx(
        base.cost.seller_fault_cancels
        + base.cost.lost_sales
        + base.cost.delay
        + base.cost.late_shipments
        + base.cost.escalations
    )
    assert base.cost.escalations == base.escalations * SMALL.person.cost_per_escalation


def test_metrics_are_sampled_daily_for_every_profile_metric() -> None:
    r = run("confirm-immediately")
    names = [m.name for m in r.metrics]
    assert names == [m.name for m in SMALL.profile().metrics]
    for m in r.metrics:
        assert m.days_ok + m.days_warning + m.days_sanction == len(m.timeline) >= 19
        assert set(m.timeline) <= {"o", "w", "s"}
        assert m.worst_status in {"ok", "warning", "sanction"}


def test_slow_suppliers_are_escalated_and_given_up_by_the_person() -> None:
    slow = tuple(
        attrs.evolve(t, hours_to_tracking=400.0, tracking_sigma=0.1) for t in SMALL.supplier_types
    )
    scenario = SMALL.evolve(supplier_types=slow, person=PersonModel(give_up_hours=24.0))
    r = simulate(scenario, "confirm-immediately", seed=1, orders=60)
    assert r.escalations >= r.orders * 0.9
    assert r.late_shipments >= r.orders * 0.9
    # the person's give-up cancels are honest seller-fault cancels, not stock-outs
    assert r.seller_fault_cancels > r.stock_out_cancels


def test_a_policy_object_and_params_are_accepted() -> None:
    from consign_core.domain.timing import TrustThreshold

    by_object = simulate(SMALL, TrustThreshold(group_quantity=5), seed=1, orders=100)
    by_name = simulate(SMALL, "trust-threshold", params={"group_quantity": 5}, seed=1, orders=100)
    assert by_object.to_dict()["seller_fault_cancels"] == by_name.seller_fault_cancels
    assert by_name.params == {"group_quantity": 5}
    with pytest.raises(ConfigurationError):
        simulate(SMALL, TrustThreshold(), params={"x": 1}, orders=10)


@pytest.mark.parametrize("bad", [0, -5, 1.5, True])
def test_bad_order_counts_are_rejected(bad: object) -> None:
    with pytest.raises(ConfigurationError, match="orders"):
        simulate(SMALL, "confirm-immediately", orders=bad)  # type: ignore[arg-type]


def test_bad_seed_and_policy_are_rejected() -> None:
    with pytest.raises(ConfigurationError, match="seed"):
        simulate(SMALL, "confirm-immediately", seed="1", orders=10)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="unknown policy"):
        simulate(SMALL, "sometimes", orders=10)
    with pytest.raises(ConfigurationError, match="Scenario"):
        simulate(42, "confirm-immediately", orders=10)  # type: ignore[arg-type]


@pytest.mark.parametrize("threshold", [(700, 10, 10), (0, 10, 10), (50_000, 5, 5)])
def test_a_run_leaves_the_garbage_collector_alone(threshold: tuple[int, int, int]) -> None:
    seen: list[tuple[int, int, int]] = []
    before = gc.get_threshold()
    gc.set_threshold(*threshold)
    try:
        result = simulate(
            SMALL,
            "confirm-immediately",
            seed=1,
            orders=50,
            progress=lambda _d, _t: seen.append(gc.get_threshold()),
        )
        assert gc.get_threshold() == threshold
    finally:
        gc.set_threshold(*before)
    assert result == run("confirm-immediately", orders=50)
    assert seen  # looked during the run, too
    assert all(t == threshold for t in seen)  # no process-wide change, not even for the run


def test_the_simulator_drives_the_production_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    from consign_core.engine import Engine

    runs: list[datetime] = []
    engines: list[Engine] = []
    original = Engine.run_once

    def spy(self: Engine, now: datetime, events: Any = ()) -> Any:
        runs.append(now)
        if not engines or engines[-1] is not self:
            engines.append(self)
        return original(self, now, events)

    monkeypatch.setattr(Engine, "run_once", spy)
    result, records = simulate_log(SMALL, "expected-cost", seed=2, orders=60)
    assert len(engines) == 1
    assert runs == sorted(runs)
    assert len(set(runs)) == len(runs)
    # every run is on the lab's polling grid
    start = SMALL.start
    step = DEFAULT_CADENCE_MINUTES * 60
    assert all((now - start).total_seconds() % step == 0 for now in runs)
    # the lab's orders are the engine's: each one is in its store, in the state reported
    engine = engines[0]
    assert len(records) == result.orders == 60
    for record in records:
        state = engine.order(record.order.ref)
        assert state is not None
        assert state.is_terminal
        assert (record.cancellation is None) == (state.cancellation is None)
    assert engine.ledger.now is not None


def test_supplier_orders_withdrawn_for_buyers_leave_the_trust_models_pending_census(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    models: list[TrustModel] = []
    withdrawn: list[bool] = []

    class Spy(TrustModel):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            models.append(self)

        def withdraw(self, supplier_id: str, supplier_order_id: str, at: datetime) -> bool:
            done = super().withdraw(supplier_id, supplier_order_id, at)
            withdrawn.append(done)
            return done

    monkeypatch.setattr(sim, "TrustModel", Spy)
    result = run("await-invoice", orders=600)  # waits for tracking: buyers cancel meanwhile
    assert result.buyer_cancels > 0
    assert any(withdrawn)
    [model] = models
    pending = sum(len(s.pending) for s in model.snapshot().suppliers.values())
    assert pending <= result.open_at_end  # only orders still open at the end are pending


def test_progress_is_reported_about_a_hundred_times() -> None:
    calls: list[tuple[int, int]] = []
    simulate(
        SMALL, "confirm-immediately", seed=1, orders=300, progress=lambda d, t: calls.append((d, t))
    )
    assert calls[-1] == (300, 300)
    assert 50 <= len(calls) <= 300


def test_comparison_json_has_the_documented_schema() -> None:
    doc = compare_policies(
        SMALL, ["confirm-immediately", "await-invoice"], seeds=[1, 2], orders=150
    ).to_dict()
    assert {
        "schema_version",
        "scenario",
        "market",
        "orders",
        "seeds",
        "policies",
        "per_seed",
    } <= set(doc)
    assert doc["seeds"] == [1, 2]
    assert [p["policy"] for p in doc["policies"]] == ["confirm-immediately", "await-invoice"]
    keys = {
        "policy",
        "seller_fault_cancels",
        "seller_fault_cancel_rate",
        "buyer_cancels",
        "late_shipments",
        "escalations",
        "median_hours_to_confirm",
        "p90_hours_to_confirm",
        "total_cost",
        "metrics",
    }
    for p in doc["policies"]:
        assert keys <= set(p)
        assert p["seeds"] == [1, 2]
    for run_ in doc["per_seed"]:
        for p in run_["policies"]:
            assert keys <= set(p)
            assert p["seed"] == run_["seed"]
            assert isinstance(p["seller_fault_cancels"], int)
    mean = doc["policies"][0]["seller_fault_cancels"]
    per_seed = [r["policies"][0]["seller_fault_cancels"] for r in doc["per_seed"]]
    assert mean == pytest.approx(sum(per_seed) / 2)
    json.dumps(doc, allow_nan=False)


def test_compare_policies_rejects_empty_inputs() -> None:
    with pytest.raises(ConfigurationError, match="policy"):
        compare_policies(SMALL, [], orders=10)
    with pytest.raises(ConfigurationError, match="seed"):
        compare_policies(SMALL, ["confirm-immediately"], seeds=[], orders=10)


def test_simulate_log_records_every_order_once() -> None:
    result, records = simulate_log(SMALL.evolve(alternate_share=0.0), seed=2, orders=120)
    assert len(records) == result.orders == 120
    assert len({r.order.ref for r in records}) == 120
    outcomes = {r.outcome for r in records}
    assert outcomes <= {"invoiced", "supplier_cancelled", "buyer_cancelled", "open"}
    for r in records:
        if r.outcome == "invoiced":
            assert r.outcome_at is not None
            assert r.shipped_at is not None


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10_000), policy=st.sampled_from(DEFAULT_POLICY_NAMES))
def test_rates_and_metrics_stay_in_range_for_any_seed(seed: int, policy: str) -> None:
    r = simulate(SMALL, policy, seed=seed, orders=80)
    for rate in (r.seller_fault_cancel_rate, r.buyer_cancel_rate, r.late_shipment_rate):
        assert 0.0 <= rate <= 1.0
    assert r.cost.total >= 0.0
    for m in r.metrics:
        for value in (m.worst_value, m.final_value):
            assert value is None or value >= 0.0
    if r.median_hours_to_confirm is not None:
        assert r.p90_hours_to_confirm is not None
        assert r.p90_hours_to_confirm >= r.median_hours_to_confirm >= 0.0


def test_stock_exceeded_reason_is_recorded_as_a_stock_out() -> None:
    world = build_world(SMALL.evolve(stock_exceeded_cancel_rate=1.0, stock_level=1.0), 1, 50)
    order = next(o for o in world.orders() if o.order.quantity > o.draws[0].reported_stock)
    supplier = world.by_id[order.sources[0][0]]
    supplier.stock_out_share = 1.0
    cancelled, _at, reason = outcome_of(
        supplier, order.draws[0], order.order.quantity, order.order.paid_at, order.paid_us, SMALL
    )
    assert cancelled
    assert reason is CancelReason.STOCK_OUT


def test_fast_constructors_build_the_same_values_as_the_validating_ones() -> None:
    from consign_core.domain import _prevalidated as f
    from consign_core.domain.events import (
        InvoiceUploaded,
        MarketAcknowledged,
        OrderCancelled,
        OrderPaid,
        SupplierCancelled,
        SupplierInvoiced,
        SupplierOrderPlaced,
    )
    from consign_core.domain.model import (
        CancelFault,
        Cancellation,
        MarketOrder,
        OrderLine,
        OrderRef,
        SupplierOrder,
        SupplierOrderStatus,
        Tracking,
    )
    from consign_core.domain.workflow import (
        Acknowledge,
        SupplierCancelOutcome,
        SupplierCancelResult,
        WakeUp,
    )
    from consign_core.store import OutboxEntry
    from consign_core.store._types import new_outbox_entry

    at = datetime(2025, 3, 3, 10, tzinfo=KST)
    ref = OrderRef(market="coupang", order_id="O1")
    line = OrderLine(sku="S1-1", quantity=2, unit_price=9_900)
    order = MarketOrder(ref=ref, lines=(line,), paid_at=at, ship_by=at)
    tracking = Tracking(courier=Courier.CJ, number="1")
    cancellation = Cancellation(fault=CancelFault.SELLER, reason=CancelReason.STOCK_OUT, at=at)
    pairs = [
        (f.new_order_ref(market="coupang", order_id="O1"), ref),
        (f.new_order_line(sku="S1-1", quantity=2, unit_price=9_900, supplier_item_id=None), line),
        (f.new_market_order(ref=ref, lines=(line,), paid_at=at, ship_by=at), order),
        (f.new_tracking(courier=Courier.CJ, number="1"), tracking),
        (
            f.new_cancellation(fault=CancelFault.SELLER, reason=CancelReason.STOCK_OUT, at=at),
            cancellation,
        ),
        (f.new_order_paid(order=order), OrderPaid(order=order)),
        (
            f.new_supplier_order_placed(
                ref=ref, at=at, supplier_id="S1", supplier_order_id="x", item_id="i", quantity=2
            ),
            SupplierOrderPlaced(
                ref=ref, at=at, supplier_id="S1", supplier_order_id="x", item_id="i", quantity=2
            ),
        ),
        (
            f.new_supplier_invoiced(
                ref=ref, at=at, supplier_id="S1", supplier_order_id="x", tracking=tracking
            ),
            SupplierInvoiced(
                ref=ref, at=at, supplier_id="S1", supplier_order_id="x", tracking=tracking
            ),
        ),
        (
            f.new_supplier_cancelled(
                ref=ref, at=at, supplier_id="S1", supplier_order_id="x", reason=CancelReason.OTHER
            ),
            SupplierCancelled(
                ref=ref, at=at, supplier_id="S1", supplier_order_id="x", reason=CancelReason.OTHER
            ),
        ),
        (f.new_market_acknowledged(ref=ref, at=at), MarketAcknowledged(ref=ref, at=at)),
        (
            f.new_invoice_uploaded(ref=ref, at=at, tracking=tracking),
            InvoiceUploaded(ref=ref, at=at, tracking=tracking),
        ),
        (
            f.new_order_cancelled(ref=ref, cancellation=cancellation),
            OrderCancelled(ref=ref, cancellation=cancellation),
        ),
        (
            f.new_supplier_cancel_result(
                ref=ref, at=at, supplier_order_id="x", outcome=SupplierCancelOutcome.CANCELLED
            ),
            SupplierCancelResult(
                ref=ref, at=at, supplier_order_id="x", outcome=SupplierCancelOutcome.CANCELLED
            ),
        ),
        (f.new_wake_up(ref=ref, at=at), WakeUp(ref=ref, at=at)),
        (
            new_outbox_entry(entry_id=3, command=Acknowledge(ref=ref), created_at=at),
            OutboxEntry(entry_id=3, command=Acknowledge(ref=ref), created_at=at),
        ),
        (
            f.new_supplier_order(
                supplier_id="S1",
                supplier_order_id="D1",
                order_ref=ref,
                item_id="i",
                quantity=2,
                placed_at=at,
                status=SupplierOrderStatus.INVOICED,
                tracking=tracking,
            ),
            SupplierOrder(
                supplier_id="S1",
                supplier_order_id="D1",
                order_ref=ref,
                item_id="i",
                quantity=2,
                placed_at=at,
                status=SupplierOrderStatus.INVOICED,
                tracking=tracking,
            ),
        ),
    ]
    assert {type(real) for _fast, real in pairs} == {*f.FAST_TYPES, OutboxEntry}
    for fast_value, real in pairs:
        assert type(fast_value) is type(real)
        # every slot the validating __init__ sets (fields, attrs' hash cache) is set
        slots = {n for k in type(real).__mro__ for n in getattr(k, "__slots__", ())}
        unset = object()
        for name in slots - {"__weakref__"}:
            assert (getattr(fast_value, name, unset) is unset) == (
                getattr(real, name, unset) is unset
            ), name
        assert fast_value == real
        assert hash(fast_value) == hash(real)


BLOCKER = """
import importlib, sys

class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"httpx", "stamina", "matplotlib", "dask"}:
            raise ImportError(f"blocked optional dependency: {name}")
        return None

sys.meta_path.insert(0, Blocker())
importlib.import_module(sys.argv[1])
shell = ("adapters", "cli")
prefixes = tuple("consign_core." + s for s in shell)
print(",".join(sorted(m for m in sys.modules if m.startswith(prefixes))))
assert "consign_core.engine._engine" in sys.modules  # the lab runs the production engine
"""


@pytest.mark.parametrize(
    "module", ["consign_core.lab.sim", "consign_core.lab.backtest", "consign_core.lab.sweep"]
)
def test_the_lab_imports_the_engine_but_no_adapter_nor_the_cli(module: str) -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", BLOCKER, module], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_approved_stop_requests_after_confirmation_are_booked_as_buyer_cancels() -> None:
    buyer = BuyerModel(
        base_per_hour=0.0, growth_per_hour2=0.0, stop_after_confirm=1.0, stop_delay_hours=0.5
    )
    scenario = SMALL.evolve(buyer=buyer)
    result, records = simulate_log(scenario, "confirm-immediately", seed=4, orders=80)
    assert result.buyer_cancels > 40  # most stop requests come before the goods leave
    assert result.shipped + result.seller_fault_cancels + result.buyer_cancels == result.orders
    assert {r.outcome for r in records} <= {"invoiced", "supplier_cancelled", "buyer_cancelled"}
    stopped = [r for r in records if r.outcome == "buyer_cancelled"]
    assert all(r.confirmed_at is not None and r.shipped_at is None for r in stopped)


supplier_types = st.builds(
    SupplierType,
    name=st.sampled_from(["a", "b", "c"]),
    share=st.floats(0.1, 1.0),
    cancel_rate=st.floats(0.0, 0.9),
    concentration=st.floats(2.0, 200.0),
    hours_to_tracking=st.floats(0.5, 200.0),
    tracking_sigma=st.floats(0.0, 1.5),
    hours_to_cancel=st.floats(0.5, 100.0),
    cancel_sigma=st.floats(0.0, 1.5),
    stock_out_share=st.floats(0.0, 1.0),
)

worlds = st.builds(
    SMALL.evolve,
    market=st.sampled_from(["coupang", "naver", "amazon", "ebay"]),
    ship_by_business_days=st.none() | st.integers(0, 4),
    suppliers=st.integers(1, 6),
    supplier_types=st.lists(supplier_types, min_size=1, max_size=3).map(tuple),
    turn_bad_share=st.floats(0.0, 1.0),
    alternate_share=st.floats(0.0, 1.0),
    group_order_share=st.floats(0.0, 0.5),
    stock_level=st.floats(1.0, 100.0),
    place_delay_minutes=st.floats(0.0, 120.0),
    buyer=st.builds(
        BuyerModel,
        base_per_hour=st.floats(0.0, 0.2),
        growth_per_hour2=st.floats(0.0, 0.01),
        stop_after_confirm=st.floats(0.0, 1.0),
        stop_delay_hours=st.floats(0.1, 48.0),
    ),
    person=st.builds(
        PersonModel,
        delay_hours=st.floats(0.0, 10.0),
        recheck_hours=st.floats(0.5, 48.0),
        give_up_hours=st.floats(0.0, 100.0),
    ),
    reroute_after_confirmation=st.booleans(),
    days=st.floats(1.0, 15.0),
)


@settings(max_examples=30, deadline=None)
@given(
    scenario=worlds,
    policy=st.sampled_from(DEFAULT_POLICY_NAMES),
    seed=st.integers(0, 1_000),
)
def test_any_world_runs_to_the_end_with_every_order_accounted_for(
    scenario: Scenario, policy: str, seed: int
) -> None:
    result, records = simulate_log(scenario, policy, seed=seed, orders=60)
    assert result.orders == len(records) == 60
    assert result.open_at_end == 0
    assert result.shipped + result.seller_fault_cancels + result.buyer_cancels == result.orders
    assert result.stock_out_cancels <= result.seller_fault_cancels
    assert result.late_shipments <= result.orders
    for record in records:
        assert record.outcome != "open"
        if record.outcome == "buyer_cancelled":
            assert record.cancellation is not None
        if record.confirmed_at is not None:
            assert record.confirmed_at >= record.order.paid_at


# ============================================================================ from a review

TINY = get_scenario("default").evolve(name="tiny", suppliers=10, days=10.0)
KIND = SupplierType(name="k", share=1.0, cancel_rate=0.1, hours_to_tracking=10.0)


def _supplier() -> WorldSupplier:
    # cancel rate 0.1, usual quantity 1, never turns bad
    return WorldSupplier("S1", KIND, 0.1, 1, 40.0, None, 0.2)


def _reason(quantity: int, u_cancel: float, reported_stock: int) -> CancelReason | None:
    at = TINY.start
    draws = SourceDraws(u_cancel, 0.0, 0.99, reported_stock)  # the reason draw says OTHER
    cancelled, _at, reason = outcome_of(_supplier(), draws, quantity, at, 0, TINY)
    return reason if cancelled else None


# ---------------------------------------------------------------------------- honest reasons


def test_a_cancel_of_an_order_above_the_reported_stock_is_a_stock_out() -> None:
    # 5 units against 3 reported: cancelled (0.5 < 0.9), and that is a stock-out
    assert _reason(5, 0.5, 3) is CancelReason.STOCK_OUT


def test_a_cancel_caused_by_a_large_quantity_is_a_stock_out() -> None:
    # 20 units, usual 1: P(cancel) ~ 0.55 instead of 0.1; a draw of 0.3 cancels only because
    # of the quantity, so it is a stock-out; a draw of 0.05 would cancel a 1-unit order too
    assert _reason(20, 0.3, 100) is CancelReason.STOCK_OUT
    assert _reason(20, 0.05, 100) is CancelReason.OTHER
    assert _reason(1, 0.05, 100) is CancelReason.OTHER
    assert _reason(1, 0.3, 100) is None


def test_orders_above_the_reported_stock_cost_a_naver_seller_stock_out_points() -> None:
    never_other = tuple(attrs.evolve(t, stock_out_share=0.0) for t in TINY.supplier_types)
    scenario = TINY.evolve(
        market="naver",
        supplier_types=never_other,
        stock_level=0.001,  # every order is above the reported stock
        stock_exceeded_cancel_rate=1.0,
        alternate_share=0.0,
        buyer=BuyerModel(base_per_hour=0.0, growth_per_hour2=0.0, stop_after_confirm=0.0),
    )
    result = simulate(scenario, "confirm-immediately", seed=1, orders=40)
    assert result.supplier_cancels == result.orders
    assert result.stock_out_cancels == result.seller_fault_cancels == result.orders
    [points] = result.metrics
    assert points.worst_value is not None
    assert points.worst_value >= 1.5  # 품절취소: 2 points per paid order


# ---------------------------------------------------------------------------- typed errors


def _any(value: object) -> Any:
    """A wrongly typed argument, on purpose."""
    return value


def _bad_calls() -> list[tuple[str, Callable[[], object], str]]:
    def sim(**kwargs: object) -> Callable[[], object]:
        return lambda: simulate(TINY, **{"orders": 5, **kwargs})  # type: ignore[arg-type]

    return [
        ("policy object", sim(policy=42), "policy"),
        ("weights", sim(weights="heavy"), "weights"),
        ("params list", sim(policy="await-invoice", params=[1]), "params"),
        ("params keys", sim(policy="await-invoice", params={1: 2}), "params"),
        ("scenario buyer", lambda: TINY.evolve(buyer=3), "buyer"),
        ("scenario person", lambda: TINY.evolve(person="me"), "person"),
        ("scenario calendar", lambda: TINY.evolve(calendar=None), "calendar"),
        ("scenario description", lambda: TINY.evolve(description=3), "description"),
        ("scenario reroute", lambda: TINY.evolve(reroute_after_confirmation=1), "reroute"),
        ("scenario unknown field", lambda: TINY.evolve(colour="red"), "colour"),
        ("spec scenario", lambda: SweepSpec(policy="await-invoice", scenario=_any(42)), "scenario"),
        ("spec weights", lambda: SweepSpec(policy="await-invoice", weights=_any("x")), "weights"),
        ("spec params list", lambda: SweepSpec(policy="await-invoice", params=_any([1])), "params"),
        (
            "spec params keys",
            lambda: SweepSpec(policy="await-invoice", params=_any({1: 2})),
            "params",
        ),
        ("grid params", lambda: grid(_any({"await-invoice": [1]}), scenarios=[TINY]), "params"),
        ("grid sets", lambda: grid(_any({"await-invoice": 5}), scenarios=[TINY]), "await-invoice"),
        ("compare seeds", lambda: compare_policies(TINY, seeds=_any(3), orders=5), "seeds"),
        (
            "sweep workers",
            lambda: run_sweep([SweepSpec(policy="await-invoice", orders=5)], max_workers=0),
            "max_workers",
        ),
    ]


@pytest.mark.parametrize(
    ("label", "call", "field"), [pytest.param(*case, id=case[0]) for case in _bad_calls()]
)
def test_bad_lab_arguments_raise_typed_errors_naming_the_field(
    label: str, call: Callable[[], object], field: str
) -> None:
    with pytest.raises(ConsignError) as info:
        call()
    assert field in str(info.value), label
    if isinstance(info.value, ValidationError) and info.value.field is not None:
        assert field.startswith(info.value.field) or info.value.field.startswith(field)


def test_compare_policies_through_an_executor_rejects_a_bad_scenario_as_the_sequential_run() -> (
    None
):
    with ThreadPoolExecutor(max_workers=1) as pool, pytest.raises(ConfigurationError, match="42"):
        compare_policies(42, ["await-invoice"], orders=5, executor=pool)  # type: ignore[arg-type]


def test_compare_policies_checks_every_seed_before_running_any() -> None:
    progress: list[tuple[int, int]] = []
    with pytest.raises(ConfigurationError, match="seed"):
        compare_policies(
            TINY,
            ["await-invoice"],
            seeds=[0, "1"],  # type: ignore[list-item]
            orders=50,
            progress=lambda d, t: progress.append((d, t)),
        )
    assert progress == []


def test_compare_policies_runs_a_repeated_policy_or_seed_once() -> None:
    doc = compare_policies(
        TINY, ["await-invoice", "await-invoice"], seeds=[1, 1], orders=60
    ).to_dict()
    assert doc["seeds"] == [1]
    assert [p["policy"] for p in doc["policies"]] == ["await-invoice"]
    assert doc["policies"][0]["seeds"] == [1]
    assert [s["seed"] for s in doc["per_seed"]] == [1]
    assert len(doc["per_seed"][0]["policies"]) == 1


def test_scenario_evolve_still_accepts_every_field() -> None:
    changed = TINY.evolve(
        description="x",
        buyer=BuyerModel(),
        reroute_after_confirmation=True,
        calendar=TINY.calendar,
    )
    assert isinstance(changed, Scenario)
    assert changed.reroute_after_confirmation is True


# ---------------------------------------------------------------------------- the oracle


def test_simulate_of_one_policy_is_unchanged_by_the_oracle() -> None:
    result = sim.simulate("default", "expected-cost", seed=1, orders=300)
    record = result.to_dict()
    assert record["policy"] == "expected-cost"
    assert record["orders"] == 300
    assert "regret" not in record  # a run record stays a run record
    assert "gain_captured" not in record


def test_the_comparison_json_round_trip_keeps_the_oracle_record() -> None:
    doc = compare_policies(SMALL, DEFAULT_POLICY_NAMES, seeds=[1], orders=150).to_dict()
    loaded = json.loads(json.dumps(doc, allow_nan=False))
    assert loaded == doc
    assert loaded["oracle"]["policy"] == "oracle"
    assert loaded["per_seed"][0]["oracle"]["policy"] == "oracle"
    assert [p["policy"] for p in loaded["policies"]] == list(DEFAULT_POLICY_NAMES)
    for p in loaded["policies"]:
        assert {"regret", "regret_per_order", "gain_captured"} <= set(p)
    names = {p["policy"]: p for p in loaded["policies"]}
    assert names[loaded["best_baseline"]["policy"]]["gain_captured"] == 0.0
    assert loaded["oracle"]["gain_captured"] == pytest.approx(1.0)


def test_the_oracle_is_the_same_with_an_executor() -> None:
    sequential = compare_policies(SMALL, ["await-invoice"], seeds=[1, 2], orders=120).to_dict()
    with ThreadPoolExecutor(max_workers=2) as pool:
        pooled = compare_policies(
            SMALL, ["await-invoice"], seeds=[1, 2], orders=120, executor=pool
        ).to_dict()
    assert pooled["oracle"] == sequential["oracle"]
    assert pooled["per_seed"] == sequential["per_seed"]
