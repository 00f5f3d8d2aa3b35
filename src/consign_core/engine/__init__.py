"""The imperative shell: ports to the outside world and the engine that drives the workflow.

- :mod:`~consign_core.engine.ports`: the :class:`typing.Protocol` ports (market, supplier
  platform, buyer messenger; the store's port lives in :mod:`consign_core.store`);
- :meth:`Engine.decisions`: an order's decision history, :class:`DecisionRecord` values
  (defined in :mod:`consign_core.domain.decisions`, re-exported here);
- :class:`Engine`: one :meth:`Engine.run_once` polls the ports, feeds the workflow, records
  every state-changing command in the store's outbox before it is sent, and sends it.
"""

from __future__ import annotations

from consign_core._exports import publish
from consign_core.domain.decisions import DecisionKind, DecisionRecord
from consign_core.engine._engine import Engine, EngineSettings, RunReport


__all__ = ["DecisionKind", "DecisionRecord", "Engine", "EngineSettings", "RunReport"]

publish(__name__, __all__)
