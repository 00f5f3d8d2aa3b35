"""The policy lab's simulator: what would each confirmation policy have done to my account?

:func:`simulate` runs one policy over one seeded, reproducible world; :func:`compare_policies`
runs several policies (and seeds) over the *same* worlds and returns a :class:`Comparison`
whose :meth:`~Comparison.to_dict` is the documented JSON of ``consign-core simulate --json``
(``docs/simulate.md``).

The simulator drives the production :class:`~consign_core.engine.Engine` (its
:meth:`~consign_core.engine.Engine.run_once` every 10 simulated minutes, with an in-memory
store): the per-order workflow, the timing policies through
:func:`consign_core.domain.workflow.make_decider` (the trust model's assessment, the
cancel-rate ledger's headroom and :func:`~consign_core.domain.timing.decide_safely`), the
supplier trust model learning online, the ledger booking every cancellation and late shipment
under the market's rule profile, the outbox and its batching. Only the outside world is
simulated, as the engine's ports:

- **Suppliers** from a mix of :class:`SupplierType` (reliable / flaky / bad by default): each
  has its own cancel probability (Beta around its type's mean), log-normal times to tracking
  and to a cancel in business hours (no supplier ships on weekends or holidays), a usual
  quantity (odds of a stock-out grow as ``(q / usual) ** quantity_exponent`` above it), a
  reported stock level (an order above the reported stock is cancelled with probability 0.9),
  and some suppliers turn bad at a random moment.
- **Orders** arrive as a Poisson process with daily seasonality (:attr:`Scenario.hourly_profile`),
  quieter weekends and holidays, and occasional group orders.
- **Buyers** (:class:`BuyerModel`) cancel for free while an order stays unconfirmed, with a
  hazard that rises with the wait; after confirmation a rare stop request needs the seller's
  approval.
- **The market** answers every command at once; **a person** (:class:`PersonModel`) handles
  escalations the same way whatever the policy, answering the engine with ``ManualDecision``.
- **Alternates**: a share of SKUs has a second supplier mapped; the workflow reroutes to it
  when the first cancels before confirmation (its honest path; otherwise it cancels with the
  real reason, seller fault, and the ledger counts it).

Common random numbers: every random draw (arrival times, SKUs, quantities, prices, each supplier
source's hidden outcome draws, each buyer's patience) is made from ``random.Random`` instances
seeded by ``(seed, purpose)`` before any policy acts, so every policy faces the same world. Same
scenario, seed and order count give the same result, bit for bit.

Built-in scenarios (:data:`SCENARIOS`): ``default``, ``flaky-suppliers``, ``holiday-season``,
``group-orders``, ``single-source``, and ``stock-outs`` / ``stock-outs-unmirrored`` (items sell
out for a while; the listing follows the supplier's stock, or is left on).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Final

import attrs

from consign_core._exports import publish
from consign_core.domain.calendar import KST
from consign_core.domain.timing import (
    ConfirmationPolicy,
    ExpectedCostWeights,
    make_policy,
)
from consign_core.domain.trust import TrustConfig, TrustModel
from consign_core.errors import ConfigurationError
from consign_core.lab._results import (
    CostBreakdown,
    MetricSummary,
    PolicyResult,
)
from consign_core.lab._runner import LabConfig, LogRecord, run_world
from consign_core.lab._scenario import with_stock_outs
from consign_core.lab._world import (
    BuyerModel,
    PersonModel,
    Scenario,
    SupplierType,
    build_world,
)


__all__ = [
    "DEFAULT_ORDERS",
    "SCENARIOS",
    "BuyerModel",
    "CostBreakdown",
    "LogRecord",
    "MetricSummary",
    "PersonModel",
    "PolicyResult",
    "Scenario",
    "SupplierType",
    "get_scenario",
    "scenario_names",
    "simulate",
    "simulate_log",
]

DEFAULT_ORDERS: Final = 10_000
"""Orders per run when none are given (``consign-core simulate`` without ``--orders``)."""


# --------------------------------------------------------------------------------------
# built-in scenarios
# --------------------------------------------------------------------------------------

_DEFAULT: Final = Scenario(
    name="default",
    description=(
        "A Coupang consignment seller with 80 Domeme suppliers (80% reliable, 15% flaky, 5% "
        "bad; 3% turn bad during the run), D+2 shipping, 2% group orders and an alternate "
        "supplier mapped for 70% of the SKUs, over 120 days from 2025-03-03. Calibrated so "
        "that a careful policy keeps the account in good standing on most days and a "
        "careless one does not."
    ),
)

_FLAKY: Final = _DEFAULT.evolve(
    name="flaky-suppliers",
    description=(
        "As default, but the supplier mix is worse: 50% reliable, 35% flaky, 15% bad, and 15% "
        "of the suppliers turn bad during the run."
    ),
    supplier_types=tuple(
        attrs.evolve(t, share={"reliable": 0.50, "flaky": 0.35, "bad": 0.15}[t.name])
        for t in _DEFAULT.supplier_types
    ),
    turn_bad_share=0.15,
)

_HOLIDAY: Final = _DEFAULT.evolve(
    name="holiday-season",
    description=(
        "Chuseok 2025: 35 days from 2025-09-22 over the 10/3-10/9 holidays (National "
        "Foundation Day, Chuseok and its substitute day, Hangul Day). Deadlines and supplier "
        "lead times skip the holidays while buyers keep counting the days; gift-set group "
        "orders are three times as common (6%) and demand stays high on the holidays."
    ),
    start=dt.datetime(2025, 9, 22, tzinfo=KST),
    days=35.0,
    group_order_share=0.06,
    holiday_factor=0.9,
)

_GROUP: Final = _DEFAULT.evolve(
    name="group-orders",
    description=(
        "As default, but 12% of the orders are group orders of 10-40 units (company gifts, "
        "events) and suppliers report less stock (median 25 units): the 20-gift-set case."
    ),
    group_order_share=0.12,
    group_quantity=(10, 40),
    stock_level=25.0,
)

_SINGLE: Final = _DEFAULT.evolve(
    name="single-source",
    description=(
        "As default, but no SKU has an alternate supplier: a supplier cancel before "
        "confirmation can only end in an honest seller-fault cancel. Shows how much of a "
        "policy's benefit comes from rerouting."
    ),
    alternate_share=0.0,
)

SCENARIOS: Final[Mapping[str, Scenario]] = MappingProxyType(
    {
        s.name: s
        for s in (
            _DEFAULT,
            _FLAKY,
            _HOLIDAY,
            _GROUP,
            _SINGLE,
            with_stock_outs(_DEFAULT),
            with_stock_outs(_DEFAULT, mirror_listing=False),
        )
    }
)
"""The built-in scenarios by name (see ``docs/simulate.md``)."""


def scenario_names() -> tuple[str, ...]:
    """The names of the built-in scenarios, ``default`` first."""
    return tuple(SCENARIOS)


def get_scenario(name: str) -> Scenario:
    """The built-in scenario ``name``; ConfigurationError listing the names otherwise."""
    scenario = SCENARIOS.get(name)
    if scenario is None:
        msg = f"unknown scenario {name!r}; choose one of: {', '.join(SCENARIOS)}"
        raise ConfigurationError(msg)
    return scenario


# --------------------------------------------------------------------------------------
# running
# --------------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.timedelta):
        return value.total_seconds() / 3600.0
    if attrs.has(type(value)):
        return {k: _jsonable(v) for k, v in attrs.asdict(value, recurse=False).items()}
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return str(value)


def _policy(
    policy: str | ConfirmationPolicy, params: Mapping[str, Any] | None
) -> tuple[ConfirmationPolicy, str, dict[str, Any]]:
    _check_params(params)
    if isinstance(policy, str):
        built = make_policy(policy, **dict(params or {}))
        return built, policy, {str(k): _jsonable(v) for k, v in (params or {}).items()}
    if params:
        msg = "params are only accepted with a policy name, not a policy object"
        raise ConfigurationError(msg)
    if not isinstance(getattr(policy, "name", None), str) or not callable(
        getattr(policy, "decide", None)
    ):
        msg = f"policy must be a policy name or a ConfirmationPolicy, got {policy!r}"
        raise ConfigurationError(msg)
    shown = _jsonable(policy) if attrs.has(type(policy)) else {}
    return policy, str(policy.name), shown if isinstance(shown, dict) else {}


def _check_params(params: object) -> None:
    if params is not None and (
        not isinstance(params, Mapping) or not all(isinstance(k, str) for k in params)
    ):
        msg = f"params must be a mapping of parameter names to values, got {params!r}"
        raise ConfigurationError(msg)


def _check_weights(weights: object) -> None:
    if weights is not None and not isinstance(weights, ExpectedCostWeights):
        msg = f"weights must be ExpectedCostWeights or None, got {weights!r}"
        raise ConfigurationError(msg)


def _check_run(seed: object, orders: object) -> None:
    if isinstance(seed, bool) or not isinstance(seed, int):
        msg = f"seed must be an int, got {seed!r}"
        raise ConfigurationError(msg)
    if isinstance(orders, bool) or not isinstance(orders, int) or orders < 1:
        msg = f"orders must be an int >= 1, got {orders!r}"
        raise ConfigurationError(msg)


def _run(
    scenario: Scenario | str,
    policy: str | ConfirmationPolicy,
    *,
    seed: int,
    orders: int,
    params: Mapping[str, Any] | None,
    weights: ExpectedCostWeights | None,
    trust_config: TrustConfig | None,
    progress: Callable[[int, int], None] | None,
    recorder: Callable[[LogRecord], None] | None,
) -> PolicyResult:
    chosen: object = get_scenario(scenario) if isinstance(scenario, str) else scenario
    if not isinstance(chosen, Scenario):
        msg = f"scenario must be a Scenario or a scenario name, got {scenario!r}"
        raise ConfigurationError(msg)
    _check_run(seed, orders)
    _check_weights(weights)
    built, name, shown = _policy(policy, params)
    world = build_world(chosen, seed, orders)
    trust = TrustModel(trust_config or TrustConfig(), calendar=chosen.calendar)
    config = LabConfig(
        policy=built,
        policy_name=name,
        policy_params=shown,
        profile=world.profile,
        calendar=chosen.calendar,
        trust=trust,
        weights=weights or chosen.default_weights(),
        person=chosen.person,
        start=chosen.start,
        place_delay_us=int(chosen.place_delay_minutes * 60_000_000),
        suppliers=world.by_id,
        seed=seed,
        total_orders=orders,
        reroute_after_confirmation=chosen.reroute_after_confirmation,
        progress=progress,
        progress_every=max(1, orders // 100),
    )
    return run_world(
        config, world.orders(), world.sources_mapping(), scenario=chosen, recorder=recorder
    )


def simulate(
    scenario: Scenario | str = "default",
    policy: str | ConfirmationPolicy = "expected-cost",
    *,
    seed: int = 0,
    orders: int = DEFAULT_ORDERS,
    params: Mapping[str, Any] | None = None,
    weights: ExpectedCostWeights | None = None,
    trust_config: TrustConfig | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> PolicyResult:
    """Run one policy over one seeded world and return what it did.

    ``policy`` is a policy name (built with :func:`~consign_core.domain.timing.make_policy` and
    ``params``) or a policy object. ``weights`` price the outcomes (the library's
    :class:`~consign_core.domain.timing.ExpectedCostWeights` defaults if ``None``); keep them the
    same
    across the policies you compare. ``progress(done, total)`` is called about 100 times.
    Pure: no clock, no global random state; the same arguments give the same result.
    """
    return _run(
        scenario,
        policy,
        seed=seed,
        orders=orders,
        params=params,
        weights=weights,
        trust_config=trust_config,
        progress=progress,
        recorder=None,
    )


def simulate_log(
    scenario: Scenario | str = "default",
    policy: str | ConfirmationPolicy = "confirm-immediately",
    *,
    seed: int = 0,
    orders: int = 500,
    params: Mapping[str, Any] | None = None,
) -> tuple[PolicyResult, list[LogRecord]]:
    """Run one policy and also return each order's end as a log record, in finishing order.

    Feed the records to :func:`consign_core.lab.backtest.rows_from_records` to write an order-log
    CSV (that is how ``examples/data/orders.csv`` was made).
    """
    records: list[LogRecord] = []
    result = _run(
        scenario,
        policy,
        seed=seed,
        orders=orders,
        params=params,
        weights=None,
        trust_config=None,
        progress=None,
        recorder=records.append,
    )
    return result, records


publish(__name__, __all__)
