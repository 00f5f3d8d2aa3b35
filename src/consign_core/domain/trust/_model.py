"""The supplier trust model: :class:`TrustModel` (re-exported by ``consign_core.domain.trust``).

The class is assembled from layers, one responsibility each: ``_records`` (the mutable
``__slots__`` records and shared constants), ``_core`` (the state and shared bookkeeping),
``_index`` (the pending-order index), ``_fit`` (the population refit), ``_learn`` (the inputs
and the bookkeeping of outcomes) and ``_assess`` (the assessment). This module holds the public
class and its persistence: :meth:`TrustModel.snapshot` / :meth:`TrustModel.from_snapshot` and
the conversions between the internal records and the public state values. The formulas are
documented in ``consign_core.domain.trust`` and ``docs/trust.md``. Every name this module
had before the split (its own and those it imported from the package) is imported here too
(the ``noqa: F401`` imports), so it still resolves from this module.
"""

from __future__ import annotations

import math
from collections import OrderedDict

from consign_core.domain.calendar import (  # noqa: F401
    DEFAULT_CALENDAR,
    BusinessCalendar,
    require_aware,
)
from consign_core.domain.events import (  # noqa: F401
    Event,
    SupplierCancelled,
    SupplierConfirmed,
    SupplierInvoiced,
    SupplierOrderPlaced,
)
from consign_core.domain.model import (  # noqa: F401
    CancelReason,
    Supplier,
    SupplierSignals,
)
from consign_core.domain.trust._assess import (  # noqa: F401
    _Assessing,
    _assessment,
    _new,
    _set_effective_n,
    _set_eventually,
    _set_exceeded,
    _set_median,
    _set_p90,
    _set_p_cancel,
    _set_p_cancel_by,
    _set_p_cancel_upper,
    _set_p_invoice,
    _set_quantity,
    _set_reason,
    _set_supplier_id,
    _set_tier,
    _set_typical,
)
from consign_core.domain.trust._core import _ModelCore
from consign_core.domain.trust._fit import _PopulationFit
from consign_core.domain.trust._learn import _Learning
from consign_core.domain.trust._math import (  # noqa: F401
    Curve,
    curve,
    curve_from_counts,
    default_hazards,
    hazards,
    plural,
    sigmoid,
    signal_shift,
)
from consign_core.domain.trust._records import (  # noqa: F401
    _BREF,
    _DEFAULT_CONFIG,
    _EPOCH,
    _L_BINS,
    _L_LOW,
    _L_STEP,
    _LN2,
    _MAX_LOG_MULT,
    _N_CELLS,
    _QUARANTINED,
    _REBASE_EXPONENT,
    _RISKY,
    _STOCK_OUT,
    _TRUSTED,
    _UNPROVEN,
    _US_PER_HOUR,
    _X_BINS,
    _X_STEP,
    _check_aware,
    _hours,
    _Pending,
    _Pop,
    _Sup,
    _threshold,
)
from consign_core.domain.trust._types import (  # noqa: F401
    PendingOrderState,
    PopulationState,
    StockReportState,
    SupplierTrustState,
    TrustAssessment,
    TrustConfig,
    TrustState,
    TrustTier,
    check_id,
    check_instance,
    check_int,
)
from consign_core.errors import ValidationError


__all__ = ["TrustModel"]


class TrustModel(_Learning, _Assessing):
    """Online supplier trust model: learns from supplier order outcomes, answers risk questions.

    Feed it every lifecycle event with :meth:`observe` (it ignores those it does not learn
    from), tell it platform signals with :meth:`register_supplier` and stock levels with
    :meth:`report_stock`, and ask :meth:`assess` before confirming an order. The whole state
    is a plain value: :meth:`snapshot` / :meth:`from_snapshot`.

    Cost: :meth:`observe` is amortized O(1) per event (an automatic :meth:`refit_population`
    runs on a doubling-then-constant schedule whose cost is paid by the events in between);
    :meth:`assess` is a cached lookup plus O(log grid) arithmetic, and rebuilds a supplier's
    lead-time curve (O(grid * log of its pending orders)) at most once per state change and
    refresh bucket.
    """

    # The public interface, gathered from the layers that define it (the same functions, so
    # that the class itself lists and documents them; nothing is wrapped).
    config = _ModelCore.config
    calendar = _ModelCore.calendar
    suppliers = _ModelCore.suppliers
    register_supplier = _Learning.register_supplier
    report_stock = _Learning.report_stock
    withdraw = _Learning.withdraw
    observe = _Learning.observe
    refit_population = _PopulationFit.refit_population
    assess = _Assessing.assess

    # ------------------------------------------------------------------ persistence

    def snapshot(self) -> TrustState:
        """The whole learned state as a plain value (round-trips through the converter)."""
        pop = self._pop
        suppliers = {sid: _sup_state(sup) for sid, sup in self._sups.items()}
        population = PopulationState(
            cancel_rate=pop.mu,
            prior_strength=pop.strength,
            fitted_suppliers=pop.fitted,
            log_typical_quantity=pop.logq,
            large_orders=pop.large,
            quantity_k=pop.k,
            quantity_cells=tuple(pop.cells),
            reference_hour=pop.ref,
            lead_invoiced=tuple(pop.ls),
            lead_cancelled=tuple(pop.lc),
            lead_censored=tuple(pop.lz),
            hazard_invoice=tuple(pop.hs),
            hazard_cancel=tuple(pop.hc),
            lead_data=pop.lead_data,
            closed_time_weight=pop.theta,
            invoices_in_open_hours=pop.open_n,
            invoices_in_closed_hours=pop.closed_n,
            pending_open_hours=pop.open_x,
            pending_closed_hours=pop.closed_x,
        )
        return TrustState(
            config=self._cfg,
            population=population,
            suppliers=suppliers,
            events_observed=self._events,
            next_refit_at=self._next_refit,
            clock=self._clock,
        )

    @classmethod
    def from_snapshot(
        cls, state: TrustState, *, calendar: BusinessCalendar = DEFAULT_CALENDAR
    ) -> TrustModel:
        """Rebuild a model from :meth:`snapshot`'s value; it answers exactly as the original."""
        check_instance(state, TrustState, "state")
        model = cls(state.config, calendar=calendar)
        n_bins = model._n_bins
        ps = state.population
        arrays = (
            ps.lead_invoiced,
            ps.lead_cancelled,
            ps.lead_censored,
            ps.hazard_invoice,
            ps.hazard_cancel,
        )
        if any(len(a) != n_bins for a in arrays) or len(ps.quantity_cells) != 4 * _N_CELLS:
            msg = "state.population arrays do not match the configured lead-time grid"
            raise ValidationError(msg, field="population", value=None)
        pop = model._pop
        pop.mu = ps.cancel_rate
        pop.strength = ps.prior_strength
        pop.fitted = ps.fitted_suppliers
        pop.logq = ps.log_typical_quantity
        pop.large = ps.large_orders
        pop.k = ps.quantity_k
        pop.cells = list(ps.quantity_cells)
        pop.ref = ps.reference_hour
        pop.ls = list(ps.lead_invoiced)
        pop.lc = list(ps.lead_cancelled)
        pop.lz = list(ps.lead_censored)
        model._set_population_curve(list(ps.hazard_invoice), list(ps.hazard_cancel), ps.lead_data)
        pop.theta = ps.closed_time_weight
        model._set_theta(ps.closed_time_weight)
        pop.open_n = ps.invoices_in_open_hours
        pop.closed_n = ps.invoices_in_closed_hours
        pop.open_x = ps.pending_open_hours
        pop.closed_x = ps.pending_closed_hours
        for sid, ss in state.suppliers.items():
            sup = model._sups[sid] = _sup_from_state(ss, n_bins, model._cfg, sid)
            sup.fresh = dict(sup.pending)  # clocked and indexed by the first count
            sup.fresh_h = min([p.placed_h for p in sup.pending.values()], default=math.inf)
        model._n_pending = sum(len(s.pending) for s in model._sups.values())
        model._events = state.events_observed
        model._next_refit = state.next_refit_at
        if model._next_refit and model._next_refit <= model._events:
            model._next_refit = model._events + 1
        model._clock = state.clock
        model._clock_h = -math.inf if state.clock is None else _hours(state.clock, "clock")
        return model


def _sup_state(sup: _Sup) -> SupplierTrustState:
    return SupplierTrustState(
        signals=sup.signals,
        reference_hour=sup.ref,
        cancelled=sup.c,
        invoiced=sup.k,
        stock_outs=sup.so,
        quantity_weight=sup.qw,
        quantity_log_sum=sup.qls,
        cancels_raw=sup.cr,
        lead_invoiced=tuple(sup.ls),
        lead_cancelled=tuple(sup.lc),
        lead_censored=tuple(sup.lz),
        pending={
            oid: PendingOrderState(
                placed_at=p.placed_at,
                quantity=p.qty,
                item_id=p.item_id,
                stock_exceeded=p.exceeded,
                confirmed=p.confirmed,
            )
            for oid, p in sup.pending.items()
        },
        resolved=dict(sup.done),
        stock={item: StockReportState(stock=s, at=at) for item, (s, at, _) in sup.stock.items()},
        stock_out_hours=tuple(sup.so_hours),
        quarantined=sup.quarantined,
        clean_orders=sup.clean,
    )


def _sup_from_state(ss: SupplierTrustState, n_bins: int, cfg: TrustConfig, sid: str) -> _Sup:
    if not (len(ss.lead_invoiced) == len(ss.lead_cancelled) == len(ss.lead_censored) == n_bins):
        msg = f"state.suppliers[{sid!r}] lead arrays do not match the configured grid"
        raise ValidationError(msg, field="suppliers", value=sid)
    sup = _Sup(ss.reference_hour, n_bins)
    sup.signals = ss.signals
    sup.shift = signal_shift(ss.signals, cfg)
    sup.c = ss.cancelled
    sup.k = ss.invoiced
    sup.so = ss.stock_outs
    sup.qw = ss.quantity_weight
    sup.qls = ss.quantity_log_sum
    sup.cr = ss.cancels_raw
    sup.ls = list(ss.lead_invoiced)
    sup.lc = list(ss.lead_cancelled)
    sup.lz = list(ss.lead_censored)
    sup.lead_n = (
        1 if any(ss.lead_invoiced) or any(ss.lead_cancelled) or any(ss.lead_censored) else 0
    )
    sup.pending = {
        oid: _Pending(
            p.placed_at,
            _hours(p.placed_at, "placed_at"),
            p.quantity,
            p.item_id,
            p.stock_exceeded,
            p.confirmed,
        )
        for oid, p in ss.pending.items()
    }
    sup.done = OrderedDict(ss.resolved)
    sup.stock = {item: (r.stock, r.at, _hours(r.at, "stock.at")) for item, r in ss.stock.items()}
    sup.so_hours = list(ss.stock_out_hours)
    sup.quarantined = ss.quarantined
    sup.clean = ss.clean_orders
    return sup
