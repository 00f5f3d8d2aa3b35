"""The public signatures, pinned for the type checker (CI runs ``mypy --strict tests/typing``).

Nothing here runs under pytest (the file name does not start with ``test_``): each function is
only type-checked. A public name that disappears, moves out of the façade or changes its
signature fails mypy here. The ``# type: ignore[...]`` lines are negative checks: with
``warn_unused_ignores`` (part of ``--strict``) they fail as soon as a wrong call type-checks,
e.g. when a keyword-only argument becomes positional or a parameter loses its type.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor
from datetime import datetime

from typing_extensions import assert_type

import consign_core
from consign_core import (
    AMAZON,
    COUPANG,
    EBAY,
    NAVER,
    ConfirmationPolicy,
    Engine,
    EngineSettings,
    InMemoryStore,
    Ledger,
    MarketPort,
    PlaceOrderRequest,
    Recipient,
    RuleProfile,
    RunReport,
    SQLiteStore,
    Store,
    SupplierPort,
    TrustModel,
    make_policy,
)
from consign_core.domain.decisions import DecisionRecord
from consign_core.domain.model import OrderRef
from consign_core.lab import (
    Comparison,
    SweepSpec,
    backtest,
    compare_policies,
    get_scenario,
    run_sweep,
    simulate,
)
from consign_core.lab.backtest import BacktestReport, OrderLogRow
from consign_core.lab.sim import PolicyResult, Scenario
from consign_core.store import read_decisions
from consign_core.testing import InMemoryMarket, InMemorySupplier


def facade_nouns() -> None:
    assert_type(consign_core.Engine, type[Engine])
    for profile in (COUPANG, NAVER, AMAZON, EBAY):
        assert_type(profile, RuleProfile)
    assert_type(make_policy("expected-cost"), ConfirmationPolicy)
    assert_type(make_policy("trust-threshold", group_quantity=5), ConfirmationPolicy)
    make_policy()  # type: ignore[call-arg]


def stores(path: str) -> None:
    memory: Store = InMemoryStore()
    on_disk: Store = SQLiteStore(path)
    assert_type(memory, Store)
    assert_type(on_disk, Store)
    ref = OrderRef(market="coupang", order_id="1")
    assert_type(read_decisions(path, ref), list[DecisionRecord])
    read_decisions(path=path, ref=ref)


def engine(market: MarketPort, supplier: SupplierPort, store: Store, now: datetime) -> None:
    built = Engine(
        market,
        supplier,
        store,
        policy=make_policy("expected-cost"),
        profile=COUPANG,
        sources={},
        trust=TrustModel(),
        ledger=Ledger(COUPANG),
        settings=EngineSettings(),
    )
    assert_type(built.run_once(now), RunReport)
    assert_type(built.trust, TrustModel)
    assert_type(built.ledger, Ledger)
    Engine(market, supplier, store, make_policy("expected-cost"), COUPANG, {})  # type: ignore[call-arg]


def fakes_are_ports() -> None:
    market: MarketPort = InMemoryMarket()
    supplier: SupplierPort = InMemorySupplier()
    assert_type(market, MarketPort)
    assert_type(supplier, SupplierPort)


def recipient() -> Recipient:
    return Recipient(
        name="수취인",
        phone="0505-000-0000",
        zip_code="06236",
        address1="주소",
        address2="",
        memo="",
    )


def place_order_request(request: PlaceOrderRequest) -> PlaceOrderRequest:
    return request


def lab(executor: Executor, rows: Sequence[OrderLogRow]) -> None:
    assert_type(simulate("default", "expected-cost", seed=1, orders=300), PolicyResult)
    assert_type(get_scenario("default"), Scenario)
    assert_type(
        compare_policies("default", ["expected-cost"], seeds=[0, 1], orders=300), Comparison
    )
    assert_type(
        run_sweep([SweepSpec(policy="expected-cost", scenario="default", seed=0)]),
        list[PolicyResult],
    )
    assert_type(run_sweep([], executor=executor), list[PolicyResult])
    assert_type(backtest(rows, ["as-logged"], market="coupang", seed=0), BacktestReport)
    simulate("default", "expected-cost", 1)  # type: ignore[call-arg]
