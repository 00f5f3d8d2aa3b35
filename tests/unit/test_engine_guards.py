"""Guards at the engine's edges: policies by name, broken policies, orders paid "in the future"."""

from __future__ import annotations

import logging
import pickle
from datetime import timedelta
from typing import Any, ClassVar

import attrs
import pytest

from consign_core.domain.events import OrderPaid
from consign_core.domain.model import MarketOrder, OrderRef, Recipient
from consign_core.domain.rules import COUPANG
from consign_core.domain.timing import (
    ConfirmNow,
    Decision,
    DecisionContext,
    ExpectedCost,
    decide_safely,
    make_policy,
)
from consign_core.engine import Engine
from consign_core.engine._persist import _at_least, _at_most
from consign_core.errors import (
    ConfigurationError,
    ConsignError,
    InsufficientHistoryError,
    PolicyError,
)
from consign_core.store import InMemoryStore
from consign_core.testing import T0, InMemoryMarket, InMemorySupplier, make_order


SOURCES = {"SKU-1": [("S1", "I1")]}
BUYER = Recipient(name="김민지", phone="010-1234-5678", zip_code="06236", address1="서울 강남구 1")
SECRET_TEXT = "김민지 010-1234-5678"  # noqa: S105 - a buyer's details, not a password


def engine_for(policy: Any, market: InMemoryMarket | None = None, **kwargs: Any) -> Engine:
    return Engine(
        market or InMemoryMarket(),
        InMemorySupplier(),
        InMemoryStore(),
        policy=policy,
        profile=COUPANG,
        sources=SOURCES,
        **kwargs,
    )


def with_buyer(order: MarketOrder) -> MarketOrder:
    return attrs.evolve(order, recipient=BUYER)


class Flaky:
    """Confirms every order but one, on which it fails the way ``failure`` says."""

    name: ClassVar[str] = "flaky"
    watches_supplier_confirmation: ClassVar[bool] = False

    def __init__(self, failure: str, bad_order: str = "bad") -> None:
        self.failure = failure
        self.bad_order = bad_order

    def decide(self, context: DecisionContext) -> Decision:
        if context.order.ref.order_id != self.bad_order:
            return ConfirmNow(reason="fine")
        if self.failure == "raise":
            # a foreign error quoting the buyer: its text must never reach a message or a log
            raise KeyError(SECRET_TEXT)
        if self.failure == "library":
            msg = "supplier S1 has no history yet"
            raise InsufficientHistoryError(msg)
        return "confirm"  # type: ignore[return-value]


# --------------------------------------------------------------------------- policy by name


def test_the_engine_takes_a_built_in_policy_by_name() -> None:
    market = InMemoryMarket()
    engine = engine_for("expected-cost", market)
    market.add_order(make_order("1"))
    market.advance(T0)
    engine.run_once(T0)
    state = engine.order(OrderRef(market="coupang", order_id="1"))
    assert state is not None
    assert state.last_reason is not None
    assert "expected cost" in state.last_reason  # ExpectedCost's own wording
    assert state.escalation is None


def test_an_unknown_policy_name_is_refused_at_construction() -> None:
    with pytest.raises(ConfigurationError, match="unknown policy 'fastest'") as info:
        engine_for("fastest")
    assert (info.value.field, info.value.value) == ("policy", "fastest")


@pytest.mark.parametrize(
    "policy",
    [42, None, object(), {"name": "expected-cost"}],
    ids=["int", "none", "object", "dict"],
)
def test_anything_but_a_policy_is_refused_at_construction(policy: object) -> None:
    with pytest.raises(ConfigurationError, match="policy must be a confirmation policy") as info:
        engine_for(policy)
    assert info.value.field == "policy"
    assert info.value.value is policy


def test_a_policy_class_instead_of_an_instance_is_refused_with_a_hint() -> None:
    with pytest.raises(
        ConfigurationError, match=r"got the class ExpectedCost; write ExpectedCost\(\)"
    ):
        engine_for(ExpectedCost)


def test_a_policy_with_a_name_but_no_decide_method_is_refused() -> None:
    class NameOnly:
        name = "half"
        decide = "not callable"

    with pytest.raises(ConfigurationError, match="got a NameOnly"):
        engine_for(NameOnly())


# --------------------------------------------------------------------------- broken policies


@pytest.mark.parametrize(
    ("failure", "words"),
    [
        ("raise", "raised KeyError"),
        ("wrong-type", "returned a str"),
        ("library", "raised InsufficientHistoryError"),
    ],
)
def test_a_broken_policy_escalates_its_order_and_the_run_goes_on(
    failure: str, words: str, caplog: pytest.LogCaptureFixture
) -> None:
    market = InMemoryMarket()
    reasons: list[tuple[OrderRef, str]] = []
    engine = engine_for(
        Flaky(failure),
        market,
        on_escalate=lambda state, reason: reasons.append((state.order.ref, reason)),
    )
    market.add_order(with_buyer(make_order("bad")))
    market.add_order(with_buyer(make_order("good")))
    market.advance(T0)
    with caplog.at_level(logging.DEBUG, logger="consign_core"):
        engine.run_once(T0)
    bad, good = (
        OrderRef(market="coupang", order_id="bad"),
        OrderRef(market="coupang", order_id="good"),
    )
    assert [ref for ref, _ in reasons] == [bad]
    reason = reasons[0][1]
    assert reason.startswith(f"policy 'flaky' {words} deciding order coupang:bad")
    if failure == "library":  # a library error's own message is quoted; a foreign one's is not
        assert reason.endswith("(supplier S1 has no history yet)")
    bad_state, good_state = engine.order(bad), engine.order(good)
    assert bad_state is not None
    assert good_state is not None
    assert bad_state.escalation == reason
    assert good_state.escalation is None
    assert market.acknowledgements(good) == 1  # the other order was confirmed in the same run
    assert market.acknowledgements(bad) == 0
    assert reason in caplog.text  # the engine's escalation warning carries it
    for text in (reason, caplog.text):
        assert "김민지" not in text
        assert "010-1234-5678" not in text


def test_decide_safely_reports_a_raising_policy_as_a_policy_error_with_its_cause() -> None:
    context = _context()
    with pytest.raises(PolicyError) as info:
        decide_safely(Flaky("raise", bad_order=context.order.ref.order_id), context)
    error = info.value
    assert isinstance(error, ConsignError)
    assert isinstance(error, ConfigurationError)
    assert (error.policy, error.order) == ("flaky", str(context.order.ref))
    assert (error.field, error.value) == ("policy", "flaky")
    assert isinstance(error.__cause__, KeyError)
    assert SECRET_TEXT not in str(error)
    back = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert (type(back), str(back), back.policy, back.order) == (
        PolicyError,
        str(error),
        error.policy,
        error.order,
    )


def test_a_policy_without_a_usable_name_is_named_by_its_class() -> None:
    class Nameless:
        @property
        def name(self) -> str:
            raise RuntimeError

        def decide(self, context: DecisionContext) -> Decision:
            return None  # type: ignore[return-value]

    context = _context()
    with pytest.raises(
        PolicyError, match=r"policy 'Nameless' returned a NoneType deciding"
    ) as info:
        decide_safely(Nameless(), context)
    assert info.value.policy == "Nameless"


def test_a_well_behaved_policy_is_not_affected_by_the_guard() -> None:
    context = _context()
    assert decide_safely(make_policy("confirm-immediately"), context) == decide_safely(
        make_policy("confirm-immediately"), attrs.evolve(context)
    )


def _context() -> DecisionContext:
    from consign_core.domain.cancel_rate import Ledger
    from consign_core.domain.events import OrderPaid
    from consign_core.domain.trust import TrustConfig, TrustModel

    order = with_buyer(make_order("bad"))
    ledger = Ledger(COUPANG)
    ledger.observe(OrderPaid(order=order))
    trust = TrustModel(TrustConfig()).assess("S1", 1, T0, order.ship_by, placed_at=T0)
    return DecisionContext(
        order=order,
        now=T0,
        trust=trust,
        headroom=ledger.headroom(T0, order),
        profile=COUPANG,
        placed_at=T0,
    )


# --------------------------------------------------------------------------- the ledger's clock


def test_an_order_paid_after_the_engines_now_does_not_move_the_ledger_clock() -> None:
    market = InMemoryMarket()
    engine = engine_for("confirm-immediately", market)
    ahead = T0 + timedelta(hours=3)  # a fake filled ahead, or a market clock that runs fast
    market.add_order(make_order("early", paid_at=ahead))
    market.advance(T0)
    report = engine.run_once(T0)
    assert report.new_orders == 1
    assert engine.ledger.now == T0
    headroom = engine.ledger.headroom(T0)  # raised DomainError before
    assert headroom.status.value == "ok"
    fulfilment = engine.ledger.report(T0).metric("order_fulfilment")
    assert fulfilment.denominator == 1  # booked, at the engine's time
    later = engine.run_once(T0 + timedelta(hours=1))
    assert later.poll_errors == ()
    assert engine.ledger.now == T0 + timedelta(hours=1)


def test_a_restart_replays_the_order_booked_at_the_engines_time() -> None:
    market = InMemoryMarket()
    store = InMemoryStore()
    engine = Engine(
        market,
        InMemorySupplier(),
        store,
        policy="confirm-immediately",
        profile=COUPANG,
        sources=SOURCES,
    )
    market.add_order(make_order("early", paid_at=T0 + timedelta(hours=3)))
    market.advance(T0)
    engine.run_once(T0)
    restarted = Engine(
        market,
        InMemorySupplier(),
        store,
        policy="confirm-immediately",
        profile=COUPANG,
        sources=SOURCES,
    )
    assert restarted.ledger.now == T0
    assert restarted.ledger.report(T0).metric("order_fulfilment").denominator == 1


@pytest.mark.parametrize(
    ("paid_shift", "ship_by_shift"),
    [
        (timedelta(hours=-1), timedelta(hours=30)),  # listed late: booked at the ledger's clock
        (timedelta(hours=-5), timedelta(hours=-2)),  # its deadline passed too: moved to the clock
        (timedelta(hours=3), timedelta(hours=30)),  # paid "in the future": booked at now
    ],
)
def test_an_order_booked_at_another_time_equals_the_validated_copy_of_it(
    paid_shift: timedelta, ship_by_shift: timedelta
) -> None:
    order = attrs.evolve(
        make_order("moved", paid_at=T0 + paid_shift, ship_by=T0 + ship_by_shift),
        recipient=BUYER,
    )
    event = OrderPaid(order=order)
    mover = _at_most if paid_shift > timedelta(0) else _at_least
    moved = mover(event, T0)
    expected = OrderPaid(
        order=attrs.evolve(order, paid_at=T0, ship_by=max(order.ship_by, T0))
    )  # the validating constructors: every field kept but the two times
    assert moved == expected
    assert isinstance(moved, OrderPaid)
    assert moved.order.recipient is BUYER
    assert attrs.asdict(moved.order, recurse=False) == attrs.asdict(expected.order, recurse=False)
