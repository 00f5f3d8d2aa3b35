"""Benchmark the policy lab's simulator: orders per second and peak memory.

Run ``.venv/bin/python benchmarks/bench_sim.py`` for the full target (1,000,000 orders over
1,000 suppliers, one core), or ``--orders 20000`` for a CI-size run.

The run is the ``default`` scenario with ``--suppliers`` suppliers (1,000 by default) and one
policy (``--policy``, ``confirm-immediately`` by default; ``all`` runs the four built-in
policies one after the other). Everything is the real code path: the world is drawn and the
production engine (``Engine.run_once`` every 10 simulated minutes, over the lab's simulated
market and supplier and an in-memory store) takes every order through the workflow, every
decision through ``make_decider`` (trust model + ledger + policy), every event into the trust
model, the ledger and the store's journal. The target is 1,000,000
orders in <= 30 s with peak memory <= 1 GiB; the script prints what it measured and whether
the target was met, and never fails on a missed target (it is a measurement, not a test).

Printed per policy: wall and CPU seconds, orders per second (wall), the policy's decisions
per order, and the process's peak resident memory (``ru_maxrss``; it includes the
interpreter, about 40 MiB).

``--breakdown`` also times the shared core (the workflow's ``step``, which includes every
policy decision and trust assessment, and the trust model's and the ledger's ``observe``)
and the engine's runs as a whole (polls, outbox, journal, store commits, command execution
through the simulated ports), and prints microseconds per order; what is left is the lab's
own part (drawing the world, moving the simulated ports, the results). (The timers add well
under a microsecond per call.)
"""

from __future__ import annotations

import argparse
import gc
import resource
import sys
import time
from typing import Any

from consign_core.domain.cancel_rate import Ledger
from consign_core.domain.timing import DEFAULT_POLICY_NAMES
from consign_core.domain.trust import TrustModel
from consign_core.engine import Engine
from consign_core.engine import _engine as _engine_module
from consign_core.lab.sim import get_scenario, simulate


TARGET_SECONDS = 30.0
TARGET_ORDERS = 1_000_000
TARGET_MEMORY_MIB = 1024.0


def _peak_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def _instrument() -> dict[str, float]:
    """Time the shared core (workflow step, trust and ledger observe) and the engine's runs;
    returns the totals (the engine's include the core's)."""
    spent = {
        "workflow step (with decisions)": 0.0,
        "trust observe": 0.0,
        "ledger observe": 0.0,
        "engine runs (all of the above included)": 0.0,
    }
    clock = time.perf_counter
    step = _engine_module.step
    run_once = Engine.run_once

    def timed_run(self: Any, *args: Any, **kw: Any) -> Any:
        t = clock()
        try:
            return run_once(self, *args, **kw)
        finally:
            spent["engine runs (all of the above included)"] += clock() - t

    Engine.run_once = timed_run  # type: ignore[method-assign]

    def timed_step(*args: Any) -> Any:
        t = clock()
        try:
            return step(*args)
        finally:
            spent["workflow step (with decisions)"] += clock() - t

    _engine_module.step = timed_step  # type: ignore[assignment]
    for cls, name in ((TrustModel, "trust observe"), (Ledger, "ledger observe")):
        observe = cls.observe

        def timed(self: Any, event: Any, _f: Any = observe, _n: str = name, **kw: Any) -> Any:
            t = clock()
            try:
                return _f(self, event, **kw)
            finally:
                spent[_n] += clock() - t

        cls.observe = timed  # type: ignore[method-assign]
    return spent


def main() -> int:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=TARGET_ORDERS, help="orders per run")
    parser.add_argument("--suppliers", type=int, default=1_000, help="suppliers in the world")
    parser.add_argument(
        "--policy",
        default="confirm-immediately",
        choices=[*DEFAULT_POLICY_NAMES, "all"],
        help="the policy to run, or all",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--breakdown", action="store_true", help="also time the shared core per order"
    )
    args = parser.parse_args()
    spent = _instrument() if args.breakdown else None
    scenario = get_scenario("default").evolve(suppliers=args.suppliers)
    policies = DEFAULT_POLICY_NAMES if args.policy == "all" else (args.policy,)
    print(
        f"simulate: scenario default, {args.orders:,} orders, {args.suppliers:,} suppliers, "
        f"seed {args.seed}, one process"
    )
    for policy in policies:
        gc.collect()
        last = [time.perf_counter()]

        def progress(done: int, total: int, last: list[float] = last) -> None:
            now = time.perf_counter()
            if now - last[0] >= 10.0:
                last[0] = now
                print(f"  ... {done:,}/{total:,} orders", file=sys.stderr, flush=True)

        if spent is not None:
            spent.update(dict.fromkeys(spent, 0.0))
        wall0 = time.perf_counter()
        cpu0 = time.process_time()
        result = simulate(scenario, policy, seed=args.seed, orders=args.orders, progress=progress)
        wall = time.perf_counter() - wall0
        cpu = time.process_time() - cpu0
        rate = result.orders / wall
        peak = _peak_mib()
        print(
            f"{policy:>20}: {wall:8.1f} s wall, {cpu:8.1f} s CPU, {rate:10,.0f} orders/s, "
            f"{result.decisions / result.orders:4.1f} decisions/order, peak memory {peak:,.0f} MiB"
        )
        if spent is not None:
            core = sum(v for k, v in spent.items() if not k.startswith("engine runs"))
            for what, seconds in spent.items():
                print(f"{'':>20}  {what}: {1e6 * seconds / result.orders:6.1f} us/order")
            print(
                f"{'':>20}  shared core: {1e6 * core / result.orders:6.1f} us/order of "
                f"{1e6 * wall / result.orders:.1f}; the core alone would take "
                f"{core / result.orders * TARGET_ORDERS:,.0f} s for {TARGET_ORDERS:,} orders"
            )
        if args.orders == TARGET_ORDERS:
            speed_ok = wall <= TARGET_SECONDS
            memory_ok = peak <= TARGET_MEMORY_MIB
            print(
                f"{'':>20}  target {TARGET_ORDERS:,} orders in <= {TARGET_SECONDS:.0f} s: "
                f"{'met' if speed_ok else 'NOT met'}; peak memory <= {TARGET_MEMORY_MIB:,.0f} MiB: "
                f"{'met' if memory_ok else 'NOT met'}"
            )
        else:
            projected = TARGET_ORDERS / rate
            print(
                f"{'':>20}  projected for {TARGET_ORDERS:,} orders at this rate: "
                f"{projected:,.0f} s (target {TARGET_SECONDS:.0f} s)"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
