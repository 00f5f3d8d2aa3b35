"""The seller-fault cancel-rate / penalty ledger: one seller, one market, one rule profile.

A :class:`Ledger` takes lifecycle events (:mod:`consign_core.domain.events`) in time order and
answers, at any time ``now``, each metric of its :class:`~consign_core.domain.rules.RuleProfile`:
value, numerator, denominator, status (ok / warning / sanction), how many more seller-fault
stock-out cancellations reach its thresholds (:meth:`Ledger.headroom`), when the oldest counted
event leaves the window, and what the metrics would be if some pending orders were cancelled
by their suppliers (:meth:`Ledger.project`). :func:`compute_report` is the batch form over a
whole event list and runs the same code.

What the ledger reads from the events
=====================================

- :class:`~consign_core.domain.events.OrderPaid`: the order, its size and its ship-by deadline
  (``order.ship_by``); a denominator event for :attr:`Denominator.ORDERS_PAID`.
- :class:`~consign_core.domain.events.OrderCancelled`: classified, as recorded and never
  re-labelled,
  into a :attr:`CountedEvent.STOCK_OUT_CANCEL` (fault SELLER and reason STOCK_OUT, or reason
  STOCK_OUT with any fault when the profile's ``stock_out_counts_any_fault`` is set), a
  :attr:`CountedEvent.SELLER_FAULT_CANCEL` (fault SELLER, any other reason), or nothing
  (buyer or market fault). A cancellation also ends the order's late-shipment checks.
- :class:`~consign_core.domain.events.InvoiceUploaded`: the shipment (waybill uploaded); on time iff
  strictly before ``ship_by``. A denominator event for :attr:`Denominator.ORDERS_SHIPPED`.
- :class:`~consign_core.domain.events.Delivered`: if no waybill was seen, the order counts as
  shipped
  at delivery time (it evidently shipped); otherwise ignored.
- Every other event, and events of other markets (``ref.market`` compared case-insensitively
  with ``profile.market``), only move the ledger's clock.

Late shipments
==============

An order is late when neither a waybill upload nor a cancellation happened strictly before its
deadline. The late shipment is booked when the deadline passes (or, under
:attr:`LateBooking.NEXT_BUSINESS_DAY`, at 00:00 KST of the first business day after the
deadline day, which is how Naver penalised a 10/10 deadline on 10/13), whether or not the order
ships later, and even if it is cancelled after the deadline. At the same instant the order
enters the :attr:`Denominator.ORDERS_DUE` denominator (unless it was cancelled before its
deadline). With ``long_late_business_days`` set, an order still unshipped at the end of the
deadline day plus that many business days also books a
:attr:`CountedEvent.LONG_LATE_SHIPMENT`, dated the same way.

Windows, moratoria and memory
=============================

Every counted event is dated (cancellation time, late-shipment booking time, payment time,
waybill time) and sits in each metric's window while ``window start <= date <= now``; a
rolling window of N days starts just after ``now - N days``. A counted event whose KST date
falls in a moratorium (the profile's and the calendar's) that suspends its
:class:`~consign_core.domain.calendar.PenaltyKind` is kept aside as *suspended*: reported, not
counted.

The ledger remembers an order from its payment for :attr:`Ledger.retention` (the longest
window: N days, or 31 days per calendar month) and until its pending late-shipment checks
are done, then forgets it. An event about an order it does not remember (never seen paid, or
forgotten) counts with weight 1 in every unit, with no de-duplication. Duplicate payments,
cancellations and waybills of a remembered order are ignored.

Cost: per event and per query amortized O(number of metrics) (deques with running sums per
window, deadline checks bucketed by booking time under a min-heap); memory bounded by the
orders and events of the longest window (records are dropped in batches, so up to about 1.25
times the retention period is held; what counts as remembered is exact at every instant).
"""

from __future__ import annotations

from consign_core._exports import publish
from consign_core.domain.cancel_rate._ledger import Ledger, compute_report
from consign_core.domain.cancel_rate._results import Headroom, LedgerReport, MetricReport
from consign_core.domain.cancel_rate._state import (
    LedgerState,
    MetricWindow,
    OrderRecord,
    PendingCheck,
    WindowEntry,
)


__all__ = [
    "Headroom",
    "Ledger",
    "LedgerReport",
    "LedgerState",
    "MetricReport",
    "MetricWindow",
    "OrderRecord",
    "PendingCheck",
    "WindowEntry",
    "compute_report",
]

publish(__name__, __all__)
