"""Regression tests from a review of the simulator: honest stock-out reasons, typed errors."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import attrs
import pytest

from consign_core.domain.model import CancelReason
from consign_core.errors import ConfigurationError, ConsignError, ValidationError
from consign_core.lab import compare_policies
from consign_core.lab._world import SourceDraws, WorldSupplier, outcome_of
from consign_core.lab.sim import (
    BuyerModel,
    Scenario,
    SupplierType,
    get_scenario,
    simulate,
)
from consign_core.lab.sweep import SweepSpec, grid, run_sweep


SMALL = get_scenario("default").evolve(name="small", suppliers=10, days=10.0)
KIND = SupplierType(name="k", share=1.0, cancel_rate=0.1, hours_to_tracking=10.0)


def _supplier() -> WorldSupplier:
    # cancel rate 0.1, usual quantity 1, never turns bad
    return WorldSupplier("S1", KIND, 0.1, 1, 40.0, None, 0.2)


def _reason(quantity: int, u_cancel: float, reported_stock: int) -> CancelReason | None:
    at = SMALL.start
    draws = SourceDraws(u_cancel, 0.0, 0.99, reported_stock)  # the reason draw says OTHER
    cancelled, _at, reason = outcome_of(_supplier(), draws, quantity, at, 0, SMALL)
    return reason if cancelled else None


# ---------------------------------------------------------------------------- honesty


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
    never_other = tuple(attrs.evolve(t, stock_out_share=0.0) for t in SMALL.supplier_types)
    scenario = SMALL.evolve(
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
        return lambda: simulate(SMALL, **{"orders": 5, **kwargs})  # type: ignore[arg-type]

    return [
        ("policy object", sim(policy=42), "policy"),
        ("weights", sim(weights="heavy"), "weights"),
        ("params list", sim(policy="await-invoice", params=[1]), "params"),
        ("params keys", sim(policy="await-invoice", params={1: 2}), "params"),
        ("scenario buyer", lambda: SMALL.evolve(buyer=3), "buyer"),
        ("scenario person", lambda: SMALL.evolve(person="me"), "person"),
        ("scenario calendar", lambda: SMALL.evolve(calendar=None), "calendar"),
        ("scenario description", lambda: SMALL.evolve(description=3), "description"),
        ("scenario reroute", lambda: SMALL.evolve(reroute_after_confirmation=1), "reroute"),
        ("scenario unknown field", lambda: SMALL.evolve(colour="red"), "colour"),
        ("spec scenario", lambda: SweepSpec(policy="await-invoice", scenario=_any(42)), "scenario"),
        ("spec weights", lambda: SweepSpec(policy="await-invoice", weights=_any("x")), "weights"),
        ("spec params list", lambda: SweepSpec(policy="await-invoice", params=_any([1])), "params"),
        (
            "spec params keys",
            lambda: SweepSpec(policy="await-invoice", params=_any({1: 2})),
            "params",
        ),
        ("grid params", lambda: grid(_any({"await-invoice": [1]}), scenarios=[SMALL]), "params"),
        ("grid sets", lambda: grid(_any({"await-invoice": 5}), scenarios=[SMALL]), "await-invoice"),
        ("compare seeds", lambda: compare_policies(SMALL, seeds=_any(3), orders=5), "seeds"),
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
            SMALL,
            ["await-invoice"],
            seeds=[0, "1"],  # type: ignore[list-item]
            orders=50,
            progress=lambda d, t: progress.append((d, t)),
        )
    assert progress == []


def test_compare_policies_runs_a_repeated_policy_or_seed_once() -> None:
    doc = compare_policies(
        SMALL, ["await-invoice", "await-invoice"], seeds=[1, 1], orders=60
    ).to_dict()
    assert doc["seeds"] == [1]
    assert [p["policy"] for p in doc["policies"]] == ["await-invoice"]
    assert doc["policies"][0]["seeds"] == [1]
    assert [s["seed"] for s in doc["per_seed"]] == [1]
    assert len(doc["per_seed"][0]["policies"]) == 1


def test_scenario_evolve_still_accepts_every_field() -> None:
    changed = SMALL.evolve(
        description="x",
        buyer=BuyerModel(),
        reroute_after_confirmation=True,
        calendar=SMALL.calendar,
    )
    assert isinstance(changed, Scenario)
    assert changed.reroute_after_confirmation is True
