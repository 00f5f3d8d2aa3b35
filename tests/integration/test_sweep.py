"""Sweeps: policies x parameters x seeds through any concurrent.futures.Executor."""

from __future__ import annotations

import pickle
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import timedelta

import pytest

from consign_core.errors import ConfigurationError
from consign_core.lab import compare_policies, get_scenario, simulate
from consign_core.lab.sweep import SweepSpec, grid, run_spec, run_sweep


SMALL = get_scenario("default").evolve(name="small", suppliers=10, days=10.0)


def test_grid_is_the_full_product_in_a_stable_order() -> None:
    specs = grid(
        {"expected-cost": [{}, {"recheck_every": timedelta(hours=1)}], "confirm-immediately": [{}]},
        scenarios=[SMALL],
        seeds=[0, 1],
        orders=50,
    )
    assert [(s.policy, s.params, s.seed) for s in specs] == [
        ("expected-cost", {}, 0),
        ("expected-cost", {}, 1),
        ("expected-cost", {"recheck_every": timedelta(hours=1)}, 0),
        ("expected-cost", {"recheck_every": timedelta(hours=1)}, 1),
        ("confirm-immediately", {}, 0),
        ("confirm-immediately", {}, 1),
    ]
    assert grid(["await-invoice"], seeds=range(3), orders=5)[2].seed == 2


def test_specs_pickle_and_check_their_policy_early() -> None:
    spec = SweepSpec(
        policy="trust-threshold", params={"group_quantity": 3}, scenario=SMALL, orders=40
    )
    assert pickle.loads(pickle.dumps(spec)) == spec  # noqa: S301 - our own bytes
    assert SweepSpec(policy="await-invoice").scenario.name == "default"
    with pytest.raises(ConfigurationError, match="unknown policy"):
        SweepSpec(policy="maybe")
    with pytest.raises(ConfigurationError, match="bad parameters"):
        SweepSpec(policy="await-invoice", params={"colour": "red"})


def test_run_spec_is_simulate() -> None:
    spec = SweepSpec(policy="expected-cost", scenario=SMALL, seed=3, orders=80)
    assert run_spec(spec) == simulate(SMALL, "expected-cost", seed=3, orders=80)


def test_thread_pool_sweep_matches_sequential_runs_in_spec_order() -> None:
    specs = grid(
        ["confirm-immediately", "await-invoice"], scenarios=[SMALL], seeds=[0, 1], orders=80
    )
    seen: list[tuple[int, int]] = []
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = run_sweep(specs, executor=pool, progress=lambda d, t: seen.append((d, t)))
    assert results == [run_spec(s) for s in specs]
    assert seen[-1] == (4, 4)
    assert [r.policy for r in results] == [s.policy for s in specs]


def test_process_pool_is_the_default_and_gives_the_same_results() -> None:
    specs = grid(["expected-cost"], scenarios=[SMALL], seeds=[5, 6], orders=60)
    assert run_sweep(specs, max_workers=2) == [run_spec(s) for s in specs]


def test_an_explicit_process_pool_is_left_running() -> None:
    specs = grid(["confirm-immediately"], scenarios=[SMALL], seeds=[1], orders=40)
    with ProcessPoolExecutor(max_workers=1) as pool:
        first = run_sweep(specs, executor=pool)
        second = run_sweep(specs, executor=pool)
    assert first == second


def test_a_process_pool_sweep_gives_what_the_same_runs_give_in_this_process() -> None:
    specs = grid(["expected-cost"], scenarios=[SMALL], seeds=[1, 2], orders=60)
    with ProcessPoolExecutor(max_workers=2) as pool:
        pooled = run_sweep(specs, executor=pool)
    direct = [simulate(SMALL, "expected-cost", seed=seed, orders=60) for seed in (1, 2)]
    assert pooled == direct
    assert [r.seed for r in pooled] == [1, 2]


def test_compare_policies_through_an_executor_equals_sequential() -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        parallel = compare_policies(
            SMALL, ["await-invoice", "expected-cost"], seeds=[2], orders=70, executor=pool
        )
    sequential = compare_policies(SMALL, ["await-invoice", "expected-cost"], seeds=[2], orders=70)
    assert parallel.to_dict() == sequential.to_dict()


def test_empty_and_bad_sweeps() -> None:
    assert run_sweep([]) == []
    with pytest.raises(ConfigurationError, match="SweepSpec") as info:
        run_sweep(["expected-cost"])  # type: ignore[list-item]
    assert (info.value.field, info.value.value) == ("specs[0]", "expected-cost")


@pytest.mark.parametrize("specs", [3, None, "expected-cost"], ids=["int", "none", "str"])
def test_run_sweep_refuses_what_is_not_a_list_of_specs_with_a_typed_error(specs: object) -> None:
    with pytest.raises(ConfigurationError, match="specs must be a list of SweepSpec") as info:
        run_sweep(specs)  # type: ignore[arg-type]
    assert (info.value.field, info.value.value) == ("specs", specs)


def test_run_sweep_names_the_bad_item_among_good_specs() -> None:
    good = SweepSpec(policy="await-invoice", scenario=SMALL, orders=5)
    with pytest.raises(ConfigurationError, match=r"at specs\[1\]") as info:
        run_sweep([good, {"policy": "await-invoice"}])  # type: ignore[list-item]
    assert info.value.field == "specs[1]"


def test_run_sweep_refuses_a_bad_executor_or_progress_before_running() -> None:
    spec = SweepSpec(policy="await-invoice", scenario=SMALL, orders=5)
    with pytest.raises(ConfigurationError, match="executor must be") as info:
        run_sweep([spec], executor="threads")  # type: ignore[arg-type]
    assert info.value.field == "executor"
    with ThreadPoolExecutor(max_workers=1) as pool, pytest.raises(ConfigurationError) as bad:
        run_sweep([spec], executor=pool, progress="bar")  # type: ignore[arg-type]
    assert bad.value.field == "progress"
    with pytest.raises(ConfigurationError, match="max_workers") as workers:
        run_sweep([spec], max_workers=0)
    assert (workers.value.field, workers.value.value) == ("max_workers", 0)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"policies": 3}, "policies"),
        ({"policies": None}, "policies"),
        ({"policies": "expected-cost"}, "policies"),
        ({"policies": ["await-invoice"], "seeds": 3}, "seeds"),
        ({"policies": ["await-invoice"], "scenarios": 7}, "scenarios"),
        ({"policies": ["await-invoice"], "scenarios": "default"}, "scenarios"),
        ({"policies": {"await-invoice": {}}}, "policies['await-invoice']"),
    ],
    ids=["int", "none", "bare-string", "seeds", "scenarios", "bare-scenario", "params-not-list"],
)
def test_grid_refuses_malformed_arguments_with_a_typed_error_naming_them(
    kwargs: dict[str, object], field: str
) -> None:
    with pytest.raises(ConfigurationError) as info:
        grid(**kwargs)  # type: ignore[arg-type]
    assert info.value.field == field
    assert not isinstance(info.value, TypeError)


def test_grid_with_an_unknown_policy_name_fails_before_anything_runs() -> None:
    with pytest.raises(ConfigurationError, match="unknown policy 'x'") as info:
        grid(["x"])
    assert (info.value.field, info.value.value) == ("policy", "x")


def test_a_failing_run_raises_its_error() -> None:
    class Boom(ThreadPoolExecutor):
        def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
            def fail() -> None:
                raise RuntimeError("worker died")

            return super().submit(fail)

    with Boom(max_workers=1) as pool, pytest.raises(RuntimeError, match="worker died"):
        run_sweep(
            grid(["await-invoice"], scenarios=[SMALL], orders=10),
            executor=pool,
            progress=lambda d, t: None,
        )


def test_dask_local_cluster_executor() -> None:
    distributed = pytest.importorskip("dask.distributed")
    specs = grid(["confirm-immediately", "expected-cost"], scenarios=[SMALL], seeds=[0], orders=60)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        results = run_sweep(specs, executor=client.get_executor())
    assert results == [run_spec(s) for s in specs]
