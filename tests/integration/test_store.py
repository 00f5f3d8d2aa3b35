"""The stores: one contract for both, plus SQLite's atomicity, WAL and schema migrations."""

from __future__ import annotations

import json
import sqlite3
import zlib
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consign_core.domain import events as ev
from consign_core.domain.calendar import KST
from consign_core.domain.model import (
    CancelFault,
    Cancellation,
    CancelReason,
    Courier,
    OrderRef,
    Recipient,
    Tracking,
)
from consign_core.domain.rules import COUPANG
from consign_core.domain.timing import SupplierOrderState, make_policy
from consign_core.domain.workflow import (
    Acknowledge,
    AnswerBuyerRequest,
    BuyerRequestAnswer,
    CancelMarketOrder,
    CancelSupplierOrder,
    Command,
    EscalateOrder,
    MessageBuyer,
    OrderState,
    OrderStatus,
    PlaceSupplierOrder,
    Progress,
    ScheduleWakeUp,
    UploadInvoice,
)
from consign_core.engine import Engine
from consign_core.errors import StoreError
from consign_core.store import (
    SCHEMA_VERSION,
    InMemoryStore,
    OutboxEntry,
    OutboxStatus,
    SQLiteStore,
    Store,
    StoreBatch,
)
from consign_core.store import _sqlite as _store_sqlite
from consign_core.store._codec import (
    decode_command,
    decode_event,
    decode_journal_record,
    decode_state,
    encode_command,
    encode_event,
    encode_journal_record,
    encode_state,
    ref_key,
)
from consign_core.store._side_codec import decode_recipient, encode_recipient
from consign_core.store._types import ClockAdvanced, OrderWithdrawn, StockReported
from consign_core.testing import T0, InMemoryMarket, InMemorySupplier, make_order
from tests._zones import FallBackZone
from tests.strategies import examples


ORDER = make_order("1001")
OTHER = make_order("1002")


def placed(order_id: str = "1001") -> OrderState:
    return OrderState(
        order=make_order(order_id),
        attempt=1,
        supplier_id="S1",
        item_id="I1",
        supplier_state=SupplierOrderState.PLACED,
        supplier_order_id="D1",
        placed_at=T0,
        wake_at=T0 + timedelta(hours=2),
        last_reason="wait for tracking, 대기",
    )


def shipped(order_id: str = "1002") -> OrderState:
    return placed(order_id)._replace(
        supplier_state=SupplierOrderState.INVOICED,
        tracking=Tracking(courier=Courier.CJ, number="1"),
        ack=Progress.DONE,
        invoice=Progress.DONE,
        wake_at=None,
    )


def entry(entry_id: int, status: OutboxStatus = OutboxStatus.PENDING) -> OutboxEntry:
    command = PlaceSupplierOrder(
        ref=ORDER.ref, supplier_id="S1", item_id="I1", quantity=1, idempotency_key="k", attempt=1
    )
    return OutboxEntry(entry_id=entry_id, command=command, status=status, created_at=T0)


@pytest.fixture(params=["memory", "sqlite"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[object]:
    stores: list[Store] = []

    def make() -> Store:
        if request.param == "memory":
            if not stores:
                stores.append(InMemoryStore())
            return stores[0]
        store = SQLiteStore(tmp_path / "state.db")
        stores.append(store)
        return store

    yield make
    for store in stores:
        store.close()


def test_a_committed_batch_is_read_back_after_reopening(make_store) -> None:  # type: ignore[no-untyped-def]
    store = make_store()
    batch = StoreBatch()
    batch.states = {ORDER.ref: placed(), OTHER.ref: shipped()}
    batch.outbox = {1: entry(1), 2: entry(2, OutboxStatus.DONE)}
    batch.cursors = {"market.orders": "17"}
    at = datetime(2025, 9, 1, 10, tzinfo=KST)
    batch.journal = [(1, ClockAdvanced(at)), (2, StockReported("S1", "I1", 0, at))]
    batch.snapshots = {"engine": (1, {"trust": {"a": [1, 2]}})}
    store.commit(batch)
    again = make_store()
    assert again.load_active() == [placed()]
    assert again.get_order(OTHER.ref) == shipped()
    assert again.get_order(make_order("9").ref) is None
    assert again.known([ORDER.ref, make_order("9").ref]) == {ORDER.ref}
    assert again.pending_outbox() == [entry(1)]
    assert again.cursor("market.orders") == "17"
    assert again.cursor("nothing") is None
    assert again.snapshot("engine") == (1, {"trust": {"a": [1, 2]}})
    assert again.journal_after(1) == [(2, StockReported("S1", "I1", 0, at))]
    assert again.last_ids() == (2, 2)


def test_pruning_the_journal_keeps_the_sequence_numbers_moving(make_store) -> None:  # type: ignore[no-untyped-def]
    store = make_store()
    batch = StoreBatch()
    at = datetime(2025, 9, 1, 10, tzinfo=KST)
    batch.journal = [(1, ClockAdvanced(at)), (2, ClockAdvanced(at + timedelta(hours=1)))]
    store.commit(batch)
    batch = StoreBatch()
    batch.snapshots = {"engine": (2, {})}
    batch.prune_journal_through = 2
    store.commit(batch)
    assert store.journal_after(0) == []
    assert store.last_ids()[1] == 2


def test_an_empty_batch_writes_nothing(make_store) -> None:  # type: ignore[no-untyped-def]
    store = make_store()
    store.commit(StoreBatch())
    assert store.last_ids() == (0, 0)
    assert not StoreBatch()


def test_every_state_field_survives_the_codec() -> None:
    cancellation = Cancellation(
        fault=CancelFault.SELLER, reason=CancelReason.STOCK_OUT, at=T0, note="품절"
    )
    state = shipped()._replace(
        market_cancel=Progress.PENDING,
        cancellation=cancellation,
        escalation="a person must look",
        delay_notified=True,
        stock_out_known=True,
    )
    assert decode_state(encode_state(state)) == state
    assert len(encode_state(placed()).encode()) < 400


COMMANDS = [
    PlaceSupplierOrder(
        ref=ORDER.ref, supplier_id="S1", item_id="I1", quantity=2, idempotency_key="k", attempt=3
    ),
    CancelSupplierOrder(ref=ORDER.ref, supplier_id="S1", supplier_order_id="D1", memo="취소"),
    Acknowledge(ref=ORDER.ref),
    UploadInvoice(ref=ORDER.ref, tracking=Tracking(courier=Courier.CJ, number="1")),
    CancelMarketOrder(
        ref=ORDER.ref,
        cancellation=Cancellation(fault=CancelFault.SELLER, reason=CancelReason.STOCK_OUT, at=T0),
    ),
    MessageBuyer(ref=ORDER.ref, template_id="stock_out", params=(("order_id", "1001"),)),
    EscalateOrder(ref=ORDER.ref, reason="look"),
    ScheduleWakeUp(ref=ORDER.ref, at=T0),
    AnswerBuyerRequest(ref=ORDER.ref, request_id="R1", answer=BuyerRequestAnswer.STOP_SHIPMENT),
    AnswerBuyerRequest(
        ref=ORDER.ref,
        request_id="R1",
        answer=BuyerRequestAnswer.ALREADY_SHIPPED,
        tracking=Tracking(courier=Courier.CJ, number="1"),
    ),
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: type(c).__name__)
def test_every_command_survives_the_codec(command: Command) -> None:
    assert decode_command(command.kind.value, encode_command(command)) == command


def test_every_lifecycle_event_survives_the_journal_codec() -> None:
    tracking = Tracking(courier=Courier.CJ, number="1")
    cancellation = Cancellation(fault=CancelFault.BUYER, reason=CancelReason.BUYER_REMORSE, at=T0)
    common: dict[str, Any] = {"ref": ORDER.ref, "at": T0}
    supplier: dict[str, Any] = {**common, "supplier_id": "S1", "supplier_order_id": "D1"}
    events: list[ev.Event] = [
        ev.OrderPaid(order=ORDER),
        ev.SupplierOrderPlaced(**supplier, item_id="I1", quantity=2, reported_stock=5),
        ev.SupplierConfirmed(**supplier),
        ev.SupplierInvoiced(**supplier, tracking=tracking),
        ev.SupplierCancelled(**supplier, reason=CancelReason.STOCK_OUT, note="품절"),
        ev.MarketAcknowledged(**common),
        ev.InvoiceUploaded(**common, tracking=tracking),
        ev.BuyerCancelRequested(**common, request_id="R1"),
        ev.OrderCancelled(ref=ORDER.ref, cancellation=cancellation),
        ev.Delivered(**common),
    ]
    for event in events:
        assert decode_event(json.loads(encode_event(event))) == event
    with pytest.raises(StoreError, match="unknown journal event"):
        decode_event(["?", "coupang", "1", T0.isoformat()])


_AWKWARD = st.text(min_size=1, max_size=12).filter(lambda t: t.strip() == t and t != "")


@settings(max_examples=examples(60), deadline=None)
@given(
    supplier_id=_AWKWARD,
    other_id=_AWKWARD,
    stock=st.integers(min_value=0, max_value=10**9),
    minutes=st.integers(min_value=0, max_value=10**6),
)
def test_the_engines_own_journal_records_survive_the_codec(
    supplier_id: str, other_id: str, stock: int, minutes: int
) -> None:
    at = T0 + timedelta(minutes=minutes)
    records = [
        ClockAdvanced(at),
        StockReported(supplier_id, other_id, stock, at),
        OrderWithdrawn(supplier_id, other_id, at),
        ev.SupplierConfirmed(ref=ORDER.ref, at=at, supplier_id=supplier_id, supplier_order_id="D"),
    ]
    for record in records:
        decoded = decode_journal_record(encode_journal_record(record))
        assert decoded == record
        assert type(decoded) is type(record)


@pytest.mark.parametrize("text", ["", "[", "[]", '["t"]', '["s","S1"]', '["t","tomorrow"]', "{}"])
def test_an_unreadable_journal_record_is_a_store_error(text: str) -> None:
    with pytest.raises(StoreError, match="journal"):
        decode_journal_record(text)


def test_a_journaled_order_carries_no_recipient_into_the_sqlite_file(tmp_path: Path) -> None:

    buyer = Recipient(
        name="김민수", phone="050-1234-5678", zip_code="06236", address1="서울 강남구 테헤란로 1"
    )
    market = InMemoryMarket()
    market.add_order(attrs.evolve(make_order("1"), recipient=buyer))
    store = SQLiteStore(tmp_path / "j.db")
    engine = Engine(
        market,
        InMemorySupplier(),
        store,
        policy=make_policy("confirm-immediately"),
        profile=COUPANG,
        sources={"SKU-1": ("S1", "I1")},
    )
    engine.run_once(T0)
    store.close()
    rows = sqlite3.connect(tmp_path / "j.db").execute("SELECT record FROM journal").fetchall()
    assert any(r[0].startswith('["P"') for r in rows)
    assert all("김민수" not in r[0] and "테헤란로" not in r[0] for r in rows)


_ZONE = FallBackZone()
_FIRST_PASS = datetime(2031, 11, 2, 1, 30, tzinfo=_ZONE)  # equal (and hashed) as the second,
_SECOND_PASS = _FIRST_PASS.replace(fold=1)  # but an hour later


def test_an_instant_in_a_repeated_wall_hour_is_journaled_at_its_own_offset() -> None:
    for at in (_FIRST_PASS, _SECOND_PASS):
        event = ev.MarketAcknowledged(ref=ORDER.ref, at=at)
        text = encode_event(event)
        expected = ["A", ORDER.ref.market, ORDER.ref.order_id, at.isoformat()]
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
        event = ev.Delivered(ref=ORDER.ref, at=at)
        expected = ["D", ORDER.ref.market, ORDER.ref.order_id, at.isoformat()]
        assert encode_event(event) == json.dumps(expected, separators=(",", ":"))


@settings(max_examples=examples(60), deadline=None)
@given(
    supplier_id=_AWKWARD,
    supplier_order_id=_AWKWARD,
    courier=st.sampled_from(list(Courier)),
    number=_AWKWARD,
    stock=st.none() | st.integers(min_value=0, max_value=10**9),
)
def test_hand_assembled_journal_records_are_the_json_of_their_fields(
    supplier_id: str, supplier_order_id: str, courier: Courier, number: str, stock: int | None
) -> None:
    # Quotes, backslashes, control characters and Hangul must come out as json.dumps writes them.
    tracking = Tracking(courier=courier, number=number)
    ref = ORDER.ref
    head: list[object] = [ref.market, ref.order_id, T0.isoformat()]
    ids = {"supplier_id": supplier_id, "supplier_order_id": supplier_order_id}
    cases: list[tuple[ev.Event, list[object]]] = [
        (
            ev.SupplierOrderPlaced(
                ref=ref, at=T0, **ids, item_id=number, quantity=3, reported_stock=stock
            ),
            ["O", *head, supplier_id, supplier_order_id, number, 3, stock],
        ),
        (ev.SupplierConfirmed(ref=ref, at=T0, **ids), ["C", *head, supplier_id, supplier_order_id]),
        (
            ev.SupplierInvoiced(ref=ref, at=T0, **ids, tracking=tracking),
            ["I", *head, supplier_id, supplier_order_id, courier.value, number],
        ),
        (ev.MarketAcknowledged(ref=ref, at=T0), ["A", *head]),
        (
            ev.InvoiceUploaded(ref=ref, at=T0, tracking=tracking),
            ["U", *head, courier.value, number],
        ),
        (ev.Delivered(ref=ref, at=T0), ["D", *head]),
    ]
    for event, fields in cases:
        text = encode_event(event)
        assert text == json.dumps(fields, separators=(",", ":"), ensure_ascii=False)
        assert decode_event(json.loads(text)) == event


@settings(max_examples=examples(60), deadline=None)
@given(supplier_id=_AWKWARD, key=_AWKWARD, courier=st.sampled_from(list(Courier)), number=_AWKWARD)
def test_hand_assembled_commands_are_the_json_of_their_fields(
    supplier_id: str, key: str, courier: Courier, number: str
) -> None:
    ref = ORDER.ref
    head: list[object] = [ref.market, ref.order_id]
    cases: list[tuple[Command, list[object]]] = [
        (Acknowledge(ref=ref), head),
        (
            PlaceSupplierOrder(
                ref=ref,
                supplier_id=supplier_id,
                item_id=number,
                quantity=7,
                idempotency_key=key,
                attempt=2,
            ),
            [*head, supplier_id, number, 7, key, 2],
        ),
        (
            UploadInvoice(ref=ref, tracking=Tracking(courier=courier, number=number)),
            [*head, courier.value, number],
        ),
    ]
    for command, fields in cases:
        text = encode_command(command)
        assert text == json.dumps(fields, separators=(",", ":"), ensure_ascii=False)
        assert decode_command(command.kind.value, text) == command


def test_an_unreadable_command_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="unreadable"):
        decode_command("acknowledge", "{}")


def test_an_unreadable_state_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="unreadable"):
        decode_state("[2, 2]")
    with pytest.raises(StoreError, match="codec"):
        decode_state("[99]")


def test_sqlite_uses_wal_and_a_schema_version(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    mode = sqlite3.connect(tmp_path / "s.db").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    assert store.schema_version == SCHEMA_VERSION == 5
    store.close()


def test_a_failed_write_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SQLiteStore(tmp_path / "s.db")

    def broken(command: object) -> str:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(_store_sqlite, "encode_command", broken)
    batch = StoreBatch()
    batch.states = {ORDER.ref: placed()}
    batch.outbox = {1: entry(1)}
    with pytest.raises(StoreError, match="cannot write"):
        store.commit(batch)
    assert store.get_order(ORDER.ref) is None
    assert store.pending_outbox() == []
    store.close()


def test_an_old_schema_is_migrated_step_by_step_keeping_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    _store_sqlite.MIGRATIONS[0](db)
    db.execute("PRAGMA user_version=1")
    db.execute(
        "INSERT INTO outbox (id, ref, kind, status, attempts, created, next_at, command) "
        "VALUES (41, 'coupang\t1001', 'acknowledge', 0, 0, ?, NULL, ?)",
        (T0.isoformat(), '["coupang","1001"]'),
    )
    db.commit()
    db.close()
    store = SQLiteStore(path)
    assert store.schema_version == SCHEMA_VERSION
    assert store.last_ids() == (41, 0)
    [pending] = store.pending_outbox()
    assert pending.command == Acknowledge(ref=ORDER.ref)
    store.close()


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version=99")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="newer"):
        SQLiteStore(path)


def test_outbox_entries_keep_their_results_as_an_audit_trail(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    cancel = CancelMarketOrder(
        ref=ORDER.ref,
        cancellation=Cancellation(fault=CancelFault.SELLER, reason=CancelReason.STOCK_OUT, at=T0),
    )
    first = OutboxEntry(entry_id=1, command=cancel, created_at=T0)
    batch = StoreBatch()
    batch.outbox = {1: first}
    store.commit(batch)
    batch = StoreBatch()
    batch.outbox = {1: attrs.evolve(first, status=OutboxStatus.DONE, result="cancelled")}
    store.commit(batch)
    [done] = store.outbox()
    assert (done.status, done.result, done.command) == (OutboxStatus.DONE, "cancelled", cancel)
    assert store.pending_outbox() == []
    store.close()


def test_an_engine_on_sqlite_resumes_after_a_restart(tmp_path: Path) -> None:
    market, supplier = InMemoryMarket(), InMemorySupplier()
    path = tmp_path / "engine.db"
    opened: list[SQLiteStore] = []

    def engine() -> Engine:
        if opened:
            opened[-1].close()
        opened.append(SQLiteStore(path))
        return Engine(
            market,
            supplier,
            opened[-1],
            policy=make_policy("confirm-immediately"),
            profile=COUPANG,
            sources={"SKU-1": ("S1", "I1")},
        )

    for i in range(5):
        market.add_order(make_order(str(i)))
    engine().run_once(T0)
    now = T0
    for _ in range(24):
        now += timedelta(hours=1)
        supplier.advance(now)
        engine().run_once(now)  # a fresh process every hour
    final = engine()
    assert final.active_orders() == []
    assert all(final.order(r).status is OrderStatus.SHIPPED for r in market.refs())  # type: ignore[union-attr]
    assert sum(supplier.placements.values()) == 5
    assert market.duplicate_acknowledgements == 0
    assert opened[-1].size_bytes() > 0
    opened[-1].close()


@settings(max_examples=examples(40), deadline=None)
@given(
    fold_rows=st.integers(min_value=1, max_value=6),
    batches=st.lists(
        st.lists(st.tuples(st.integers(min_value=0, max_value=5), st.booleans()), max_size=4),
        max_size=8,
    ),
    reopen_at=st.integers(min_value=0, max_value=8),
)
def test_the_order_state_log_answers_like_the_in_memory_store_before_and_after_folding(
    tmp_path_factory: pytest.TempPathFactory,
    fold_rows: int,
    batches: list[list[tuple[int, bool]]],
    reopen_at: int,
) -> None:
    path = tmp_path_factory.mktemp("log") / "s.db"
    sqlite = SQLiteStore(path)
    sqlite.fold_rows = fold_rows
    memory = InMemoryStore()
    refs = [make_order(f"{i:04d}").ref for i in range(6)]
    version = 0
    for n, changes in enumerate(batches):
        if n == reopen_at:  # the log index is read back from the file
            sqlite.close()
            sqlite = SQLiteStore(path)
            sqlite.fold_rows = fold_rows
        batch = StoreBatch()
        for i, done in changes:
            version += 1
            state = shipped(f"{i:04d}") if done else placed(f"{i:04d}")
            batch.states[refs[i]] = state._replace(last_reason=f"v{version}")
        for store in (sqlite, memory):
            store.commit(batch)
        assert sqlite.load_active() == sorted(memory.load_active(), key=lambda s: s.ref.order_id)
        assert [sqlite.get_order(r) for r in refs] == [memory.get_order(r) for r in refs]
        assert sqlite.known(refs) == memory.known(refs)
    sqlite.checkpoint()  # folds whatever is left
    assert [sqlite.get_order(r) for r in refs] == [memory.get_order(r) for r in refs]
    sqlite.close()
    db = sqlite3.connect(path)
    assert db.execute("SELECT COUNT(*) FROM order_log").fetchone() == (0,)
    db.close()


def test_a_failed_write_keeps_the_last_committed_state_of_an_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    batch = StoreBatch()
    batch.states = {ORDER.ref: placed()}
    store.commit(batch)

    def broken(command: object) -> str:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(_store_sqlite, "encode_command", broken)
    batch = StoreBatch()
    batch.states = {ORDER.ref: placed()._replace(last_reason="never committed")}
    batch.outbox = {1: entry(1)}
    with pytest.raises(StoreError, match="cannot write"):
        store.commit(batch)
    assert store.get_order(ORDER.ref) == placed()
    assert store.load_active() == [placed()]
    store.close()


def test_a_version_2_file_keeps_its_order_states_after_migrating(tmp_path: Path) -> None:
    path = tmp_path / "v2.db"
    db = sqlite3.connect(path)
    for step in _store_sqlite.MIGRATIONS[:2]:
        step(db)
    db.execute("PRAGMA user_version=2")
    db.execute(
        "INSERT INTO orders (ref, active, state) VALUES (?, 1, ?)",
        (ref_key(ORDER.ref), encode_state(placed())),
    )
    db.commit()
    db.close()
    store = SQLiteStore(path)
    assert store.schema_version == SCHEMA_VERSION
    assert store.load_active() == [placed()]
    batch = StoreBatch()
    batch.states = {ORDER.ref: shipped("1001")}
    store.commit(batch)
    assert store.load_active() == []
    assert store.get_order(ORDER.ref) == shipped("1001")
    store.close()


def test_text_no_file_can_store_is_a_store_error_not_a_unicode_error(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db")
    batch = StoreBatch()
    batch.states = {ORDER.ref: placed()._replace(last_reason="lone \ud800 surrogate")}
    with pytest.raises(StoreError, match="cannot write"):
        store.commit(batch)
    assert store.get_order(ORDER.ref) is None
    store.close()


# ------------------------------------------------------------------ a second store on the file


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
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "state.db"


@pytest.fixture
def open_store(db_path: Path) -> Iterator[Callable[[], SQLiteStore]]:
    """Opens one more store on the same file (another process, say); all closed at the end."""
    opened: list[SQLiteStore] = []

    def open_another() -> SQLiteStore:
        store = SQLiteStore(db_path)
        opened.append(store)
        return store

    yield open_another
    for store in opened:
        store.close()


def test_a_second_store_reads_states_committed_after_it_opened(
    open_store: Callable[[], SQLiteStore],
) -> None:
    engine = open_store()
    inspector = open_store()  # e.g. another process looking at the file
    commit_states(engine, placed())
    assert inspector.get_order(ORDER.ref) == placed()
    assert inspector.known([ORDER.ref]) == {ORDER.ref}
    assert inspector.load_active() == [placed()]


def test_a_second_store_reads_orders_the_writer_folded_after_it_opened(
    open_store: Callable[[], SQLiteStore],
) -> None:
    engine = open_store()
    commit_states(engine, placed())
    inspector = open_store()  # its log index points at the logged row
    engine.checkpoint()  # the row moves to orders
    assert inspector.get_order(ORDER.ref) == placed()
    assert inspector.known([ORDER.ref]) == {ORDER.ref}
    assert inspector.load_active() == [placed()]


def test_a_second_store_does_not_load_an_order_finished_after_it_opened(
    open_store: Callable[[], SQLiteStore],
) -> None:
    engine = open_store()
    commit_states(engine, placed())
    engine.checkpoint()  # orders holds the active state
    inspector = open_store()
    commit_states(engine, shipped("1001"))  # the terminal state is only in the log
    assert inspector.get_order(ORDER.ref) == shipped("1001")
    assert inspector.load_active() == []


def test_the_writer_reads_its_orders_after_another_store_folded_the_log(
    open_store: Callable[[], SQLiteStore], db_path: Path
) -> None:
    engine = open_store()
    commit_states(engine, placed(), placed("1002"))
    open_store().checkpoint()  # a maintenance job folds the log
    assert engine.get_order(ORDER.ref) == placed()
    assert engine.load_active() == [placed(), placed("1002")]
    commit_states(engine, shipped("1001"))
    assert engine.get_order(ORDER.ref) == shipped("1001")
    assert engine.load_active() == [placed("1002")]
    engine.checkpoint()
    assert log_rows(db_path) == 0
    assert engine.get_order(ORDER.ref) == shipped("1001")
    assert engine.load_active() == [placed("1002")]


def test_a_checkpoint_through_a_second_store_folds_what_the_writer_appended_since(
    open_store: Callable[[], SQLiteStore], db_path: Path
) -> None:
    engine = open_store()
    maintenance = open_store()  # opened while the log was empty
    commit_states(engine, placed())
    maintenance.checkpoint()
    assert log_rows(db_path) == 0
    assert engine.get_order(ORDER.ref) == placed()
    assert open_store().load_active() == [placed()]


# --------------------------------------------------------------------------------------
# The buyer's delivery details: kept apart, put back on read, purged after the retention
# --------------------------------------------------------------------------------------

BUYER = Recipient(
    name="김수령",
    phone="0502-1234-5678",
    zip_code="06236",
    address1="서울특별시 강남구 테헤란로 123",
    address2="4층 401호",
    memo="문 앞에 놓아주세요",
)
BUYER_TEXTS = (BUYER.name, BUYER.phone, BUYER.address1, BUYER.address2, BUYER.memo)


def with_buyer(state: OrderState, recipient: Recipient = BUYER) -> OrderState:
    return state._replace(order=attrs.evolve(state.order, recipient=recipient))


def commit_personal(
    store: Store,
    *states: OrderState,
    ended: Mapping[OrderRef, datetime | None] | None = None,
) -> None:
    batch = StoreBatch()
    batch.states = {s.order.ref: s for s in states}
    batch.ended = dict(ended or {})
    store.commit(batch)


def test_the_delivery_details_survive_reopening_the_store(make_store) -> None:  # type: ignore[no-untyped-def]
    store = make_store()
    commit_personal(store, with_buyer(placed()), shipped())
    again = make_store()
    [active] = again.load_active()
    assert active.order.recipient == BUYER
    assert again.get_order(ORDER.ref) == with_buyer(placed())
    assert again.get_order(OTHER.ref) == shipped()  # an order without them has none


def test_a_state_without_delivery_details_does_not_remove_the_kept_ones(make_store) -> None:  # type: ignore[no-untyped-def]
    store = make_store()
    commit_personal(store, with_buyer(placed()))
    commit_personal(store, placed()._replace(last_reason="later"))
    assert store.get_order(ORDER.ref).order.recipient == BUYER


def test_the_purge_removes_the_details_of_orders_ended_before_the_cut_only(make_store) -> None:  # type: ignore[no-untyped-def]
    store = make_store()
    ended_at = T0 + timedelta(days=2)
    commit_personal(
        store,
        with_buyer(shipped("1001")),
        with_buyer(placed("1002")),
        ended={ORDER.ref: ended_at, OTHER.ref: None},
    )
    assert store.purge_personal_data(ended_at) == 0  # not before the end
    assert store.get_order(ORDER.ref).order.recipient == BUYER
    assert store.purge_personal_data(ended_at + timedelta(seconds=1)) == 1
    purged = make_store().get_order(ORDER.ref)
    assert purged == shipped("1001")  # the state stays, for history
    assert purged is not None
    assert purged.order.recipient is None
    far = T0 + timedelta(days=3650)
    assert store.purge_personal_data(far) == 0  # the open order is never purged
    assert make_store().load_active()[0].order.recipient == BUYER


def test_the_first_end_counts_and_an_order_open_again_is_not_purged(make_store) -> None:  # type: ignore[no-untyped-def]
    store = make_store()
    first = T0 + timedelta(days=1)
    commit_personal(store, with_buyer(shipped("1001")), ended={ORDER.ref: first})
    commit_personal(store, ended={ORDER.ref: first + timedelta(days=30)})  # a late event
    assert store.purge_personal_data(first + timedelta(days=1)) == 1
    store = make_store()
    commit_personal(store, with_buyer(shipped("1002")), ended={OTHER.ref: first})
    escalated = with_buyer(placed("1002"))._replace(escalation="the buyer asked again")
    commit_personal(store, escalated, ended={OTHER.ref: None})  # open again
    assert store.purge_personal_data(first + timedelta(days=365)) == 0
    assert store.get_order(OTHER.ref).order.recipient == BUYER


def test_the_purge_compares_instants_whatever_their_zone(make_store) -> None:  # type: ignore[no-untyped-def]
    store = make_store()
    ended_kst = datetime(2025, 9, 1, 9, 0, tzinfo=KST)  # 00:00 UTC
    commit_personal(store, with_buyer(shipped("1001")), ended={ORDER.ref: ended_kst})
    assert store.purge_personal_data(datetime(2025, 9, 1, 0, 0, tzinfo=timezone.utc)) == 0
    assert store.purge_personal_data(datetime(2025, 9, 1, 0, 1, tzinfo=timezone.utc)) == 1


def raw_rows(path: Path) -> str:
    """Every row of every table but ``personal``, as text (snapshots decompressed)."""
    db = sqlite3.connect(path)
    tables = [
        name
        for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        if name != "personal"
    ]
    texts = []
    for table in tables:
        for row in db.execute(f"SELECT * FROM {table}"):  # noqa: S608 - the file's own tables
            for value in row:
                is_blob = isinstance(value, bytes)
                texts.append(zlib.decompress(value).decode("utf-8") if is_blob else str(value))
    db.close()
    return "\n".join(texts)


def test_sqlite_keeps_the_delivery_details_out_of_states_log_journal_and_outbox(
    tmp_path: Path,
) -> None:
    path = tmp_path / "s.db"
    store = SQLiteStore(path)
    state = with_buyer(placed())
    batch = StoreBatch()
    batch.states = {ORDER.ref: state}
    batch.outbox = {1: entry(1)}
    batch.journal = [(1, ev.OrderPaid(order=state.order))]  # the codec drops the buyer
    store.commit(batch)
    store.checkpoint()  # the log folded into ``orders`` too
    commit_personal(store, state._replace(last_reason="again"))  # and a logged row
    text = raw_rows(path)
    assert ORDER.ref.order_id in text  # the rows are there, read as text
    for personal in BUYER_TEXTS:
        assert personal not in text
    [(data,)] = sqlite3.connect(path).execute("SELECT data FROM personal").fetchall()
    assert BUYER.name in data
    store.close()


def test_purged_delivery_details_leave_the_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    store = SQLiteStore(path)
    orders = [with_buyer(shipped(str(2000 + i))) for i in range(200)]
    ended = {s.order.ref: T0 for s in orders}
    commit_personal(store, *orders, ended=ended)
    store.checkpoint()
    raw = path.read_bytes()
    assert BUYER.address1.encode() in raw
    # Some SQLite builds overwrite deleted bytes by default; this connection does not, so
    # the purge itself must.
    store._db.execute("PRAGMA secure_delete=OFF")
    assert store.purge_personal_data(T0 + timedelta(days=1)) == 200
    assert store._db.execute("PRAGMA secure_delete").fetchone() == (0,)  # restored
    files = [path, path.with_name(path.name + "-wal")]
    for name in files:
        if name.exists():
            content = name.read_bytes()
            for personal in BUYER_TEXTS:
                assert personal.encode() not in content
    store.close()


def test_a_version_4_file_migrates_and_keeps_delivery_details_from_then_on(
    tmp_path: Path,
) -> None:
    path = tmp_path / "v4.db"
    db = sqlite3.connect(path)
    for step in _store_sqlite.MIGRATIONS[:4]:
        step(db)
    db.execute("PRAGMA user_version=4")
    db.execute(
        "INSERT INTO orders (ref, active, state) VALUES (?, 1, ?)",
        (ref_key(ORDER.ref), encode_state(placed())),
    )
    db.commit()
    db.close()
    store = SQLiteStore(path)
    assert store.schema_version == SCHEMA_VERSION
    assert store.load_active() == [placed()]  # its states never held delivery details
    commit_personal(store, with_buyer(placed("1002")))
    store.close()
    assert SQLiteStore(path).get_order(OTHER.ref) == with_buyer(placed("1002"))


def test_unreadable_delivery_details_are_a_store_error_without_the_data() -> None:
    text = encode_recipient(BUYER)
    assert decode_recipient(ORDER.ref, text) == BUYER
    broken = text.replace(BUYER.phone, "")  # a required field left blank
    with pytest.raises(StoreError) as caught:
        decode_recipient(ORDER.ref, broken)
    with pytest.raises(StoreError, match="codec"):
        decode_recipient(ORDER.ref, '["김수령"]')
    with pytest.raises(StoreError, match="codec"):
        decode_recipient(ORDER.ref, "not json")
    message = str(caught.value)
    assert str(ORDER.ref) in message
    for personal in BUYER_TEXTS:
        assert personal not in message
        assert personal not in repr(caught.value)
