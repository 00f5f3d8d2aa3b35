"""Reliability (b): the engine, on a SQLite file in a real subprocess, killed with SIGKILL at
30 random points and restarted, ends where an uninterrupted run ends, and never places a
supplier order twice. The fake market and supplier persist to their own file after every
change (a "remote" side that outlives the engine process)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from consign_core.domain.model import OrderRef
from consign_core.store import SQLiteStore


KILLS = 30
RUNNER = [sys.executable, "-m", "consign_core.testing._crash_runner"]


def start(directory: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*RUNNER, "--db", str(directory / "state.db"), "--world", str(directory / "world.json")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=directory,
    )


def finish(directory: Path) -> None:
    proc = start(directory)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert out.strip().endswith("done"), out


def summary(directory: Path) -> dict[str, Any]:
    world = json.loads((directory / "world.json").read_text(encoding="utf-8"))
    market, supplier = world["market"], world["supplier"]
    store = SQLiteStore(directory / "state.db")
    per_order: dict[str, list[str]] = {}
    for raw, _key, _fate, _requested in supplier["orders"]:
        per_order.setdefault(raw["order_ref"]["order_id"], []).append(
            f"{raw['supplier_id']}:{raw['status']}"
        )
    orders = {}
    for row in market["orders"]:
        order_id = row["order"]["ref"]["order_id"]
        state = store.get_order(OrderRef(market="coupang", order_id=order_id))
        cancellation = row["cancellation"]
        orders[order_id] = {
            "market": row["status"],
            "cancel": None
            if cancellation is None
            else (cancellation["fault"], cancellation["reason"]),
            "engine": None if state is None else state.status.value,
            "terminal": None if state is None else state.is_terminal,
            "supplier_orders": sorted(per_order.get(order_id, [])),
        }
    store.close()
    return {
        "orders": orders,
        "most_placements_per_key": max(supplier["placements"].values()),
        "duplicates": market["duplicates"],
    }


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL (POSIX)")
def test_thirty_sigkills_change_nothing_and_never_place_a_supplier_order_twice(
    tmp_path: Path,
) -> None:
    reference = tmp_path / "reference"
    crashed = tmp_path / "crashed"
    reference.mkdir()
    crashed.mkdir()
    finish(reference)

    rng = random.Random(20251)
    kills = 0
    while kills < KILLS:
        proc = start(crashed)
        assert proc.stdout is not None
        ready = proc.stdout.readline()
        assert ready.startswith("ready"), proc.stderr.read() if proc.stderr else ready
        # Kill inside a step (a step takes tens of milliseconds), 0-1 steps in.
        line = ""
        for _ in range(rng.randint(1, 2)):
            line = proc.stdout.readline()
        if not line.startswith("step"):
            break  # finished before the kill: the scenario is too short
        time.sleep(rng.uniform(0.0, 0.06))
        if proc.poll() is not None:
            break
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate()
        kills += 1
    assert kills == KILLS, f"the run finished after {kills} kills; lengthen the scenario"
    finish(crashed)

    expected, actual = summary(reference), summary(crashed)
    assert actual["most_placements_per_key"] == 1
    assert actual["duplicates"] == [0, 0, 0]
    assert all(o["terminal"] for o in expected["orders"].values())
    assert actual["orders"] == expected["orders"]
