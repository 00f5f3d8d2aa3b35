"""Confirmation timing: confirm a market order now (발주확인), or wait for the supplier's tracking.

A policy is a pure function of a :class:`DecisionContext` (the order, what the trust model says
about its supplier, the market's rules and the seller's headroom under them, the supplier
order's state and ``now``) to a :class:`Decision`:

- :class:`ConfirmNow`: acknowledge the order on the market now;
- :class:`WaitForInvoice`: do not confirm yet; confirm when the supplier's waybill (운송장)
  arrives, and ask again at ``recheck_at`` (and at the latest at ``until``);
- :class:`Escalate`: hand the order to a person.

Every decision carries a one-line ``reason`` a seller can read and the ``numbers`` behind it.
Policies never read the clock: ``now`` is in the context, so the same context gives the same
decision in production, in the simulator and in a backtest.
"""

from __future__ import annotations

from consign_core._exports import publish
from consign_core.domain.timing._policies import (
    DEFAULT_POLICY_NAMES,
    AwaitInvoice,
    ConfirmImmediately,
    ExpectedCost,
    ExpectedCostWeights,
    TrustThreshold,
    make_policy,
    policy_names,
)
from consign_core.domain.timing._types import (
    ConfirmationPolicy,
    ConfirmNow,
    Decision,
    DecisionContext,
    Escalate,
    SupplierOrderState,
    WaitForInvoice,
    decide_safely,
    last_safe_moment,
    watches_supplier_confirmation,
)


__all__ = [
    "DEFAULT_POLICY_NAMES",
    "AwaitInvoice",
    "ConfirmImmediately",
    "ConfirmNow",
    "ConfirmationPolicy",
    "Decision",
    "DecisionContext",
    "Escalate",
    "ExpectedCost",
    "ExpectedCostWeights",
    "SupplierOrderState",
    "TrustThreshold",
    "WaitForInvoice",
    "decide_safely",
    "last_safe_moment",
    "make_policy",
    "policy_names",
    "watches_supplier_confirmation",
]

publish(__name__, __all__)
