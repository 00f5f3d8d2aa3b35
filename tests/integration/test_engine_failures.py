"""How the engine settles refusals, unknown results and misconfiguration, command by command."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from consign_core.domain.model import CancelFault, CancelReason, Courier, OrderRef, Tracking
from consign_core.domain.rules import COUPANG
from consign_core.domain.timing import make_policy
from consign_core.domain.workflow import ManualAction, ManualDecision, OrderStatus
from consign_core.engine import Engine
from consign_core.engine.ports import MarketOrderStatus
from consign_core.errors import NotFoundError, RejectedError, TransientError
from consign_core.store import InMemoryStore, OutboxStatus
from consign_core.testing import T0, Fate, InMemoryMarket, InMemorySupplier, make_order
from consign_core.testing._crash_runner import main as crash_runner


HOUR = timedelta(hours=1)


class Rig:
    def __init__(self, policy: str = "confirm-immediately", **kwargs: object) -> None:
        self.market = InMemoryMarket()
        self.supplier = InMemorySupplier()
        self.store = InMemoryStore()
        options: dict[str, object] = {"messenger": self.market}
        options.update(kwargs)
        self.engine = Engine(
            self.market,
            self.supplier,
            self.store,
            policy=make_policy(policy),
            profile=COUPANG,
            sources={"SKU-1": ("S1", "I1")},
            **options,  # type: ignore[arg-type]
        )
        self.now = T0

    def run(self, hours: float = 0.0) -> None:
        self.now += timedelta(hours=hours)
        self.market.advance(self.now)
        self.supplier.advance(self.now)
        self.engine.run_once(self.now)

    def add(self, order_id: str = "1") -> OrderRef:
        order = make_order(order_id, paid_at=self.now)
        self.market.add_order(order)
        return order.ref

    def outbox(self, kind: str) -> list[OutboxStatus]:
        return [e.status for e in self.store.outbox() if e.command.kind.value == kind]


def test_without_a_messenger_messages_are_logged_and_the_cancel_goes_on() -> None:
    rig = Rig("await-invoice", messenger=None)
    ref = rig.add()
    rig.supplier.script(ref, Fate(ships=False, after=2 * HOUR))
    rig.run()
    rig.run(3)
    assert rig.market.order_status(ref) is MarketOrderStatus.CANCELLED
    assert rig.market.messages == []
    assert rig.outbox("message_buyer") == [OutboxStatus.DONE]


def test_a_missing_template_fails_the_message_not_the_order() -> None:
    rig = Rig("await-invoice", templates={})
    ref = rig.add()
    rig.supplier.script(ref, Fate(ships=False, after=2 * HOUR))
    rig.run()
    rig.run(3)
    assert rig.outbox("message_buyer") == [OutboxStatus.FAILED]
    assert rig.engine.order(ref).status is OrderStatus.CANCELLED  # type: ignore[union-attr]


def test_a_message_that_times_out_is_resent_blindly() -> None:
    rig = Rig("await-invoice")
    ref = rig.add()
    rig.supplier.script(ref, Fate(ships=False, after=2 * HOUR))
    rig.run()
    rig.market.faults.fail_next("send_message", TransientError("timeout"))
    rig.run(3)
    rig.run(1)
    assert len(rig.market.messages) == 1
    assert rig.outbox("message_buyer") == [OutboxStatus.DONE]


def test_a_whole_acknowledgement_batch_refused_is_checked_order_by_order() -> None:
    rig = Rig()
    kept, gone = rig.add("1"), rig.add("2")
    rig.market.buyer_cancels(gone)  # cancelled before the engine ever saw it
    rig.market.faults.fail_next("acknowledge", RejectedError("400 bad request"))
    rig.run()
    assert rig.engine.order(gone).status in (OrderStatus.CANCELLING, OrderStatus.CANCELLED)  # type: ignore[union-attr]
    assert rig.engine.order(kept).escalation is not None  # type: ignore[union-attr]
    assert rig.market.order_status(kept) is MarketOrderStatus.PAID
    rig.engine.run_once(
        rig.now, events=[ManualDecision(ref=kept, at=rig.now, action=ManualAction.CONFIRM)]
    )
    assert rig.market.order_status(kept) is MarketOrderStatus.ACKNOWLEDGED


def test_an_acknowledgement_of_an_order_cancelled_meanwhile_cancels_the_supplier_order() -> None:
    rig = Rig("await-invoice")
    ref = rig.add()
    rig.run()
    rig.market.buyer_cancels(ref)
    rig.engine.run_once(
        rig.now, events=[ManualDecision(ref=ref, at=rig.now, action=ManualAction.CONFIRM)]
    )
    rig.run(4)
    state = rig.engine.order(ref)
    assert state is not None
    assert state.status is OrderStatus.CANCELLED
    assert state.cancellation is not None
    assert state.cancellation.fault is CancelFault.BUYER


def test_an_upload_refused_while_a_stop_request_is_open_is_retried() -> None:
    rig = Rig()
    ref = rig.add()
    rig.run()
    rig.market.buyer_cancels(ref)  # stop-shipment request, not yet read by the engine
    rig.engine.run_once(
        rig.now,
        events=[
            ManualDecision(
                ref=ref,
                at=rig.now,
                action=ManualAction.SHIP,
                tracking=Tracking(courier=Courier.CJ, number="600000000009"),
            )
        ],
    )
    assert rig.outbox("upload_invoice") == [OutboxStatus.PENDING]


def test_an_order_the_market_no_longer_knows_fails_the_reconciliation() -> None:
    rig = Rig()
    ref = rig.add()
    rig.market.faults.fail_next("acknowledge", TransientError("timeout"))
    rig.run()
    rig.market.faults.fail_next("get_order", NotFoundError("404"))
    rig.run(1)
    assert rig.outbox("acknowledge") == [OutboxStatus.FAILED]
    assert rig.engine.order(ref).escalation is not None  # type: ignore[union-attr]


def test_unknown_results_of_every_market_command_are_read_back_before_resending() -> None:
    rig = Rig("await-invoice")
    shipped, cancelled = rig.add("1"), rig.add("2")
    rig.supplier.script(shipped, Fate(ships=True, after=2 * HOUR))
    rig.supplier.script(cancelled, Fate(ships=False, after=2 * HOUR, reason=CancelReason.STOCK_OUT))
    rig.run()
    for method in ("upload_invoices", "cancel_order", "acknowledge"):
        rig.market.faults.rates[method] = 1.0
    rig.market.faults.lost_response_share = 1.0
    rig.market.faults.kinds = (rig.market.faults.kinds[0],)  # timeouts only, after the effect
    rig.run(3)
    rig.market.faults.rates.clear()
    rig.run(1)
    rig.run(1)
    assert rig.engine.order(shipped).status is OrderStatus.SHIPPED  # type: ignore[union-attr]
    assert rig.engine.order(cancelled).status is OrderStatus.CANCELLED  # type: ignore[union-attr]
    assert rig.market.duplicate_acknowledgements == 0
    assert rig.market.duplicate_uploads == 0
    assert rig.market.duplicate_cancels == 0


def test_the_crash_runner_resumes_where_it_stopped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--db", str(tmp_path / "s.db"), "--world", str(tmp_path / "w.json"), "--orders", "20"]
    assert crash_runner([*args, "--steps", "10"]) == 0
    assert crash_runner([*args, "--steps", "60"]) == 0
    out = capsys.readouterr().out
    assert "ready 0" in out
    assert "ready 10" in out
    assert out.strip().endswith("done")
