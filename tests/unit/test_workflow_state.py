"""The per-order state's copy: ``OrderState.evolve`` against the named tuple's own ``_replace``."""

from __future__ import annotations

import pickle
import typing
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consign_core.domain.model import Courier, Tracking
from consign_core.domain.timing import SupplierOrderState
from consign_core.domain.workflow import (
    CancelPurpose,
    OrderState,
    OrderStatus,
    Progress,
    SupplierCancelState,
)
from consign_core.domain.workflow._state import OrderStateChanges
from consign_core.testing import T0, make_order


BASE = OrderState(order=make_order("1001"))

# a value of the right type for each field evolve may change (the order itself stays)
FIELD_VALUES: dict[str, st.SearchStrategy[object]] = {
    "candidate": st.integers(0, 3),
    "attempt": st.integers(0, 5),
    "supplier_id": st.none() | st.sampled_from(["S1", "S2"]),
    "item_id": st.none() | st.just("I1"),
    "supplier_state": st.sampled_from(SupplierOrderState),
    "supplier_order_id": st.none() | st.just("D1"),
    "placed_at": st.none() | st.just(T0),
    "place_pending": st.booleans(),
    "ack": st.sampled_from(Progress),
    "invoice": st.sampled_from(Progress),
    "tracking": st.none() | st.just(Tracking(courier=Courier.CJ, number="1")),
    "market_cancel": st.sampled_from(Progress),
    "supplier_cancel": st.sampled_from(SupplierCancelState),
    "cancel_purpose": st.none() | st.sampled_from(CancelPurpose),
    "wake_at": st.none() | st.just(T0 + timedelta(hours=1)),
    "escalation": st.none() | st.just("look at it"),
    "delay_notified": st.booleans(),
    "delivered": st.booleans(),
    "last_reason": st.text(max_size=5),
}


@st.composite
def changes(draw: st.DrawFn) -> dict[str, object]:
    names = draw(st.lists(st.sampled_from(sorted(FIELD_VALUES)), unique=True, max_size=6))
    return {name: draw(FIELD_VALUES[name]) for name in names}


@given(changes())
def test_evolve_gives_what_the_named_tuples_own_replace_gives(change: dict[str, object]) -> None:
    evolved = BASE.evolve(**change)  # type: ignore[arg-type]
    replaced = BASE._replace(**change)  # type: ignore[arg-type]
    assert type(evolved) is OrderState
    assert evolved == replaced
    assert hash(evolved) == hash(replaced)
    assert evolved.status is replaced.status
    assert OrderState(order=BASE.order) == BASE  # the original is untouched


def test_evolve_rejects_an_unknown_field_naming_it() -> None:
    with pytest.raises(ValueError, match=r"unexpected field names: \['nope'\]"):
        BASE.evolve(attempt=1, nope=2)  # type: ignore[call-arg]


def test_the_named_tuples_own_replace_is_left_as_generated() -> None:
    # no patch: _replace is the one the named tuple defines, and evolve is a method of its own
    assert OrderState._replace is not OrderState.evolve
    assert OrderState._replace.__qualname__ == "OrderState._replace"
    with pytest.raises(ValueError, match=r"unexpected field names: \['nope'\]"):
        BASE._replace(nope=1)  # type: ignore[call-arg]


def test_an_evolved_state_survives_pickling() -> None:
    state = BASE.evolve(attempt=1, supplier_id="S1", ack=Progress.PENDING, wake_at=T0)
    restored = pickle.loads(pickle.dumps(state))  # noqa: S301 - our own bytes
    assert restored == state
    assert type(restored) is OrderState
    assert restored.status is OrderStatus.PLACING


def test_evolve_keywords_are_typed_as_the_fields_are() -> None:
    hints = typing.get_type_hints(OrderState)
    changes_hints = typing.get_type_hints(OrderStateChanges)
    assert list(changes_hints) == list(OrderState._fields)
    assert changes_hints == hints
    assert OrderStateChanges.__required_keys__ == frozenset()
