"""The engine when things go wrong at its edges: failed runs, odd adapters, stray requests."""

from __future__ import annotations

import pytest

from consign_core.errors import StoreError
from consign_core.testing import InMemorySupplier, SupplierBehaviour

from .test_engine import HOUR, World


def _views(w: World) -> tuple[object, object]:
    return w.engine.trust.snapshot(), w.engine.ledger.report(w.now)


def test_a_failed_run_reloads_the_models_as_a_restart_would_without_counting_twice() -> None:
    w = World(supplier=InMemorySupplier(behaviour=SupplierBehaviour(cancel_probability=0.05)))
    for day in range(40):  # past the ledger's memory of orders and the trust model's dedup
        for k in range(8):
            w.add(f"{day}-{k}", sku="SOLO")
        w.run_until(24, step=4)
    assert w.store.snapshot("engine") is None  # no snapshot yet: the journal is everything
    commit = w.store.commit

    def locked_once(batch: object) -> None:
        w.store.commit = commit  # type: ignore[method-assign]
        msg = "cannot write to the store: database is locked"
        raise StoreError(msg)

    w.store.commit = locked_once  # type: ignore[method-assign]
    with pytest.raises(StoreError):
        w.run(1)
    w.run(0)  # the same engine goes on: it reloads from the store
    reloaded = _views(w)
    w.restart()
    assert _views(w) == reloaded
    assert w.engine.trust.assess("S1", 1, w.now, w.now + 48 * HOUR).effective_n < 320
