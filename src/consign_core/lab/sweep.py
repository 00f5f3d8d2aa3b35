"""Policy sweeps: policies x parameters x seeds, run through any ``concurrent.futures.Executor``.

A :class:`SweepSpec` names one simulation run with plain, picklable data (policy name and
parameters, scenario, seed, orders, cost weights); :func:`run_sweep` maps :func:`run_spec`
over the specs with an executor and returns the results in the order of the specs. The
default executor is a local :class:`~concurrent.futures.ProcessPoolExecutor`; pass a
``ThreadPoolExecutor`` for small runs, or a cluster's executor to move a sweep off one
machine, e.g. with Dask::

    from dask.distributed import Client, LocalCluster
    with LocalCluster(n_workers=4) as cluster, Client(cluster) as client:
        results = run_sweep(specs, executor=client.get_executor())

:func:`grid` builds the specs of a full factorial sweep. Every run is seeded and pure, so a
sweep gives the same results whatever the executor and the number of workers.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from typing import Any, cast

import attrs

from consign_core.domain._validators import fail, int_at_least, non_empty_str
from consign_core.domain.timing import ExpectedCostWeights, make_policy
from consign_core.errors import ConfigurationError
from consign_core.lab._results import PolicyResult
from consign_core.lab._world import Scenario
from consign_core.lab.sim import DEFAULT_ORDERS, get_scenario, simulate


__all__ = ["SweepSpec", "grid", "run_spec", "run_sweep"]


def _to_scenario(value: Scenario | str) -> Scenario:
    return get_scenario(value) if isinstance(value, str) else value


def _params(value: object) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        msg = f"SweepSpec.params must be a mapping of parameter names to values, got {value!r}"
        raise ConfigurationError(msg, field="params", value=value)
    return dict(value)


def _check_seed(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        fail(instance, attribute, value, "an integer")


def _check_policy(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    non_empty_str(instance, attribute, value)


def _check_scenario(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, Scenario):
        fail(instance, attribute, value, "a Scenario or a scenario name")


def _check_weights(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and not isinstance(value, ExpectedCostWeights):
        fail(instance, attribute, value, "ExpectedCostWeights or None")


@attrs.frozen(kw_only=True)
class SweepSpec:
    """One run of a sweep: plain data, so it pickles to any worker."""

    policy: str = attrs.field(validator=_check_policy)
    """A policy name (see :func:`consign_core.domain.timing.policy_names`)."""
    params: dict[str, Any] = attrs.field(factory=dict, converter=_params, hash=False)
    """The policy's parameters (for :func:`~consign_core.domain.timing.make_policy`)."""
    scenario: Scenario = attrs.field(
        factory=lambda: get_scenario("default"),
        converter=_to_scenario,
        validator=_check_scenario,
    )
    """The scenario (a name is looked up in :data:`consign_core.lab.sim.SCENARIOS`)."""
    seed: int = attrs.field(default=0, validator=_check_seed)
    """The world's seed."""
    orders: int = attrs.field(default=DEFAULT_ORDERS, validator=int_at_least(1))
    """Orders in the run."""
    weights: ExpectedCostWeights | None = attrs.field(default=None, validator=_check_weights)
    """The cost weights of the accounting (``None``: the defaults); keep them equal in a sweep."""

    def __attrs_post_init__(self) -> None:
        """Check that the policy and its parameters exist (fail before any worker starts)."""
        make_policy(self.policy, **dict(self.params))


def run_spec(spec: SweepSpec) -> PolicyResult:
    """Run one spec (the function each worker calls; importable at module level)."""
    return simulate(
        spec.scenario,
        spec.policy,
        seed=spec.seed,
        orders=spec.orders,
        params=spec.params,
        weights=spec.weights,
    )


def grid(
    policies: Mapping[str, Sequence[Mapping[str, Any]]] | Sequence[str],
    *,
    scenarios: Sequence[Scenario | str] = ("default",),
    seeds: Iterable[int] = (0,),
    orders: int = DEFAULT_ORDERS,
    weights: ExpectedCostWeights | None = None,
) -> list[SweepSpec]:
    """The specs of a full factorial sweep, in a stable order (scenario, policy, params, seed).

    ``policies`` is a list of names (default parameters), or a mapping from a name to a list of
    parameter sets, e.g. ``{"expected-cost": [{}, {"recheck_every": timedelta(hours=1)}]}``.
    Anything else (a number, a bare string, a non-list of scenarios or seeds), an unknown
    policy or parameter raises :class:`~consign_core.errors.ConfigurationError` naming it.
    """
    if isinstance(policies, Mapping):
        variants: list[tuple[str, dict[str, Any]]] = []
        for name, sets in policies.items():
            if isinstance(sets, str | Mapping) or not isinstance(sets, Iterable):
                msg = f"the parameter sets of {name!r} must be a list of mappings, got {sets!r}"
                raise ConfigurationError(msg, field=f"policies[{name!r}]", value=sets)
            variants.extend((name, _params(p)) for p in sets)
    else:
        variants = [(name, {}) for name in _names(policies)]
    scenario_list = _listed(scenarios, "scenarios", "scenarios or scenario names")
    seed_list = _listed(seeds, "seeds", "integer seeds")
    return [
        SweepSpec(
            policy=name, params=params, scenario=scenario, seed=seed, orders=orders, weights=weights
        )
        for scenario, (name, params), seed in itertools.product(scenario_list, variants, seed_list)
    ]


def _names(policies: object) -> list[str]:
    """The policy names of :func:`grid`'s list form (a bare string is refused, not split)."""
    if isinstance(policies, str):
        msg = (
            f"policies must be a list of policy names or a mapping of names to parameter "
            f"sets, got the string {policies!r} (write [{policies!r}])"
        )
        raise ConfigurationError(msg, field="policies", value=policies)
    return _listed(policies, "policies", "policy names, or a mapping of names to parameter sets")


def _listed(value: object, field: str, what: str) -> list[Any]:
    """``list(value)`` for an iterable (not a string); ConfigurationError naming ``field``."""
    if isinstance(value, str) or not isinstance(value, Iterable):
        msg = f"{field} must be a list of {what}, got {value!r}"
        raise ConfigurationError(msg, field=field, value=value)
    return list(value)


def run_sweep(
    specs: Iterable[SweepSpec],
    *,
    executor: Executor | None = None,
    max_workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[PolicyResult]:
    """Run every spec through ``executor`` and return the results in the specs' order.

    Without an executor a ``ProcessPoolExecutor(max_workers)`` is created and shut down here;
    a given executor is left running (it is yours). ``progress(done, total)`` is called in
    this process as runs finish. The first failing run's exception is raised. Specs that are
    not :class:`SweepSpec` items (or a bad executor, ``max_workers`` or ``progress``) raise
    :class:`~consign_core.errors.ConfigurationError` naming them, before anything runs.
    """
    items = _listed(specs, "specs", "SweepSpec items (see grid())")
    for index, item in enumerate(items):
        if not isinstance(item, SweepSpec):
            msg = (
                f"run_sweep takes SweepSpec items (build them with grid() or SweepSpec(...)), "
                f"got {item!r} at specs[{index}]"
            )
            raise ConfigurationError(msg, field=f"specs[{index}]", value=item)
    if not items:
        return []
    if executor is None:
        _check_workers(max_workers)
    elif not callable(getattr(executor, "submit", None)):
        msg = f"executor must be a concurrent.futures.Executor, got {executor!r}"
        raise ConfigurationError(msg, field="executor", value=executor)
    if progress is not None and not callable(cast("object", progress)):
        msg = f"progress must be a callable progress(done, total) or None, got {progress!r}"
        raise ConfigurationError(msg, field="progress", value=progress)
    own = executor is None
    pool: Executor = ProcessPoolExecutor(max_workers=max_workers) if own else executor  # type: ignore[assignment]
    try:
        futures: list[Future[PolicyResult]] = [
            pool.submit(run_spec, item) for item in items if isinstance(item, SweepSpec)
        ]
        if progress is not None:
            _report(futures, progress)
        return [f.result() for f in futures]
    finally:
        if own:
            pool.shutdown(wait=True, cancel_futures=True)


def _check_workers(value: object) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        msg = f"max_workers must be an int >= 1 or None, got {value!r}"
        raise ConfigurationError(msg, field="max_workers", value=value)


def _report(futures: list[Future[PolicyResult]], progress: Callable[[int, int], None]) -> None:
    total = len(futures)
    for done, future in enumerate(as_completed(futures), start=1):
        progress(done, total)
        if future.exception() is not None:
            return
