"""``consign-core decisions``: an order's decision history from a store a short engine run made."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from consign_core import COUPANG, Engine, make_policy
from consign_core.cli import main
from consign_core.store import SQLiteStore
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
