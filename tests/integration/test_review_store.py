"""Review of the SQLite store's order-state log and the hand-assembled JSON of the store codec."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from consign_core.domain import events as ev
from consign_core.domain.calendar import KST
from consign_core.domain.workflow import OrderState
from consign_core.store import SQLiteStore, StoreBatch
from consign_core.store._codec import decode_event, decode_state, encode_event, encode_state
from consign_core.testing import make_order
from tests._zones import FallBackZone
from tests.integration.test_store import placed, shipped


REF = make_order("1001").ref


def commit_states(store: SQLiteStore, *states: OrderState) -> None:
    batch = StoreBatch()
    batch.states = {state.ref: state for state in states}
    store.commit(batch)


def log_rows(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return int(db.execute("SELECT COUNT(*) FROM order_log").fetchone()[0])
    finally:
        db.close()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "state.db"


@pytest.fixture
def stores(path: Path) -> Iterator[list[SQLiteStore]]:
    opened: list[SQLiteStore] = []
    yield opened
    for store in opened:
        store.close()


def open_store(path: Path, stores: list[SQLiteStore]) -> SQLiteStore:
    store = SQLiteStore(path)
    stores.append(store)
    return store


# ------------------------------------------------------------------ a second store on the file


def test_a_second_store_reads_states_committed_after_it_opened(
    path: Path, stores: list[SQLiteStore]
) -> None:
    engine = open_store(path, stores)
    inspector = open_store(path, stores)  # e.g. another process looking at the file
    commit_states(engine, placed())
    assert inspector.get_order(REF) == placed()
    assert inspector.known([REF]) == {REF}
    assert inspector.load_active() == [placed()]


def test_a_second_store_reads_orders_the_writer_folded_after_it_opened(
    path: Path, stores: list[SQLiteStore]
) -> None:
    engine = open_store(path, stores)
    commit_states(engine, placed())
    inspector = open_store(path, stores)  # its log index points at the logged row
    engine.checkpoint()  # the row moves to orders
    assert inspector.get_order(REF) == placed()
    assert inspector.known([REF]) == {REF}
    assert inspector.load_active() == [placed()]


def test_a_second_store_does_not_load_an_order_finished_after_it_opened(
    path: Path, stores: list[SQLiteStore]
) -> None:
    engine = open_store(path, stores)
    commit_states(engine, placed())
    engine.checkpoint()  # orders holds the active state
    inspector = open_store(path, stores)
    commit_states(engine, shipped("1001"))  # the terminal state is only in the log
    assert inspector.get_order(REF) == shipped("1001")
    assert inspector.load_active() == []


def test_the_writer_reads_its_orders_after_another_store_folded_the_log(
    path: Path, stores: list[SQLiteStore]
) -> None:
    engine = open_store(path, stores)
    commit_states(engine, placed(), placed("1002"))
    open_store(path, stores).checkpoint()  # a maintenance job folds the log
    assert engine.get_order(REF) == placed()
    assert engine.load_active() == [placed(), placed("1002")]
    commit_states(engine, shipped("1001"))
    assert engine.get_order(REF) == shipped("1001")
    assert engine.load_active() == [placed("1002")]
    engine.checkpoint()
    assert log_rows(path) == 0
    assert engine.get_order(REF) == shipped("1001")
    assert engine.load_active() == [placed("1002")]


def test_a_checkpoint_through_a_second_store_folds_what_the_writer_appended_since(
    path: Path, stores: list[SQLiteStore]
) -> None:
    engine = open_store(path, stores)
    maintenance = open_store(path, stores)  # opened while the log was empty
    commit_states(engine, placed())
    maintenance.checkpoint()
    assert log_rows(path) == 0
    assert engine.get_order(REF) == placed()
    assert SQLiteStore(path).load_active() == [placed()]


# ------------------------------------------------------------------ instants in the codec


_ZONE = FallBackZone()
_FIRST_PASS = datetime(2031, 11, 2, 1, 30, tzinfo=_ZONE)  # equal (and hashed) as the second,
_SECOND_PASS = _FIRST_PASS.replace(fold=1)  # but an hour later


def test_an_instant_in_a_repeated_wall_hour_is_journaled_at_its_own_offset() -> None:
    for at in (_FIRST_PASS, _SECOND_PASS):
        event = ev.MarketAcknowledged(ref=REF, at=at)
        text = encode_event(event)
        expected = ["A", REF.market, REF.order_id, at.isoformat()]
        assert text == json.dumps(expected, separators=(",", ":"), ensure_ascii=False)
        assert decode_event(json.loads(text)).at.timestamp() == at.timestamp()


def test_an_order_state_placed_in_a_repeated_wall_hour_keeps_its_instant() -> None:
    for at in (_FIRST_PASS, _SECOND_PASS):
        state = placed()._replace(placed_at=at, wake_at=at + timedelta(minutes=1))
        decoded = decode_state(encode_state(state))
        assert decoded.placed_at is not None
        assert decoded.placed_at.timestamp() == at.timestamp()


def test_equal_instants_in_two_zones_are_journaled_as_json_dumps_writes_them() -> None:
    in_kst = datetime(2031, 3, 4, 9, 0, tzinfo=KST)
    in_utc = in_kst.astimezone(timezone.utc)
    for at in (in_kst, in_utc):
        event = ev.Delivered(ref=REF, at=at)
        expected = ["D", REF.market, REF.order_id, at.isoformat()]
        assert encode_event(event) == json.dumps(expected, separators=(",", ":"))
