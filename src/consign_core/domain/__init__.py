"""The pure core: domain values, rules and decisions. No I/O, no clock reads, no randomness.

Every function here takes ``now`` (an aware datetime) and, where it draws, an ``rng`` as
arguments. Nothing in this package imports the engine, the stores, the policy lab, the
adapters or an HTTP library (an import-linter contract checks it in CI).

- :mod:`~consign_core.domain.model`, :mod:`~consign_core.domain.events`: orders, lines,
  suppliers, tracking, cancellations and the lifecycle events;
- :mod:`~consign_core.domain.calendar`: KST and Korean business days;
- :mod:`~consign_core.domain.rules`, :mod:`~consign_core.domain.cancel_rate`: market rule
  profiles as data and the seller-fault cancel-rate ledger;
- :mod:`~consign_core.domain.trust`: the supplier trust model;
- :mod:`~consign_core.domain.timing`: confirmation-timing policies;
- :mod:`~consign_core.domain.workflow`: one order's state machine;
- :mod:`~consign_core.domain.serialization`: the converter for the domain's own JSON.
"""

__all__: list[str] = []
