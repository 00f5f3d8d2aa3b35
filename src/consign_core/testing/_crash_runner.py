"""A world to crash: the engine on a SQLite file, driven step by step against persisted fakes.

``python -m consign_core.testing._crash_runner --db state.db --world world.json`` runs the
scripted scenario from wherever it stopped: the fake market and supplier (the "remote" side)
live in ``world.json``, saved atomically after every change they make, so they outlive a
SIGKILL of this process exactly like a real market would. The reliability test kills it at
random points and restarts it, then compares the end state with an uninterrupted run.

The scenario (seeded, deterministic): ``--orders`` orders paid over the first steps; most ship
from the primary supplier, some are rerouted after a stock-out, some have no alternate and are
cancelled, some are cancelled by the buyer; one simulated hour per step.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from consign_core.domain.model import CancelReason, OrderRef
from consign_core.domain.rules import COUPANG
from consign_core.domain.timing import make_policy
from consign_core.engine import Engine
from consign_core.store import SQLiteStore
from consign_core.testing._builders import T0, make_order
from consign_core.testing._market import InMemoryMarket
from consign_core.testing._supplier import Fate, InMemorySupplier


__all__ = ["SOURCES", "main", "scenario"]

SOURCES: dict[str, object] = {
    "SKU-1": [("S1", "I1"), ("S2", "I2")],
    "SOLO": ("S1", "I9"),
}
"""The SKU -> supplier mapping of the scenario."""

_HOUR = timedelta(hours=1)
_ORDERS_PER_STEP = 10


def scenario(seed: int, orders: int) -> list[dict[str, Any]]:
    """The scripted orders: id, paying step, SKU, fates per attempt and buyer-cancel step."""
    rng = random.Random(seed)  # noqa: S311 - a test scenario
    out = []
    for i in range(orders):
        kind = rng.choices(["ships", "reroutes", "sold_out", "buyer"], [0.6, 0.15, 0.1, 0.15])[0]
        ships = {"ships": True, "hours": rng.uniform(6, 30)}
        cancels = {"ships": False, "hours": 5.0}
        fates = {
            "ships": {"1": ships},
            "reroutes": {"1": cancels, "2": ships},
            "sold_out": {"1": cancels},
            "buyer": {"1": {"ships": True, "hours": 48.0}},
        }[kind]
        step = i // _ORDERS_PER_STEP
        out.append(
            {
                "id": f"{i:05d}",
                "kind": kind,
                "step": step,
                "sku": "SOLO" if kind == "sold_out" else "SKU-1",
                "fates": fates,
                "cancel_step": step + 3 if kind == "buyer" else None,
            }
        )
    return out


class _World:
    def __init__(self, path: Path, seed: int, orders: int) -> None:
        self.path = path
        self.market = InMemoryMarket()
        self.supplier = InMemorySupplier(seed=seed)
        self.step = -1
        self.actions = -1
        self.script = scenario(seed, orders)
        if path.exists():
            data = json.loads(path.read_text(encoding="utf-8"))
            self.market.load(data["market"])
            self.supplier.load(data["supplier"])
            self.step = data["step"]
            self.actions = data["actions"]
        for row in self.script:
            ref = OrderRef(market="coupang", order_id=row["id"])
            for attempt, fate in row["fates"].items():
                self.supplier.script(
                    ref,
                    Fate(
                        ships=fate["ships"],
                        after=fate["hours"] * _HOUR,
                        reason=CancelReason.STOCK_OUT,
                    ),
                    attempt=int(attempt),
                )

    def save(self) -> None:
        data = {
            "market": self.market.dump(),
            "supplier": self.supplier.dump(),
            "step": self.step,
            "actions": self.actions,
        }
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(data), encoding="utf-8")
        tmp.replace(self.path)

    def act(self, step: int) -> None:
        """The buyers of step ``step`` pay or cancel (once, even across restarts)."""
        if self.actions >= step:
            return
        now = T0 + step * _HOUR
        self.market.advance(now)
        for row in self.script:
            if row["step"] == step:
                self.market.add_order(make_order(row["id"], sku=row["sku"], paid_at=now))
            if row["cancel_step"] == step:
                self.market.buyer_cancels(OrderRef(market="coupang", order_id=row["id"]))
        self.actions = step
        self.save()


def main(argv: list[str] | None = None) -> int:
    """Run the scenario to ``--steps`` from wherever the files say it stopped."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--world", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--orders", type=int, default=120)
    parser.add_argument("--steps", type=int, default=72)
    args = parser.parse_args(argv)

    world = _World(args.world, args.seed, args.orders)
    store = SQLiteStore(args.db)
    engine = Engine(
        world.market,
        world.supplier,
        store,
        policy=make_policy("await-invoice"),
        profile=COUPANG,
        sources=SOURCES,
        messenger=world.market,
    )
    engine.active_orders()  # load the store and replay the journal before saying "ready"
    make_order("warm-up")  # build the holiday tables outside the measured steps
    print("ready", world.step + 1, flush=True)  # noqa: T201 - the test waits for this line
    for step in range(world.step + 1, args.steps):
        print("step", step, flush=True)  # noqa: T201 - lets the test kill inside a step
        now = T0 + step * _HOUR
        world.market.on_change = None
        world.supplier.on_change = None
        world.act(step)
        world.market.on_change = world.save
        world.supplier.on_change = world.save
        world.market.advance(now)
        world.supplier.advance(now)
        engine.run_once(now)
        world.step = step
        world.save()
    store.close()
    print("done", flush=True)  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
