"""The ``as-logged`` policy: a backtest that replays the log's own decisions reproduces its
history exactly, and no simulated person cancels an order that the log shows shipped."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consign_core.domain.calendar import KST
from consign_core.domain.model import CancelFault, CancelReason
from consign_core.errors import ConfigurationError
from consign_core.lab.backtest import (
    AS_LOGGED,
    LoggedOutcome,
    OrderLogRow,
    backtest,
    read_order_log,
)
from tests.strategies import examples


_START = datetime(2025, 3, 3, 9, tzinfo=KST)
_ZONES = st.sampled_from([KST, timezone.utc, timezone(timedelta(hours=-3))])


def _seconds(low: int, high: int) -> st.SearchStrategy[timedelta]:
    return st.integers(low, high).map(lambda s: timedelta(seconds=s))


@st.composite
def _row(draw: st.DrawFn, index: int, with_confirmations: bool) -> OrderLogRow:
    zone = draw(_ZONES)
    paid = (_START + draw(_seconds(0, 20 * 86_400))).astimezone(zone)
    outcome = draw(st.sampled_from(LoggedOutcome))
    outcome_at = None if outcome is LoggedOutcome.OPEN else paid + draw(_seconds(60, 9 * 86_400))
    shipped_at = None
    if outcome is LoggedOutcome.INVOICED and draw(st.booleans()):
        assert outcome_at is not None
        shipped_at = outcome_at + draw(_seconds(0, 86_400))
    fault = reason = None
    if outcome is LoggedOutcome.SUPPLIER_CANCELLED:
        fault = draw(st.sampled_from([None, CancelFault.SELLER]))
        reason = draw(st.sampled_from([None, CancelReason.STOCK_OUT, CancelReason.OTHER]))
    elif outcome is LoggedOutcome.BUYER_CANCELLED:
        fault = draw(st.sampled_from([None, *CancelFault]))
        reason = draw(st.sampled_from([None, CancelReason.BUYER_REMORSE]))
    confirmed = None
    if with_confirmations and draw(st.booleans()):
        confirmed = paid + draw(_seconds(0, 4 * 86_400))
    return OrderLogRow(
        order_id=f"O{index}",
        supplier_id=draw(st.sampled_from(["S1", "S2", "한빛상사"])),
        quantity=draw(st.integers(1, 5)),
        paid_at=paid,
        ship_by=paid + draw(_seconds(3_600, 6 * 86_400)),
        outcome=outcome,
        outcome_at=outcome_at,
        unit_price=draw(st.integers(1_000, 90_000)),
        confirmed_at=confirmed,
        shipped_at=shipped_at,
        cancel_fault=fault,
        cancel_reason=reason,
    )


@st.composite
def _logs(draw: st.DrawFn) -> list[OrderLogRow]:
    with_confirmations = draw(st.booleans())
    n = draw(st.integers(1, 25))
    return [draw(_row(i, with_confirmations)) for i in range(n)]


_IDENTITY = {
    "seller_fault_cancels": "seller_fault_cancels",
    "buyer_cancels": "buyer_fault_cancels",
    "late_shipments": "late_shipments",
}


def _replayed(rows: list[OrderLogRow], market: str) -> tuple[dict[str, int], dict[str, int]]:
    report = backtest(rows, [AS_LOGGED], market=market).to_dict()
    (result,) = report["policies"]
    history = report["history"]
    return (
        {mine: result[mine] for mine in _IDENTITY},
        {mine: history[theirs] for mine, theirs in _IDENTITY.items()},
    )


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=_logs())
def test_replaying_as_logged_reproduces_the_logs_history_on_coupang(
    rows: list[OrderLogRow],
) -> None:
    replayed, history = _replayed(rows, "coupang")
    assert replayed == history


def test_the_sample_log_replays_as_logged_to_its_own_history() -> None:
    rows = read_order_log("examples/data/orders.csv")
    replayed, history = _replayed(rows, "coupang")
    assert replayed == history
    assert history["seller_fault_cancels"] > 0  # the identity is not trivially empty
    assert history["late_shipments"] > 0


def test_as_logged_confirms_at_the_logged_time() -> None:
    paid = _START
    row = OrderLogRow(
        order_id="O1",
        supplier_id="S1",
        quantity=1,
        paid_at=paid,
        ship_by=paid + timedelta(days=3),
        outcome=LoggedOutcome.INVOICED,
        outcome_at=paid + timedelta(days=2),
        confirmed_at=paid + timedelta(hours=7, minutes=3),
    )
    report = backtest([row], [AS_LOGGED]).to_dict()
    (result,) = report["policies"]
    assert result["median_hours_to_confirm"] == pytest.approx(7.05, abs=1e-6)


def test_without_confirmation_times_as_logged_confirms_at_payment() -> None:
    paid = _START
    row = OrderLogRow(
        order_id="O1",
        supplier_id="S1",
        quantity=1,
        paid_at=paid,
        ship_by=paid + timedelta(days=3),
        outcome=LoggedOutcome.INVOICED,
        outcome_at=paid + timedelta(days=2),
    )
    (result,) = backtest([row], [AS_LOGGED]).to_dict()["policies"]
    assert result["median_hours_to_confirm"] == pytest.approx(0.0, abs=1e-6)


def test_no_simulated_person_cancels_an_order_the_log_shows_shipped_late() -> None:
    paid = _START
    rows = [
        OrderLogRow(
            order_id=f"O{i}",
            supplier_id="S1",
            quantity=1,
            paid_at=paid + timedelta(minutes=i),
            ship_by=paid + timedelta(days=1),
            outcome=LoggedOutcome.INVOICED,
            outcome_at=paid + timedelta(days=9),  # long past the deadline and any patience
        )
        for i in range(3)
    ]
    report = backtest(rows, ["confirm-immediately", "await-invoice", AS_LOGGED]).to_dict()
    for result in report["policies"]:
        assert result["seller_fault_cancels"] == 0, result["policy"]
        assert result["late_shipments"] == 3, result["policy"]


def test_as_logged_takes_no_parameters() -> None:
    paid = _START
    row = OrderLogRow(
        order_id="O1",
        supplier_id="S1",
        quantity=1,
        paid_at=paid,
        ship_by=paid + timedelta(days=3),
        outcome=LoggedOutcome.OPEN,
        outcome_at=None,
    )
    with pytest.raises(ConfigurationError, match="as-logged"):
        backtest([row], [AS_LOGGED], params={AS_LOGGED: {"margin_hours": 2}})
