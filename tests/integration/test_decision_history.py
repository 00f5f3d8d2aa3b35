"""Decisions explain themselves after the fact: the engine's per-order decision history.

Each decision (the policy's answer, an escalation of the workflow's own, a person's decision,
the confirmation once tracking arrives) is one record in the store, written with the state
change it caused, readable across restarts as ``Engine.decisions(ref)``, and logged once at
INFO. Failed polls that retry by themselves are INFO, not WARNING, so the tutorial's run
warns about nothing.
"""

from __future__ import annotations

import importlib.util
import logging
import math
import sqlite3
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from consign_core import COUPANG, Engine, InMemoryStore, make_policy
from consign_core.domain.decisions import (
    MAX_DECISIONS_PER_ORDER,
    DecisionKind,
    DecisionRecord,
    worth_recording,
)
from consign_core.domain.model import MarketOrder, OrderRef, Recipient
from consign_core.domain.timing import (
    ConfirmationPolicy,
    Decision,
    DecisionContext,
    WaitForInvoice,
)
from consign_core.domain.workflow import ManualAction, ManualDecision
from consign_core.engine import DecisionRecord as EngineDecisionRecord
from consign_core.errors import (
    AuthenticationError,
    StoreError,
    TransientError,
    ValidationError,
)
from consign_core.store import SQLiteStore, StoreBatch
from consign_core.store import _sqlite as store_sqlite
from consign_core.store._side_codec import decision_names, decode_decision, encode_decision
from consign_core.testing import (
    T0,
    InMemoryMarket,
    InMemorySupplier,
    SupplierBehaviour,
    make_order,
)


HOUR = timedelta(hours=1)
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "embed_engine.py"
BUYER = Recipient(
    name="김민수",
    phone="010-9876-5432",
    zip_code="06236",
    address1="서울특별시 강남구 테헤란로 152",
    address2="12층 1203호",
)


class Counting:
    """A policy that counts how often it is asked."""

    def __init__(self, policy: ConfirmationPolicy) -> None:
        self.policy = policy
        self.name = policy.name
        self.watches_supplier_confirmation = False
        self.calls = 0

    def decide(self, context: DecisionContext) -> Decision:
        self.calls += 1
        return self.policy.decide(context)


class ChattyWait:
    """Waits, with a reason that changes at every re-check (worst case for the history)."""

    name = "chatty-wait"
    watches_supplier_confirmation = False

    def __init__(self) -> None:
        self.calls = 0

    def decide(self, context: DecisionContext) -> Decision:
        self.calls += 1
        until = context.order.ship_by - timedelta(hours=4)
        return WaitForInvoice(
            until=until,
            recheck_at=context.now + timedelta(minutes=5),
            reason=f"look number {self.calls}",
            numbers={"calls": float(self.calls)},
        )


class World:
    """Fake market and supplier, a store, an engine on them, and a simulated clock."""

    def __init__(
        self,
        store: Any,
        *,
        policy: Any = "trust-threshold",
        behaviour: SupplierBehaviour | None = None,
        sources: dict[str, Any] | None = None,
    ) -> None:
        self.market = InMemoryMarket()
        self.supplier = InMemorySupplier(
            behaviour=behaviour or SupplierBehaviour(invoice_after=30 * HOUR)
        )
        self.store = store
        self.policy = make_policy(policy) if isinstance(policy, str) else policy
        self.sources = sources if sources is not None else {"MUG-01": ("S1", "I1")}
        self.now = T0
        self.escalations: list[tuple[OrderRef, str]] = []
        self.engine = self.new_engine()

    def new_engine(self) -> Engine:
        return Engine(
            self.market,
            self.supplier,
            self.store,
            policy=self.policy,
            profile=COUPANG,
            sources=self.sources,
            messenger=self.market,
            on_escalate=lambda state, reason: self.escalations.append((state.order.ref, reason)),
        )

    def add(self, order: MarketOrder) -> OrderRef:
        self.market.add_order(order)
        return order.ref

    def run(self, hours: float, step: timedelta = HOUR) -> None:
        end = self.now + timedelta(hours=hours)
        while self.now < end:
            self.engine.run_once(self.now)
            self.now += step
            self.market.advance(self.now)
            self.supplier.advance(self.now)


def group_order(order_id: str = "1001", quantity: int = 12) -> MarketOrder:
    return make_order(order_id, sku="MUG-01", quantity=quantity, paid_at=T0)


StoreFactory = Callable[[], Any]


@pytest.fixture(params=["memory", "sqlite"])
def reopen(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """Opens the same store again, as a restarted process would (the in-memory store object
    is what a process keeps)."""
    if request.param == "memory":
        memory = InMemoryStore()
        yield lambda: memory
        return
    opened: list[SQLiteStore] = []

    def open_file() -> SQLiteStore:
        for store in opened:
            store.close()
        opened.clear()
        opened.append(SQLiteStore(tmp_path / "seller.db"))
        return opened[0]

    yield open_file
    for store in opened:
        store.close()


# ---------------------------------------------------------------------------- the history


def test_history_is_kept_across_a_restart_oldest_first_with_its_fields(
    reopen: StoreFactory,
) -> None:
    w = World(reopen())
    ref = w.add(group_order())
    w.run(10)  # a 12-unit order from an unproven supplier waits for tracking
    first = w.engine.decisions(ref)
    assert [r.kind for r in first] == [DecisionKind.WAIT]
    w.store = reopen()
    w.engine = w.new_engine()  # a new process on the same store
    assert w.engine.decisions(ref) == first
    w.run(30)  # tracking arrives after 30 hours: confirmed then
    history = w.new_engine().decisions(ref)
    assert [r.kind for r in history] == [DecisionKind.WAIT, DecisionKind.CONFIRM_NOW]
    assert history[0] == first[0]
    assert history[0].at < history[1].at
    wait, confirm = history
    assert wait.ref == ref
    assert wait.at.utcoffset() is not None
    assert wait.at == T0
    assert "wait for tracking" in wait.reason
    assert "S1" in wait.reason
    assert set(wait.numbers) >= {"p_cancel", "p_cancel_upper", "quantity"}
    assert wait.numbers["quantity"] == 12.0
    assert all(isinstance(v, float) for v in wait.numbers.values())
    assert "tracking" in confirm.reason
    assert confirm.numbers["hours_since_paid"] == pytest.approx(
        (confirm.at - T0).total_seconds() / 3600
    )
    assert isinstance(history[0], EngineDecisionRecord)


def test_a_re_check_that_repeats_the_last_decision_is_not_a_new_record() -> None:
    policy = Counting(make_policy("trust-threshold", recheck_every=timedelta(hours=2)))
    w = World(InMemoryStore(), policy=policy)
    ref = w.add(group_order())
    w.run(24)
    assert policy.calls >= 10  # asked again at every re-check ...
    records = w.engine.decisions(ref)
    assert [r.kind for r in records] == [DecisionKind.WAIT]  # ... one decision


def test_a_policy_whose_reason_always_changes_keeps_a_bounded_history() -> None:
    policy = ChattyWait()
    w = World(InMemoryStore(), policy=policy, behaviour=SupplierBehaviour(invoice_after=500 * HOUR))
    ref = w.add(group_order())
    w.run(30, step=timedelta(minutes=5))
    assert policy.calls > MAX_DECISIONS_PER_ORDER + 50
    records = w.engine.decisions(ref)
    assert len(records) == MAX_DECISIONS_PER_ORDER
    assert [r.reason for r in records[:2]] == ["look number 1", "look number 2"]


def test_the_deadline_escalation_is_recorded_with_the_policys_numbers() -> None:
    w = World(InMemoryStore(), behaviour=SupplierBehaviour(invoice_after=500 * HOUR))
    ref = w.add(group_order())
    w.run(120)
    records = w.engine.decisions(ref)
    assert [r.kind for r in records] == [DecisionKind.WAIT, DecisionKind.ESCALATE]
    assert records[-1].reason == w.escalations[0][1]
    assert "quantity" in records[-1].numbers
    assert len(w.escalations) == 1


def test_an_escalation_of_the_workflows_own_and_a_persons_answer_are_recorded() -> None:
    w = World(InMemoryStore(), policy="confirm-immediately", sources={})
    ref = w.add(group_order(quantity=1))
    w.run(1)
    (escalated,) = w.engine.decisions(ref)
    assert escalated.kind is DecisionKind.ESCALATE
    assert escalated.numbers == {}
    assert escalated.reason == w.escalations[0][1]
    decision = ManualDecision(ref=ref, at=w.now, action=ManualAction.CONFIRM, note=BUYER.name)
    w.engine.run_once(w.now, events=[decision])
    records = w.engine.decisions(ref)
    assert [r.kind for r in records] == [DecisionKind.ESCALATE, DecisionKind.MANUAL]
    assert records[1].reason == "a person decided: confirm"
    assert BUYER.name not in records[1].reason  # the person's note stays out


def test_records_are_committed_with_the_state_change_or_not_at_all() -> None:
    class FailingOnce(InMemoryStore):
        fail = True

        def commit(self, batch: StoreBatch) -> None:
            if self.fail and batch.decisions:
                self.fail = False
                msg = "disk full"
                raise StoreError(msg)
            super().commit(batch)

    store = FailingOnce()
    w = World(store)
    ref = w.add(group_order())
    with pytest.raises(StoreError):
        w.engine.run_once(w.now)
    assert w.engine.decisions(ref) == []
    stored = store.get_order(ref)
    assert stored is not None
    assert stored.last_reason == ""  # the decision's state change was not kept either
    w.run(3)  # the run is done again: decided once, recorded once
    assert [r.kind for r in w.engine.decisions(ref)] == [DecisionKind.WAIT]


def test_an_unknown_order_has_no_history_and_a_bad_ref_is_named() -> None:
    w = World(InMemoryStore())
    assert w.engine.decisions(OrderRef(market="coupang", order_id="404")) == []
    with pytest.raises(ValidationError) as info:
        w.engine.decisions("coupang:404")  # type: ignore[arg-type]
    assert info.value.field == "ref"
    assert "coupang:404" in str(info.value)


# ---------------------------------------------------------------------------- logging


def test_each_decision_is_logged_once_at_info_without_personal_data(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="consign_core")
    w = World(InMemoryStore(), policy=make_policy("trust-threshold", recheck_every=2 * HOUR))
    order = attrs.evolve(group_order(), recipient=BUYER)
    ref = w.add(order)
    w.run(40)
    records = w.engine.decisions(ref)
    assert len(records) == 2
    lines = [
        r
        for r in caplog.records
        if r.name == "consign_core.engine" and r.levelno == logging.INFO and "decision" in r.msg
    ]
    assert len(lines) == len(records)
    for line, record in zip(lines, records, strict=True):
        text = line.getMessage()
        assert str(ref) in text
        assert record.reason in text
        assert record.kind.value in text
        assert getattr(line, "order_ref", None) == str(ref)
    repeats = [r for r in caplog.records if "not recorded" in r.getMessage()]
    assert repeats
    assert all(r.levelno == logging.DEBUG for r in repeats)
    for secret in (BUYER.name, BUYER.phone, BUYER.address1, BUYER.address2):
        assert secret not in caplog.text
        assert all(secret not in repr(r) and secret not in str(r) for r in records)


def test_polls_that_retry_by_themselves_are_info_and_an_outage_warns_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="consign_core.engine")
    w = World(InMemoryStore())
    w.market.faults.fail_next("list_paid_orders", TransientError("timed out"))
    w.run(1)
    failed = [r for r in caplog.records if "polling market orders" in r.getMessage()]
    assert [r.levelno for r in failed] == [logging.INFO]
    caplog.clear()
    for _ in range(8):  # down for 8 hours of hourly runs
        w.market.faults.fail_next("list_paid_orders", TransientError("503"))
    w.run(9)
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert "every run since" in warnings[0].getMessage()
    assert any("works again" in r.getMessage() for r in caplog.records)


def test_a_poll_failure_retrying_cannot_fix_warns_at_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="consign_core.engine")
    w = World(InMemoryStore())
    w.market.faults.fail_next("list_paid_orders", AuthenticationError("signature rejected"))
    w.run(1)
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert "credentials" in warnings[0].getMessage()


def _load_example() -> Any:
    spec = importlib.util.spec_from_file_location("embed_engine_example", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_tutorial_run_warns_about_nothing(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    example = _load_example()
    caplog.set_level(logging.INFO)
    example.main()
    out = capsys.readouterr().out
    assert "supplier orders placed twice: 0" in out
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    decisions = [r for r in caplog.records if "decision" in r.msg and r.levelno == logging.INFO]
    assert decisions  # the run did decide (and said so at INFO)
    assert any("polling" in r.getMessage() for r in caplog.records)  # its faults were seen


# ---------------------------------------------------------------------------- the store


def test_an_older_store_file_opens_and_gains_an_empty_history(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    for migrate in store_sqlite.MIGRATIONS[:3]:
        migrate(db)
    db.execute("PRAGMA user_version=3")
    db.commit()
    db.close()
    store = SQLiteStore(path)
    try:
        assert store.schema_version == store_sqlite.SCHEMA_VERSION
        assert store.decisions(OrderRef(market="coupang", order_id="1")) == []
        w = World(store)
        ref = w.add(group_order())
        w.run(2)
        assert [r.kind for r in store.decisions(ref)] == [DecisionKind.WAIT]
    finally:
        store.close()


def test_the_sqlite_store_keeps_each_list_of_names_once(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    try:
        batch = StoreBatch()
        for i in range(5):
            batch.decisions.append(
                DecisionRecord(
                    ref=OrderRef(market="coupang", order_id=str(i)),
                    at=T0,
                    kind=DecisionKind.WAIT,
                    reason="wait",
                    numbers={"cost_confirm": 1.0 + i, "cost_wait": 2.0},
                )
            )
        store.commit(batch)
        db = sqlite3.connect(tmp_path / "s.db")
        assert db.execute("SELECT COUNT(*) FROM decision_names").fetchone() == (1,)
        db.close()
        assert store.decisions(OrderRef(market="coupang", order_id="3"))[0].numbers == {
            "cost_confirm": 4.0,
            "cost_wait": 2.0,
        }
    finally:
        store.close()


_names = st.text(min_size=1, max_size=12).filter(
    lambda t: t.encode("utf-8", "ignore") == t.encode("utf-8", "surrogatepass")
)
_floats = st.floats(allow_nan=False) | st.sampled_from([math.inf, -math.inf])


@given(
    numbers=st.dictionaries(_names, _floats, max_size=6),
    reason=st.text(min_size=1).filter(lambda t: t.strip() != ""),
    kind=st.sampled_from(DecisionKind),
)
def test_a_record_reads_back_from_its_stored_columns(
    numbers: dict[str, float], reason: str, kind: DecisionKind
) -> None:
    try:
        reason.encode("utf-8")
    except UnicodeEncodeError:
        return
    ref = OrderRef(market="coupang", order_id="7")
    record = DecisionRecord(ref=ref, at=T0, kind=kind, reason=reason, numbers=numbers)
    _, at, kind_text, reason_text, _, values = encode_decision(record, 1)
    assert decode_decision(ref, at, kind_text, reason_text, decision_names(record), values) == (
        record
    )


def test_an_unreadable_stored_record_is_a_store_error() -> None:
    ref = OrderRef(market="coupang", order_id="7")
    with pytest.raises(StoreError) as info:
        decode_decision(ref, T0.isoformat(), "wait", "x", '["a","b"]', "[1.0]")
    assert "coupang:7" in str(info.value)


# ---------------------------------------------------------------------------- the record


def test_a_record_validates_each_field_by_name() -> None:
    ref = OrderRef(market="coupang", order_id="1")
    good: dict[str, Any] = {"ref": ref, "at": T0, "kind": "wait", "reason": "r", "numbers": {}}
    assert DecisionRecord(**good).kind is DecisionKind.WAIT
    bad = {
        "ref": "coupang:1",
        "at": datetime(2025, 9, 1, 10, 0),  # noqa: DTZ001 - naive on purpose
        "kind": "maybe",
        "reason": " ",
        "numbers": {"p": "high"},
    }
    for field, value in bad.items():
        with pytest.raises(ValidationError) as info:
            DecisionRecord(**{**good, field: value})
        assert str(info.value.field).split(".")[-1] == field, field
    with pytest.raises(ValidationError):
        DecisionRecord(**{**good, "numbers": [1.0]})


def test_a_record_keeps_six_significant_digits_and_says_so_in_json() -> None:
    ref = OrderRef(market="coupang", order_id="1")
    record = DecisionRecord(
        ref=ref,
        at=T0,
        kind=DecisionKind.CONFIRM_NOW,
        reason="cheap",
        numbers={"p_fail": 0.10511046285801767, "cost": 5107.037178103761, "big": math.inf},
    )
    assert record.numbers["p_fail"] == 0.10511
    assert record.numbers["cost"] == 5107.04
    doc = record.to_dict()
    assert doc == {
        "ref": "coupang:1",
        "at": T0.isoformat(),
        "kind": "confirm-now",
        "reason": "cheap",
        "numbers": {"p_fail": 0.10511, "cost": 5107.04, "big": None},
    }


def test_worth_recording_skips_repeats_and_caps_a_run_of_one_kind() -> None:
    wait, confirm = DecisionKind.WAIT, DecisionKind.CONFIRM_NOW
    assert worth_recording(None, 0, wait, "a")
    assert not worth_recording((wait, "a"), 1, wait, "a")
    assert worth_recording((wait, "a"), 1, wait, "b")
    assert not worth_recording((wait, "a"), MAX_DECISIONS_PER_ORDER, wait, "b")
    assert worth_recording((wait, "a"), MAX_DECISIONS_PER_ORDER, confirm, "a")
