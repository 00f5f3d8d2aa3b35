"""How much of the oracle's gain a policy could capture if it knew every supplier's truth.

Runs ``expected-cost`` in the policy lab twice per seed: as it is (the trust model's
estimates) and *informed*, its trust assessment replaced by the simulated world's hidden
parameters (each supplier's true cancel probability at the moment of the order, including a
turn for the worse and the quantity effect, and its true lead-time and cancel-time
distributions, conditioned on the order still pending). The informed policy still does not
know which orders will fail: that is what the oracle knows and no policy can.

    python scripts/informed_reference.py [SCENARIO] [--seeds N] [--orders N]

Prints each run's total cost and the mean ``gain_captured`` against the oracle and the best
baseline, as ``consign-core simulate --json`` defines them. Uses the lab's private world
builder: a research script, not part of the library's API.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

import attrs

from consign_core.domain.timing import ConfirmationPolicy, Decision, DecisionContext, make_policy
from consign_core.lab import compare_policies, get_scenario
from consign_core.lab._world import build_world
from consign_core.lab.sim import simulate


def _survival(hours: float, median: float, sigma: float) -> float:
    """P(T > hours) for a log-normal T with this median and sigma."""
    if hours <= 0.0:
        return 1.0
    z = (math.log(hours) - math.log(median)) / sigma
    return 0.5 * math.erfc(z / math.sqrt(2.0))


class Informed:
    """A policy that decides on the world's true supplier parameters, not the trust model's."""

    watches_supplier_confirmation = False

    def __init__(self, inner: ConfirmationPolicy, scenario: Any, seed: int, orders: int) -> None:
        self.inner = inner
        self.name = f"informed-{inner.name}"
        self.scenario = scenario
        self.world = build_world(scenario, seed, orders)

    def decide(self, context: DecisionContext) -> Decision:
        trust = context.trust
        truth = self.world.by_id.get(trust.supplier_id)
        if truth is None:
            return self.inner.decide(context)
        calendar = self.scenario.calendar
        placed = context.placed_at or context.now
        p = truth.cancel_probability(
            int(placed.timestamp() * 1e6), context.order.quantity, self.scenario.quantity_exponent
        )
        if trust.stock_exceeded:
            p = max(p, self.scenario.stock_exceeded_cancel_rate)
        elapsed = (
            calendar.business_hours_between(placed, context.now) if context.now > placed else 0.0
        )
        ship_by = context.order.ship_by
        to_deadline = calendar.business_hours_between(placed, ship_by) if ship_by > placed else 0.0
        s_cancel = _survival(elapsed, truth.time_to_cancel, truth.time_to_cancel_sigma)
        s_ship = _survival(elapsed, truth.lead, truth.lead_sigma)
        pending = p * s_cancel + (1.0 - p) * s_ship
        p_now = p * s_cancel / pending if pending > 0.0 else p
        c_by = (
            1.0
            - _survival(to_deadline, truth.time_to_cancel, truth.time_to_cancel_sigma) / s_cancel
            if s_cancel > 0.0
            else 0.0
        )
        i_by = (
            1.0 - _survival(to_deadline, truth.lead, truth.lead_sigma) / s_ship
            if s_ship > 0.0
            else 0.0
        )
        p_cancel_by = min(1.0, p_now * c_by)
        p_invoice_by = min(1.0 - p_cancel_by, (1.0 - p_now) * i_by)
        known = attrs.evolve(
            trust,
            p_cancel=p_now,
            p_cancel_upper=p_now,
            p_cancel_by_deadline=p_cancel_by,
            p_invoice_by_deadline=p_invoice_by,
            median_hours_to_invoice=truth.lead,
            p90_hours_to_invoice=truth.lead * math.exp(1.2816 * truth.lead_sigma),
            p_cancel_eventually=p_now,
        )
        return self.inner.decide(attrs.evolve(context, trust=known))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default="default")
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--policy", default="expected-cost")
    args = parser.parse_args()
    scenario = get_scenario(args.scenario)
    table = compare_policies(scenario, seeds=range(args.seeds), orders=args.orders).to_dict()
    best = table["best_baseline"]["total_cost"]
    oracle = table["oracle"]["total_cost"]
    plain = next(p for p in table["policies"] if p["policy"] == args.policy)["total_cost"]
    costs = []
    for seed in range(args.seeds):
        informed = Informed(make_policy(args.policy), scenario, seed, args.orders)
        result = simulate(scenario, informed, seed=seed, orders=args.orders)
        costs.append(result.total_cost)
        print(f"seed {seed}: informed {args.policy} {result.total_cost / 1e6:.1f}M KRW")  # noqa: T201
    mean = sum(costs) / len(costs)

    def captured(cost: float) -> str:
        return f"{(best - cost) / (best - oracle):.0%}" if best > oracle else "n/a"

    print(  # noqa: T201
        f"{args.scenario}: best baseline {best / 1e6:.1f}M ({table['best_baseline']['policy']}), "
        f"oracle {oracle / 1e6:.1f}M; {args.policy} {plain / 1e6:.1f}M (captures "
        f"{captured(plain)}); informed {mean / 1e6:.1f}M (captures {captured(mean)})"
    )


if __name__ == "__main__":
    main()
