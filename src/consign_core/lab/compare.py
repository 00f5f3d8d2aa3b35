"""Several policies over one scenario and several seeds: :func:`compare_policies`.

Runs go one after the other, or through :func:`consign_core.lab.sweep.run_sweep` on any
:class:`concurrent.futures.Executor`; the result, a :class:`Comparison`, is the JSON document
of ``consign-core simulate --json``. Beside the policies it holds the clairvoyant bound of each
seed's world (the ``oracle`` record, :mod:`consign_core.lab._oracle`), against which each
policy's ``regret`` and ``gain_captured`` are measured (:func:`regret`, :func:`gain_captured`).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor
from typing import Any, Final

import attrs

from consign_core._exports import publish
from consign_core.domain.timing import DEFAULT_POLICY_NAMES, ExpectedCostWeights, make_policy
from consign_core.errors import ConfigurationError
from consign_core.lab._oracle import ORACLE_NAME, OracleRun, run_oracle
from consign_core.lab._results import SCHEMA_VERSION, PolicyResult, mean_policy_dict
from consign_core.lab._world import Scenario
from consign_core.lab.sim import (
    DEFAULT_ORDERS,
    _check_run,
    _jsonable,
    get_scenario,
    simulate,
)
from consign_core.lab.sweep import SweepSpec, run_sweep


__all__ = [
    "BASELINES",
    "ORACLE_NAME",
    "Comparison",
    "OracleRun",
    "compare_policies",
    "gain_captured",
    "regret",
    "run_oracle",
]

BASELINES: Final = ("confirm-immediately", "await-invoice", "trust-threshold")
"""The baseline policies: ``gain_captured`` is measured from the cheapest of them."""


def regret(cost: float, bound: float) -> float:
    """A policy's cost minus the clairvoyant bound's (KRW-equivalents)."""
    return cost - bound


def gain_captured(cost: float, best_baseline: float, bound: float) -> float | None:
    """``(best_baseline - cost) / (best_baseline - bound)``: the share of the room between the
    cheapest baseline and the clairvoyant bound that a policy of cost ``cost`` captures.

    1 for a policy as cheap as the bound, 0 for the best baseline itself, negative for a policy
    dearer than it. ``None`` when there is no room (the bound is not below the best baseline).
    """
    span = best_baseline - bound
    if not span > 0:
        return None
    return (best_baseline - cost) / span


def _best_baseline(costs: Mapping[str, float]) -> tuple[str, float] | None:
    present = [(name, costs[name]) for name in BASELINES if name in costs]
    if not present:
        return None
    return min(present, key=lambda item: item[1])


def _oracle_tuple(value: Iterable[OracleRun]) -> tuple[OracleRun, ...]:
    return tuple(value)


def _with_bound(
    records: Sequence[dict[str, Any]], oracle: dict[str, Any] | None
) -> dict[str, Any] | None:
    """Add ``regret``, ``regret_per_order`` and ``gain_captured`` to each record (in place) and
    return the baseline they were measured from (``None`` without an oracle or a baseline)."""
    if oracle is None:
        for record in records:
            record["regret"] = record["regret_per_order"] = record["gain_captured"] = None
        return None
    bound = oracle["total_cost"]
    best = _best_baseline({r["policy"]: r["total_cost"] for r in records})
    for record in (*records, oracle):
        cost = record["total_cost"]
        record["regret"] = regret(cost, bound)
        record["regret_per_order"] = (
            record["regret"] / record["orders"] if record["orders"] else 0.0
        )
        record["gain_captured"] = None if best is None else gain_captured(cost, best[1], bound)
    if best is None:
        return None
    return {"policy": best[0], "total_cost": best[1]}


def _mean_oracle(runs: Sequence[OracleRun]) -> dict[str, Any]:
    out = mean_policy_dict([run.result for run in runs])
    dicts = [run.to_dict() for run in runs]
    for key in ("lower_bound", "lower_bound_per_order", "coupling_gap"):
        out[key] = statistics.fmean(d[key] for d in dicts)
    costs = [d["lower_bound_cost"] for d in dicts]
    out["lower_bound_cost"] = {key: statistics.fmean(c[key] for c in costs) for key in costs[0]}
    return out


def _int_tuple(value: Iterable[int]) -> tuple[int, ...]:
    return tuple(value)


def _result_tuple(value: Iterable[PolicyResult]) -> tuple[PolicyResult, ...]:
    return tuple(value)


@attrs.frozen(kw_only=True)
class Comparison:
    """Several policies over the same scenario and seeds; the JSON of ``simulate --json``."""

    scenario: Scenario
    """The scenario run."""
    orders: int
    """Orders per run."""
    seeds: tuple[int, ...] = attrs.field(converter=_int_tuple)
    """The seeds, in order."""
    results: tuple[PolicyResult, ...] = attrs.field(converter=_result_tuple)
    """One result per (policy, seed), policies in the order asked, seeds within each."""
    oracle: tuple[OracleRun, ...] = attrs.field(default=(), converter=_oracle_tuple)
    """The clairvoyant bound of each seed's world, seeds in order (empty: none computed)."""

    def policies(self) -> tuple[str, ...]:
        """The policy names, in the order asked (each once)."""
        return tuple(dict.fromkeys(r.policy for r in self.results))

    def for_policy(self, policy: str) -> tuple[PolicyResult, ...]:
        """The results of ``policy``, one per seed."""
        return tuple(r for r in self.results if r.policy == policy)

    def oracle_for(self, seed: int) -> OracleRun | None:
        """The clairvoyant bound of ``seed``'s world (``None`` if it was not computed)."""
        return next((run for run in self.oracle if run.result.seed == seed), None)

    def to_dict(self) -> dict[str, Any]:
        """The documented, stable JSON document (``docs/simulate.md``)."""
        scenario = self.scenario
        policies = [mean_policy_dict(self.for_policy(p)) for p in self.policies()]
        oracle = _mean_oracle(self.oracle) if self.oracle else None
        best = _with_bound(policies, oracle)
        per_seed = []
        for seed in self.seeds:
            runs = [r.to_dict() for r in self.results if r.seed == seed]
            seed_oracle = self.oracle_for(seed)
            bound = seed_oracle.to_dict() if seed_oracle is not None else None
            seed_best = _with_bound(runs, bound)
            per_seed.append(
                {"seed": seed, "policies": runs, "oracle": bound, "best_baseline": seed_best}
            )
        return {
            "schema_version": SCHEMA_VERSION,
            "command": "simulate",
            "scenario": scenario.name,
            "market": scenario.market,
            "orders": self.orders,
            "seeds": list(self.seeds),
            "suppliers": scenario.suppliers,
            "start": scenario.start.isoformat(),
            "days": scenario.days,
            "weights": _jsonable(ExpectedCostWeights()),
            "escalation_cost": scenario.person.cost_per_escalation,
            "policies": policies,
            "oracle": oracle,
            "best_baseline": best,
            "per_seed": per_seed,
        }


def compare_policies(
    scenario: Scenario | str = "default",
    policies: Sequence[str] = DEFAULT_POLICY_NAMES,
    *,
    seeds: Sequence[int] = (0,),
    orders: int = DEFAULT_ORDERS,
    executor: Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
    oracle: bool = True,
) -> Comparison:
    """Run every policy (by name, default parameters) on every seed of ``scenario``.

    With an ``executor`` (any :class:`concurrent.futures.Executor`) the runs go through
    :func:`consign_core.lab.sweep.run_sweep`; ``progress(done, total)`` then counts finished runs,
    otherwise orders of the current run. Results are the same either way. With ``oracle`` (the
    default) the clairvoyant bound of each seed's world is computed too, in this process (it
    does not run the engine: a fraction of one policy's run).
    """
    given: object = get_scenario(scenario) if isinstance(scenario, str) else scenario
    if not isinstance(given, Scenario):
        msg = f"scenario must be a Scenario or a scenario name, got {scenario!r}"
        raise ConfigurationError(msg)
    chosen = given
    if not policies:
        msg = "give at least one policy"
        raise ConfigurationError(msg)
    for name in policies:
        make_policy(name)  # fail early on a bad name
    policies = tuple(dict.fromkeys(policies))  # each once, in the order asked
    try:
        seeds = tuple(dict.fromkeys(seeds))
    except TypeError:
        msg = f"seeds must be a sequence of ints, got {seeds!r}"
        raise ConfigurationError(msg) from None
    if not seeds:
        msg = "give at least one seed"
        raise ConfigurationError(msg)
    for seed in seeds:
        _check_run(seed, orders)  # fail before any run, not after the first ones
    flag: object = oracle
    if not isinstance(flag, bool):
        msg = f"oracle must be True or False, got {oracle!r}"
        raise ConfigurationError(msg)
    bounds = [run_oracle(chosen, seed, orders) for seed in seeds] if oracle else []
    if executor is not None:
        specs = [
            SweepSpec(policy=p, scenario=chosen, seed=s, orders=orders)
            for p in policies
            for s in seeds
        ]
        runs = run_sweep(specs, executor=executor, progress=progress)
        return Comparison(scenario=chosen, orders=orders, seeds=seeds, results=runs, oracle=bounds)
    results = []
    total = len(policies) * len(seeds)
    done = 0
    for name in policies:
        for seed in seeds:
            base = done * orders

            def report(n: int, _total: int, base: int = base) -> None:
                if progress is not None:
                    progress(base + n, total * orders)

            results.append(simulate(chosen, name, seed=seed, orders=orders, progress=report))
            done += 1
    return Comparison(scenario=chosen, orders=orders, seeds=seeds, results=results, oracle=bounds)


publish(__name__, __all__)
