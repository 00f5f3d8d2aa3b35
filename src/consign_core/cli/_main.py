"""The ``consign-core`` command (also ``python -m consign_core``).

Subcommands:

- ``simulate``: compare confirmation policies on a simulated seller (``docs/simulate.md``);
- ``backtest FILE.csv``: replay a log of real orders under each policy, and score the trust
  model's online predictions (``docs/backtest.md``);
- ``rates FILE.csv --market M``: the cancel-rate / penalty report of the log, with headroom;
- ``trust FILE.csv``: the suppliers of the log with their tier, risk and time to tracking;
- ``scenarios``: the built-in simulation scenarios;
- ``decisions --store FILE ORDER``: one order's decision history, read from the engine's
  SQLite store (``docs/tutorial.md``).

Every subcommand prints a table, or with ``--json`` the documented JSON document on stdout.
Tables are aligned by display width (Korean names take two columns a syllable); on a terminal
they are styled, piped they are plain text. Runs over a few seconds show a progress bar on
stderr when it is a terminal (nothing when it is not, or with ``--quiet``). Bad arguments or
files exit with code 2 and a one-line message on stderr (CSV errors name the line and the
field).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from consign_core.cli._args import _PROG, _build_parser, _UsageError
from consign_core.cli._decisions import _decisions
from consign_core.cli._logs import _backtest, _rates, _trust
from consign_core.cli._simulate import _scenarios, _simulate
from consign_core.errors import ConsignError


__all__ = ["main"]


_COMMANDS: dict[str, Callable[[argparse.Namespace, TextIO, TextIO], int]] = {
    "simulate": _simulate,
    "backtest": _backtest,
    "rates": _rates,
    "trust": _trust,
    "scenarios": _scenarios,
    "decisions": _decisions,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``consign-core`` command with ``argv`` (default ``sys.argv[1:]``).

    Returns the exit code: 0 on success, 2 for bad arguments or files (with a one-line message
    on stderr).
    """
    out, err = sys.stdout, sys.stderr
    parser = _build_parser()
    try:
        try:
            args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
        except SystemExit as exc:  # --help / --version
            return int(exc.code or 0) if not isinstance(exc.code, str) else 2
        return _COMMANDS[args.command](args, out, err)
    except _UsageError as exc:
        text = _one_line(str(exc))
        if not text.startswith(_PROG):
            text = f"{_PROG}: error: {text}"
        err.write(f"{text}\n")
        return 2
    except ConsignError as exc:
        err.write(f"{_PROG}: error: {_one_line(str(exc))}\n")
        return 2
    except KeyboardInterrupt:
        err.write(f"{_PROG}: interrupted\n")
        return 130
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


def _one_line(text: str) -> str:
    return " ".join(text.split())
