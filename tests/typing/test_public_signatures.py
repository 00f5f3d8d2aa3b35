"""Public signatures, pinned for mypy: ``mypy --strict tests/typing`` runs in CI.

Each function below is type-checked, never called for its effect: it fails mypy when a public
name disappears or its signature drifts. pytest runs it too, so it cannot go stale.
"""

from __future__ import annotations

from datetime import datetime

from consign_core.domain.calendar import KST
from consign_core.engine import Engine, EngineSettings, RunReport
from consign_core.lab import simulate
from consign_core.lab._results import PolicyResult


def test_engine_run_once_returns_a_report() -> None:
    signature: type[Engine] = Engine
    settings = EngineSettings()
    assert signature.run_once.__name__ == "run_once"
    assert isinstance(settings, EngineSettings)
    run_once = Engine.run_once
    _report: RunReport | None = None
    assert callable(run_once)


def test_simulate_takes_a_scenario_a_policy_a_seed_and_orders() -> None:
    result: PolicyResult = simulate("default", "expected-cost", seed=1, orders=50)
    assert result.policy == "expected-cost"
    assert result.seed == 1
    assert isinstance(datetime(2025, 1, 1, tzinfo=KST), datetime)
