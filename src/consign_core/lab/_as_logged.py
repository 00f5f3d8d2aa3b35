"""The ``as-logged`` policy of a backtest: confirm when the log says the seller did.

Replaying a log under ``as-logged`` reproduces the log's own history: the same seller-fault
cancels, buyer cancels and late shipments as its ``history`` block. That identity is what makes
the other policies' counterfactuals worth reading: whatever differs from ``as-logged`` is the
policy's doing, not the replay's.

How it holds (see ``docs/backtest.md``):

- the order is confirmed at its ``confirmed_at``; where the log has no confirmation times at
  all (no ``confirmed_at`` column, or the column empty on every row), at payment; a row with
  an empty ``confirmed_at`` in a log that has some was never confirmed, and the order waits
  for tracking (or its logged end);
- the replay runs the engine at the log's own instants (event-driven) instead of on the
  10-minute grid of the other policies, so nothing shifts by a poll's delay;
- tracking reaches the market when the log says it did (``shipped_at``, else ``outcome_at``);
- the buyer model adds no cancels (the seller waited exactly as long as it did), and the
  simulated person never cancels an order that the log shows shipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Final

from consign_core.domain.model import OrderRef
from consign_core.domain.timing import ConfirmNow, Decision, DecisionContext, WaitForInvoice


__all__ = ["AS_LOGGED", "AsLogged"]

AS_LOGGED: Final = "as-logged"
"""The policy's name, as ``--policy`` takes it."""


class AsLogged:
    """Confirm each order when the log says it was confirmed (see the module docs)."""

    name = AS_LOGGED
    watches_supplier_confirmation = False

    def __init__(self, confirmed: Mapping[OrderRef, datetime | None], *, has_column: bool) -> None:
        """``confirmed``: each order's logged confirmation (``None``: never confirmed);
        ``has_column``: whether the log has a ``confirmed_at`` column at all."""
        self._confirmed = dict(confirmed)
        self._has_column = has_column

    def decide(self, context: DecisionContext) -> Decision:
        """Confirm at the logged time; before it (or with none logged), wait for it."""
        if not self._has_column:
            return ConfirmNow(reason="the log has no confirmation times: confirmed at payment")
        at = self._confirmed.get(context.order.ref)
        if at is None:
            return WaitForInvoice(
                until=context.order.ship_by,
                recheck_at=context.order.ship_by,
                reason="the log shows no confirmation: wait for tracking, as the seller did",
            )
        if context.now >= at:
            return ConfirmNow(reason=f"confirmed at {at.isoformat()} in the log")
        return WaitForInvoice(
            until=at, recheck_at=at, reason=f"the log confirms at {at.isoformat()}"
        )
