"""Several policies over one scenario and several seeds: :func:`compare_policies`.

Runs go one after the other, or through :func:`consign_core.lab.sweep.run_sweep` on any
:class:`concurrent.futures.Executor`; the result, a :class:`Comparison`, is the JSON document
of ``consign-core simulate --json``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor
from typing import Any

import attrs

from consign_core.domain.timing import DEFAULT_POLICY_NAMES, ExpectedCostWeights, make_policy
from consign_core.errors import ConfigurationError
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


__all__ = ["Comparison", "compare_policies"]


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

    def policies(self) -> tuple[str, ...]:
        """The policy names, in the order asked (each once)."""
        return tuple(dict.fromkeys(r.policy for r in self.results))

    def for_policy(self, policy: str) -> tuple[PolicyResult, ...]:
        """The results of ``policy``, one per seed."""
        return tuple(r for r in self.results if r.policy == policy)

    def to_dict(self) -> dict[str, Any]:
        """The documented, stable JSON document (``docs/simulate.md``)."""
        scenario = self.scenario
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
            "policies": [mean_policy_dict(self.for_policy(p)) for p in self.policies()],
            "per_seed": [
                {
                    "seed": seed,
                    "policies": [r.to_dict() for r in self.results if r.seed == seed],
                }
                for seed in self.seeds
            ],
        }


def compare_policies(
    scenario: Scenario | str = "default",
    policies: Sequence[str] = DEFAULT_POLICY_NAMES,
    *,
    seeds: Sequence[int] = (0,),
    orders: int = DEFAULT_ORDERS,
    executor: Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Comparison:
    """Run every policy (by name, default parameters) on every seed of ``scenario``.

    With an ``executor`` (any :class:`concurrent.futures.Executor`) the runs go through
    :func:`consign_core.lab.sweep.run_sweep`; ``progress(done, total)`` then counts finished runs,
    otherwise orders of the current run. Results are the same either way.
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
    if executor is not None:
        specs = [
            SweepSpec(policy=p, scenario=chosen, seed=s, orders=orders)
            for p in policies
            for s in seeds
        ]
        runs = run_sweep(specs, executor=executor, progress=progress)
        return Comparison(scenario=chosen, orders=orders, seeds=seeds, results=runs)
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
    return Comparison(scenario=chosen, orders=orders, seeds=seeds, results=results)
