"""Where a policy-lab run's fixed costs go: the garbage collector and the engine's idle runs.

One ``simulate`` run in this process (``default``, one policy, seed 0), timed in CPU seconds,
with every garbage-collector pass timed through ``gc.callbacks`` (by generation; the
collector's settings are left as they are). Then, on the finished run's engine, ``--idle``
more engine runs 10 simulated minutes apart with nothing due, each timed: the cost of a run
that has nothing to do, and that cost times the run's own number of engine runs as a share of
the run.

    python benchmarks/bench_lab_overhead.py                      # expected-cost, 10,000 orders
    python benchmarks/bench_lab_overhead.py --policy confirm-immediately --orders 2000

It is a measurement, not a test: it prints what it measured and never fails.
"""

from __future__ import annotations

import argparse
import gc
import time
from typing import Any

import consign_core.lab._runner as runner
from consign_core.lab import simulate


_TEN_MINUTES_US = 600_000_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policy", default="expected-cost")
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--idle", type=int, default=3_000, help="idle engine runs to time")
    args = parser.parse_args()

    kept: dict[str, Any] = {}
    original = runner._LabRun.run  # noqa: SLF001 - a measurement reaches into the lab's run

    def keep_run(self: Any) -> Any:
        kept["run"] = self
        return original(self)

    runner._LabRun.run = keep_run  # type: ignore[method-assign]  # noqa: SLF001

    spent: dict[int, float] = {0: 0.0, 1: 0.0, 2: 0.0}
    passes: dict[int, int] = {0: 0, 1: 0, 2: 0}
    started = [0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            generation = info["generation"]
            spent[generation] += time.perf_counter() - started[0]
            passes[generation] += 1

    gc.callbacks.append(on_gc)
    cpu = time.process_time()
    try:
        simulate("default", args.policy, seed=0, orders=args.orders)
    finally:
        cpu = time.process_time() - cpu
        gc.callbacks.remove(on_gc)
        runner._LabRun.run = original  # type: ignore[method-assign]  # noqa: SLF001
    lab = kept["run"]
    total_gc = sum(spent.values())
    print(f"simulate default, {args.policy}, {args.orders:,} orders, seed 0: {cpu:.2f} s CPU")
    print(
        f"garbage collector: {total_gc:.2f} s ({100 * total_gc / cpu:.0f}% of the run); "
        + ", ".join(f"generation {g}: {passes[g]} passes, {spent[g]:.3f} s" for g in (0, 1, 2))
    )

    engine = lab.engine
    clock = lab.clock
    began = time.perf_counter()
    for _ in range(args.idle):
        clock.set(clock.now_us + _TEN_MINUTES_US)
        lab.market.advance(clock.now_us)
        lab.supplier.advance(clock.now_us)
        engine.run_once(clock.now, lab.person.answers(engine, clock.now_us))
    idle_us = (time.perf_counter() - began) / args.idle * 1e6
    share = lab.runs * idle_us / 1e6 / cpu
    print(
        f"an idle engine run: {idle_us:.1f} µs (mean of {args.idle:,}); the run made "
        f"{lab.runs:,} engine runs: {100 * share:.0f}% of it at that cost"
    )


if __name__ == "__main__":
    main()
