"""The policy lab: a simulated world, the simulator, the order-log backtest and sweeps.

The lab drives the domain's workflow, trust model, ledger and policies; its figures are what a
policy would do on a seller's account, in the world the scenario describes.

- :func:`simulate`, :func:`compare_policies`, :func:`get_scenario`: the simulator;
- :func:`backtest`: replay a real order log (:mod:`consign_core.lab.backtest`);
- :func:`run_sweep`: policies x parameters x seeds on any executor.
"""

from __future__ import annotations

from consign_core.lab.backtest import backtest
from consign_core.lab.compare import Comparison, compare_policies
from consign_core.lab.sim import get_scenario, scenario_names, simulate
from consign_core.lab.sweep import SweepSpec, run_sweep


__all__ = [
    "Comparison",
    "SweepSpec",
    "backtest",
    "compare_policies",
    "get_scenario",
    "run_sweep",
    "scenario_names",
    "simulate",
]
