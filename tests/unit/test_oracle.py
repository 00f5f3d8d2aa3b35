"""The clairvoyant bound of the policy lab: its arithmetic, its mechanics and its JSON.

The mechanics tests run the production engine over small worlds and check, order by order,
that the oracle's model of the lab reproduces what the engine did: every order's end under
every policy is one of the oracle's candidates (enumerated at every run time), so with the
account's coupling switched off (a seller-fault cancel priced flat) the oracle's cost of an
order never exceeds any policy's.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consign_core.cli import main
from consign_core.domain.model import CancelFault, OrderRef
from consign_core.domain.timing import DEFAULT_POLICY_NAMES, ExpectedCostWeights, make_policy
from consign_core.domain.trust import TrustConfig, TrustModel
from consign_core.domain.workflow import OrderState
from consign_core.errors import ConfigurationError
from consign_core.lab import _oracle as oracle_module
from consign_core.lab import compare_policies, get_scenario, scenario_names
from consign_core.lab._oracle import ORACLE_NAME, OracleRun, all_ends, run_oracle
from consign_core.lab._runner import LabConfig, _LabRun
from consign_core.lab._world import Scenario, build_world
from consign_core.lab.compare import BASELINES, gain_captured, regret


HOUR_US = 3_600_000_000
SMALL = get_scenario("default").evolve(name="small", suppliers=12, days=20.0)
FLAT = ExpectedCostWeights(warning_multiplier=0.0, sanction_multiplier=0.0)
"""Weights without the account's coupling: every seller-fault cancel costs the same."""

# KRW amounts to the won (costs are sums of won-priced parts): float rounding of a subnormal
# difference is not what these tests are about
money = st.integers(min_value=0, max_value=10**9).map(float)


# ---------------------------------------------------------------------------- arithmetic


@given(bound=money, room=st.floats(min_value=1.0, max_value=1e9), others=st.lists(money))
def test_gain_captured_is_one_at_the_bound_and_zero_at_the_best_baseline(
    bound: float, room: float, others: list[float]
) -> None:
    best = bound + room
    assert gain_captured(bound, best, bound) == pytest.approx(1.0)
    assert gain_captured(best, best, bound) == 0.0
    for cost in others:
        gain = gain_captured(cost, best, bound)
        assert gain is not None
        assert gain == pytest.approx((best - cost) / room)
        assert (gain > 0) == (cost < best)


@given(cost=money, best=money, bound=money)
def test_gain_captured_is_undefined_without_room_below_the_best_baseline(
    cost: float, best: float, bound: float
) -> None:
    gain = gain_captured(cost, best, bound)
    assert (gain is None) == (not best > bound)


@given(cost_a=money, cost_b=money, bound=money)
def test_regret_is_the_cost_above_the_bound_and_orders_policies_like_their_costs(
    cost_a: float, cost_b: float, bound: float
) -> None:
    assert regret(cost_a, bound) == cost_a - bound
    assert (regret(cost_a, bound) < regret(cost_b, bound)) == (cost_a < cost_b)


# ---------------------------------------------------------------------------- the bound itself


@pytest.fixture(scope="module")
def small_oracle() -> OracleRun:
    return run_oracle(SMALL, 1, 400)


def test_the_oracle_record_is_named_oracle_and_prices_like_a_run(small_oracle: OracleRun) -> None:
    result = small_oracle.result
    assert result.policy == ORACLE_NAME == "oracle"
    assert result.orders == 400
    assert result.open_at_end == 0
    assert result.seller_fault_cancels + result.buyer_cancels + result.shipped == result.orders
    assert result.stock_out_cancels <= result.seller_fault_cancels
    # every seller-fault cancel costs at least its floor price, and the bound prices each at it
    assert result.cost.seller_fault_cancels >= 30_000.0 * result.seller_fault_cancels
    bound = small_oracle.bound
    assert math.fsum(small_oracle.order_costs) == pytest.approx(bound.total)
    assert small_oracle.coupling_gap >= 0.0
    assert result.total_cost >= bound.total
    assert len(result.metrics) == len(SMALL.profile().metrics)
    assert all(
        len(m.timeline) == m.days_ok + m.days_warning + m.days_sanction for m in result.metrics
    )


def test_the_account_priced_choice_is_no_dearer_than_the_floor_priced_one() -> None:
    """Round one of the choice is the floor-priced one; the record keeps the cheapest round."""
    run = run_oracle(SMALL, 1, 400)
    world = build_world(SMALL, 1, 400)
    env = oracle_module._env(SMALL, world, SMALL.default_weights())
    stream = list(world.orders())
    floor = [oracle_module._cheapest(all_ends(env, w)) for w in stream]
    replay = oracle_module._Replay(env, world.profile)
    last_paid = max(w.paid_us for w in stream)
    replay.run(oracle_module._events(stream, floor), last_paid)
    floor_cost = (
        run.bound.total - 30_000.0 * sum(e.kind == oracle_module.SELLER_CANCEL for e in floor)
    ) + replay.penalties
    assert run.result.total_cost <= floor_cost + 1e-6


def test_without_the_accounts_coupling_the_oracle_is_its_per_order_sum() -> None:
    run = run_oracle(SMALL, 1, 400, weights=FLAT)
    assert run.coupling_gap == pytest.approx(0.0, abs=1e-6)
    assert run.result.total_cost == pytest.approx(run.bound.total)


def test_the_oracle_is_reproducible(small_oracle: OracleRun) -> None:
    again = run_oracle(SMALL, 1, 400)
    assert again.to_dict() == small_oracle.to_dict()
    other = run_oracle(SMALL, 2, 400)
    assert other.to_dict() != small_oracle.to_dict()


def test_the_oracle_json_record_adds_the_bound_to_the_run_record(small_oracle: OracleRun) -> None:
    record = json.loads(json.dumps(small_oracle.to_dict(), allow_nan=False))
    assert record["policy"] == "oracle"
    assert record["lower_bound"] == pytest.approx(small_oracle.bound.total)
    assert record["lower_bound_per_order"] == pytest.approx(small_oracle.bound.total / 400)
    assert record["coupling_gap"] == pytest.approx(record["total_cost"] - record["lower_bound"])
    assert record["lower_bound_cost"]["total"] == pytest.approx(record["lower_bound"])
    assert set(small_oracle.result.to_dict()) < set(record)


def test_a_bad_scenario_or_weights_is_a_configuration_error_naming_it() -> None:
    with pytest.raises(ConfigurationError, match="scenario must be a Scenario, got 'default'"):
        run_oracle("default", 0, 10)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="weights must be ExpectedCostWeights"):
        run_oracle(SMALL, 0, 10, weights={"late_shipment": 1.0})  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="oracle must be True or False, got 'yes'"):
        compare_policies(SMALL, ["await-invoice"], orders=10, oracle="yes")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- the mechanics


def _engine_order_costs(
    scenario: Scenario, policy: str, seed: int, orders: int, weights: ExpectedCostWeights
) -> tuple[list[tuple[int, int, int, int, int]], list[float]]:
    """Run ``policy`` through the production engine; each order's end and its flat cost.

    An end is ``(kind, at µs, confirmed µs or -1, escalations, supplier orders placed)``.
    """
    world = build_world(scenario, seed, orders)
    config = LabConfig(
        policy=make_policy(policy),
        policy_name=policy,
        policy_params={},
        profile=world.profile,
        calendar=scenario.calendar,
        trust=TrustModel(TrustConfig(), calendar=scenario.calendar),
        weights=weights,
        person=scenario.person,
        start=scenario.start,
        place_delay_us=int(scenario.place_delay_minutes * 60_000_000),
        suppliers=world.by_id,
        seed=seed,
        total_orders=orders,
        reroute_after_confirmation=scenario.reroute_after_confirmation,
    )
    run = _LabRun(config, world.orders(), world.sources_mapping(), scenario)
    escalated: Counter[OrderRef] = Counter()
    person = run.engine._on_escalate
    assert person is not None

    def count(state: OrderState, reason: str) -> None:
        escalated[state.order.ref] += 1
        person(state, reason)

    run.engine._on_escalate = count
    result = run.run()
    ends = []
    costs = []
    for record in run.market.records.values():
        w = record.w
        cancellation = record.cancellation
        settled = min([t for t in (record.ack_us, record.cancel_us) if t >= 0])
        cost = weights.delay_per_hour * max(0, settled - w.paid_us) / HOUR_US
        if cancellation is None:
            kind, at_us = oracle_module.SHIPPED, record.upload_us
        elif cancellation.fault is CancelFault.SELLER:
            kind, at_us = oracle_module.SELLER_CANCEL, record.cancel_us
            cost += weights.seller_fault_cancel
        else:
            kind, at_us = oracle_module.BUYER_CANCEL, record.cancel_us
            cost += weights.lost_sale_fixed + weights.lost_sale_margin * w.order.value
        cost += weights.late_shipment * (at_us >= w.ship_by_us)
        cost += scenario.person.cost_per_escalation * escalated[w.order.ref]
        ends.append((kind, at_us, record.ack_us, escalated[w.order.ref], record.placed))
        costs.append(cost)
    assert math.fsum(costs) == pytest.approx(result.total_cost)  # the same pricing as the run
    return ends, costs


def _check_world(scenario: Scenario, seed: int, orders: int) -> None:
    oracle = run_oracle(scenario, seed, orders, weights=FLAT)
    world = build_world(scenario, seed, orders)
    env = oracle_module._env(scenario, world, FLAT)
    stream = list(world.orders())
    dense = [all_ends(env, w, dense=True) for w in stream]
    for w, ends in zip(stream, dense, strict=True):  # the few candidates find the minimum
        assert oracle.order_costs[w.index] == pytest.approx(min(e.cost for e in ends))
    for policy in DEFAULT_POLICY_NAMES:
        engine_ends, engine_costs = _engine_order_costs(scenario, policy, seed, orders, FLAT)
        for w, ends, engine_end, cost in zip(stream, dense, engine_ends, engine_costs, strict=True):
            modelled = {(e.kind, e.at_us, e.ack_us, e.escalations, e.placed) for e in ends}
            assert engine_end in modelled, (policy, w.index, engine_end)
            assert oracle.order_costs[w.index] <= cost + 1e-6, (policy, w.index)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "reroute"),
    [("default", False), ("single-source", False), ("group-orders", True)],
)
def test_the_oracle_reproduces_every_engine_end_and_never_costs_an_order_more(
    name: str, reroute: bool
) -> None:
    scenario = get_scenario(name).evolve(
        suppliers=15, days=20.0, reroute_after_confirmation=reroute
    )
    _check_world(scenario, 3, 300)


# the oracle knows the world's per-order draws; sold-out episodes (and the listing) it does not
_MODELLED = [n for n in scenario_names() if get_scenario(n).stock_outs_per_item_month == 0]


@pytest.mark.slow
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(_MODELLED), seed=st.integers(min_value=0, max_value=10_000))
def test_on_any_world_no_policy_beats_the_oracle_on_any_order_without_coupling(
    name: str, seed: int
) -> None:
    _check_world(get_scenario(name).evolve(suppliers=12, days=15.0), seed, 150)


# ---------------------------------------------------------------------------- the comparison


@pytest.fixture(scope="module")
def comparison_doc() -> dict[str, Any]:
    comparison = compare_policies(SMALL, DEFAULT_POLICY_NAMES, seeds=(0, 1), orders=300)
    loaded: dict[str, Any] = json.loads(json.dumps(comparison.to_dict(), allow_nan=False))
    return loaded


def test_the_comparison_json_holds_the_oracle_and_each_policys_regret_and_gain(
    comparison_doc: dict[str, Any],
) -> None:
    doc = comparison_doc
    assert [p["policy"] for p in doc["policies"]] == list(DEFAULT_POLICY_NAMES)
    oracle = doc["oracle"]
    assert oracle["policy"] == "oracle"
    assert oracle["seeds"] == [0, 1]
    assert oracle["regret"] == 0.0
    assert oracle["gain_captured"] == pytest.approx(1.0)
    best = doc["best_baseline"]
    assert best["policy"] in BASELINES
    baselines = [p for p in doc["policies"] if p["policy"] in BASELINES]
    assert best["total_cost"] == min(p["total_cost"] for p in baselines)
    for p in doc["policies"]:
        assert p["regret"] == pytest.approx(p["total_cost"] - oracle["total_cost"])
        assert p["regret_per_order"] == pytest.approx(p["regret"] / p["orders"])
        expected = (best["total_cost"] - p["total_cost"]) / (
            best["total_cost"] - oracle["total_cost"]
        )
        assert p["gain_captured"] == pytest.approx(expected)
        if p["policy"] == best["policy"]:
            assert p["gain_captured"] == 0.0
        elif p["policy"] in BASELINES:
            assert p["gain_captured"] <= 0.0


def test_each_seed_has_its_own_oracle_and_the_mean_is_their_mean(
    comparison_doc: dict[str, Any],
) -> None:
    doc = comparison_doc
    bounds = []
    for run in doc["per_seed"]:
        oracle = run["oracle"]
        assert oracle["policy"] == "oracle"
        assert oracle["seed"] == run["seed"]
        bounds.append(oracle["total_cost"])
        for p in run["policies"]:
            assert p["regret"] == pytest.approx(p["total_cost"] - oracle["total_cost"])
            # regret >= 0 holds up to the coupling gap (the bound is strict only up to it)
            assert p["regret"] >= -oracle["coupling_gap"] - 1e-6
        assert run["best_baseline"]["policy"] in BASELINES
    assert doc["oracle"]["total_cost"] == pytest.approx(sum(bounds) / len(bounds))


def test_without_a_baseline_gain_captured_is_null_but_regret_is_given() -> None:
    doc = compare_policies(SMALL, ["expected-cost"], seeds=(0,), orders=100).to_dict()
    (record,) = doc["policies"]
    assert record["gain_captured"] is None
    assert record["regret"] == pytest.approx(record["total_cost"] - doc["oracle"]["total_cost"])
    assert doc["best_baseline"] is None


def test_without_the_oracle_the_keys_stay_and_are_null() -> None:
    doc = compare_policies(SMALL, ["await-invoice"], orders=100, oracle=False).to_dict()
    assert doc["oracle"] is None
    assert doc["policies"][0]["regret"] is None
    assert doc["policies"][0]["gain_captured"] is None
    assert doc["per_seed"][0]["oracle"] is None


def test_the_cli_json_and_table_show_the_oracle_regret_and_gain(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["simulate", "--orders", "150", "--suppliers", "10", "--quiet"]
    assert main([*argv, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["oracle"]["policy"] == "oracle"
    assert all("gain_captured" in p and "regret" in p for p in doc["policies"])
    assert main(argv) == 0
    out = capsys.readouterr().out
    rows: dict[str, str] = {}
    for line in out.splitlines():  # the first row of each name: the comparison table's
        if line.strip():
            rows.setdefault(line.split()[0], line)
    assert "oracle" in rows
    for heading in ("KRW/order", "regret (M)", "gain captured"):
        assert heading in out
    assert "cost: KRW-equivalents" in out
    assert "30,000" in out  # the weights the runs were priced at
    assert "100%" in rows["oracle"]


def test_the_oracle_record_names_no_order_nor_buyer(small_oracle: OracleRun) -> None:
    text = json.dumps(small_oracle.to_dict()) + repr(small_oracle)
    world = build_world(SMALL, 1, 400)
    for w in list(world.orders())[:50]:
        assert w.order.ref.order_id not in text
        recipient = getattr(w.order, "recipient", None)
        if recipient is not None:
            assert str(recipient.name) not in text
