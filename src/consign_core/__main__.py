"""``python -m consign_core``: the ``consign-core`` command (see :mod:`consign_core.cli`)."""

from __future__ import annotations

from consign_core.cli import main


if __name__ == "__main__":
    raise SystemExit(main())
