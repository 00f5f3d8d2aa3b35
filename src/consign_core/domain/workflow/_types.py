"""Value types of the order workflow: per-order state, workflow-only events, commands, context.

Kept apart from the step function (``consign_core.domain.workflow._step``) so that ports and the
store can use the types without the transition logic. Everything here is pure data; see
:mod:`consign_core.domain.workflow` for the design. The types live in parts, one per kind, and
this module gathers them:

- ``_enums``: the statuses and progress enumerations, command kinds, a person's actions;
- ``_state``: :class:`OrderState` (with its fast copy :meth:`OrderState.evolve`) and
  :func:`idempotency_key`;
- ``_inputs``: the workflow-only events (wake-ups, change feed, command outcomes, a person's
  decision) and :data:`WorkflowEvent`;
- ``_commands``: the commands, :data:`Command` and :class:`StepResult`;
- ``_context``: :class:`WorkflowContext`, :class:`Decider`, :class:`SupplierSource`, the message
  templates.

Every name this module had before the split (the parts' private helpers, and what it imported
from the package) is imported here too (the ``noqa: F401`` imports), so it still resolves from
this module.
"""

from __future__ import annotations

from consign_core.domain._validators import (  # noqa: F401
    aware_datetime,
    fail,
    int_at_least,
    non_empty_str,
    optional,
)
from consign_core.domain.calendar import (  # noqa: F401
    DEFAULT_CALENDAR,
    BusinessCalendar,
)
from consign_core.domain.events import (  # noqa: F401
    Event,
)
from consign_core.domain.model import (  # noqa: F401
    CancelFault,
    Cancellation,
    CancelReason,
    MarketOrder,
    OrderRef,
    Tracking,
)
from consign_core.domain.timing._types import (  # noqa: F401
    DEFAULT_SAFETY_MARGIN,
    Decision,
    SupplierOrderState,
)
from consign_core.domain.workflow._commands import (
    Acknowledge,
    AnswerBuyerRequest,
    CancelMarketOrder,
    CancelSupplierOrder,
    Command,
    EscalateOrder,
    MessageBuyer,
    PlaceSupplierOrder,
    ScheduleWakeUp,
    StepResult,
    UploadInvoice,
)
from consign_core.domain.workflow._context import (  # noqa: F401
    _CONTEXT_FIELDS,
    DEFAULT_TEMPLATES,
    DELAY_NOTICE,
    STOCK_OUT_NOTICE,
    SUPPLIER_CANCEL_NOTICE,
    Decider,
    SupplierSource,
    WorkflowContext,
    _check_sources,
    _sources,
    _str_map,
)
from consign_core.domain.workflow._enums import (
    TERMINAL_STATUSES,
    BuyerRequestAnswer,
    BuyerRequestKind,
    CancelPurpose,
    CommandKind,
    ManualAction,
    OrderStatus,
    Progress,
    SupplierCancelOutcome,
    SupplierCancelState,
)
from consign_core.domain.workflow._inputs import (  # noqa: F401
    BuyerRequestAnswered,
    CommandFailed,
    ManualDecision,
    PriceChanged,
    StockChanged,
    SupplierCancelResult,
    WakeUp,
    WorkflowEvent,
    _reason_for_cancel,
    _tracking_for_ship,
    _until_for_wait,
)
from consign_core.domain.workflow._state import (  # noqa: F401
    _NO_OPEN_SUPPLIER_ORDER,
    _STATE_INDEX,
    OrderState,
    OrderStateChanges,
    _replace_state,
    idempotency_key,
)


__all__ = [
    "DEFAULT_TEMPLATES",
    "DELAY_NOTICE",
    "STOCK_OUT_NOTICE",
    "SUPPLIER_CANCEL_NOTICE",
    "TERMINAL_STATUSES",
    "Acknowledge",
    "AnswerBuyerRequest",
    "BuyerRequestAnswer",
    "BuyerRequestAnswered",
    "BuyerRequestKind",
    "CancelMarketOrder",
    "CancelPurpose",
    "CancelSupplierOrder",
    "Command",
    "CommandFailed",
    "CommandKind",
    "Decider",
    "EscalateOrder",
    "ManualAction",
    "ManualDecision",
    "MessageBuyer",
    "OrderState",
    "OrderStatus",
    "PlaceSupplierOrder",
    "PriceChanged",
    "Progress",
    "ScheduleWakeUp",
    "StepResult",
    "StockChanged",
    "SupplierCancelOutcome",
    "SupplierCancelResult",
    "SupplierCancelState",
    "SupplierSource",
    "UploadInvoice",
    "WakeUp",
    "WorkflowContext",
    "WorkflowEvent",
    "idempotency_key",
]
