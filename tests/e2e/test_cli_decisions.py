"""``consign-core decisions``: an order's decision history from a store a short engine run made."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from consign_core import COUPANG, Engine, make_policy
from consign_core.cli import main
from consign_core.domain.model import OrderRef
from consign_core.errors import StoreError, ValidationError
from consign_core.store import SCHEMA_VERSION, SQLiteStore, read_decisions
from consign_core.store._schema import MIGRATIONS
from consign_core.testing import T0, InMemoryMarket, InMemorySupplier, SupplierBehaviour, make_order


HOUR = timedelta(hours=1)


@pytest.fixture
def store_file(tmp_path: Path) -> Path:
    """A store written by a 40-hour engine run: order 123-456 waits, then is confirmed."""
    path = tmp_path / "seller.db"
    market = InMemoryMarket()
    supplier = InMemorySupplier(behaviour=SupplierBehaviour(invoice_after=30 * HOUR))
    store = SQLiteStore(path)
    engine = Engine(
        market,
        supplier,
        store,
        policy=make_policy("trust-threshold"),
        profile=COUPANG,
        sources={"MUG-01": ("S1", "I1")},
    )
    market.add_order(make_order("123-456", sku="MUG-01", quantity=12, paid_at=T0))
    now = T0
    for _ in range(40):
        engine.run_once(now)
        now += HOUR
        market.advance(now)
        supplier.advance(now)
    store.close()
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_decisions_prints_the_history_as_a_table(
    store_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "decisions", "--store", str(store_file), "coupang:123-456")
    assert code == 0
    assert "coupang:123-456: 2 decisions, oldest first" in out
    lines = out.splitlines()
    heading = next(i for i, line in enumerate(lines) if line.startswith("time (KST)"))
    rows = lines[heading + 2 :]
    assert len(rows) == 2
    assert rows[0].startswith("2025-09-01 10:00")
    assert " wait " in rows[0]
    assert "wait for tracking" in rows[0]
    assert "quantity 12" in rows[0]
    assert " confirm-now " in rows[1]
    assert "hours_since_paid 30" in rows[1]


def test_decisions_json_is_the_documented_document(
    store_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "decisions", "--store", str(store_file), "coupang:123-456", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["schema_version"] == 1
    assert doc["command"] == "decisions"
    assert doc["order"] == "coupang:123-456"
    kinds = [d["kind"] for d in doc["decisions"]]
    assert kinds == ["wait", "confirm-now"]
    first = doc["decisions"][0]
    assert first["at"] == T0.isoformat()
    assert first["numbers"]["quantity"] == 12.0
    assert first["ref"] == "coupang:123-456"


def test_an_order_without_decisions_says_so(
    store_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "decisions", "--store", str(store_file), "coupang:999")
    assert code == 0
    assert "no decisions recorded" in out


@pytest.mark.parametrize("order", ["123-456", "coupang:", ":123"])
def test_a_bad_order_is_a_one_line_usage_error(
    store_file: Path, capsys: pytest.CaptureFixture[str], order: str
) -> None:
    code, _, err = run(capsys, "decisions", "--store", str(store_file), order)
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "market:order_id" in err


def test_a_missing_store_file_is_an_error_and_is_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "none.db"
    code, _, err = run(capsys, "decisions", "--store", str(missing), "coupang:1")
    assert code == 2
    assert "no such file" in err
    assert not missing.exists()


def _files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_looking_writes_nothing_to_the_store_file(
    store_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _files(store_file.parent)
    code, out, _ = run(capsys, "decisions", "--store", str(store_file), "coupang:123-456")
    assert code == 0
    assert "2 decisions" in out
    after = _files(store_file.parent)
    assert after[store_file.name] == before[store_file.name]  # no migration, nothing written
    # beside it at most SQLite's own files for a reader of a WAL database, the log empty
    assert set(after) - set(before) <= {f"{store_file.name}-wal", f"{store_file.name}-shm"}
    assert after.get(f"{store_file.name}-wal", b"") == b""


def test_a_store_from_before_the_decision_history_is_read_as_is_not_migrated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = tmp_path / "old.db"
    db = sqlite3.connect(old)
    for step in MIGRATIONS[:3]:  # the schema as release 3 wrote it
        step(db)
    db.execute("PRAGMA user_version=3")
    db.commit()
    db.close()
    code, out, _ = run(capsys, "decisions", "--store", str(old), "coupang:1")
    assert code == 0
    assert "no decisions recorded" in out
    db = sqlite3.connect(old)
    assert db.execute("PRAGMA user_version").fetchone() == (3,)
    db.close()


def test_a_file_that_is_not_a_store_is_a_one_line_error_and_is_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = tmp_path / "orders.db"
    text.write_text("order_id,paid_at\n1,2025-09-01\n", encoding="utf-8")
    other = tmp_path / "other.db"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE things (x)")
    db.commit()
    db.close()
    before = _files(tmp_path)
    for path in (text, other):
        code, out, err = run(capsys, "decisions", "--store", str(path), "coupang:1")
        assert code != 0
        assert out == ""
        assert len(err.strip().splitlines()) == 1
        assert str(path.name) in err
    assert _files(tmp_path) == before


def test_read_decisions_refuses_a_ref_that_is_not_an_order_ref(store_file: Path) -> None:
    with pytest.raises(ValidationError, match="ref"):
        read_decisions(store_file, "coupang:123-456")


def test_read_decisions_returns_what_the_store_itself_returns(store_file: Path) -> None:
    ref = OrderRef(market="coupang", order_id="123-456")
    store = SQLiteStore(store_file)
    try:
        expected = store.decisions(ref)
    finally:
        store.close()
    assert read_decisions(store_file, ref) == expected
    assert len(expected) == 2


def test_read_decisions_of_a_newer_store_names_the_schema(tmp_path: Path) -> None:
    newer = tmp_path / "newer.db"
    db = sqlite3.connect(newer)
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="newer"):
        read_decisions(newer, OrderRef(market="coupang", order_id="1"))
