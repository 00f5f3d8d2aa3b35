"""The ``consign-core`` command line: ``simulate``, ``backtest``, ``rates``, ``trust``."""

from __future__ import annotations

from consign_core._exports import publish
from consign_core.cli._main import main


__all__ = ["main"]

publish(__name__, __all__)
