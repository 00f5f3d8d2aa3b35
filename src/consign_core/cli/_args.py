"""Argument parsing for the ``consign-core`` command: the parser, its types and usage errors."""

from __future__ import annotations

import argparse
import re
from datetime import date, datetime, timedelta, timezone
from typing import NoReturn


_PROG = "consign-core"


class _UsageError(Exception):
    """A bad argument or file: exit code 2 with a one-line message."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (raised, not printed and exited)."""

    def error(self, message: str) -> NoReturn:
        text = f"{self.prog}: error: {message}"
        raise _UsageError(text)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        msg = f"expected a whole number, got {text!r}"
        raise argparse.ArgumentTypeError(msg) from None
    if value < 1:
        msg = f"expected a number >= 1, got {value}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        msg = f"expected a whole number, got {text!r}"
        raise argparse.ArgumentTypeError(msg) from None


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        msg = f"expected a number in 0..1, got {text!r}"
        raise argparse.ArgumentTypeError(msg) from None
    if not 0.0 <= value <= 1.0:
        msg = f"expected a number in 0..1, got {text}"
        raise argparse.ArgumentTypeError(msg)
    return value


_DATE_ONLY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _instant(text: str) -> datetime | date:
    """An aware time, or a date alone (the caller makes it the end of that day)."""
    value = text.strip()
    if _DATE_ONLY.fullmatch(value) is not None:
        try:
            return date.fromisoformat(value)
        except ValueError:
            msg = f"expected a date such as 2025-09-29, got '{text}'"
            raise argparse.ArgumentTypeError(msg) from None
    value = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        msg = (
            "expected an ISO 8601 time such as 2025-09-29T10:00:00+09:00 or a date such as "
            f"2025-09-29, got '{text}'"
        )
        raise argparse.ArgumentTypeError(msg) from None
    if parsed.utcoffset() is None:
        hint = parsed.replace(tzinfo=timezone(timedelta(hours=9))).isoformat()
        msg = f"the time '{text}' needs a UTC offset, e.g. {hint}"
        raise argparse.ArgumentTypeError(msg)
    return parsed


def _country(text: str) -> str:
    """A country code of the ``holidays`` package (``KR``, ``BR`` ...), upper-cased."""
    import holidays

    code = text.strip().upper()
    if code not in holidays.list_supported_countries():
        msg = f"expected a country code of the holidays package such as KR or BR, got '{text}'"
        raise argparse.ArgumentTypeError(msg)
    return code


_AT_HELP = (
    "at this time (default: the log's last time); a date alone means the end of that day "
    "in the log's zone"
)


def _log_options(parser: argparse.ArgumentParser) -> None:
    """The options every command that reads an order log has."""
    parser.add_argument(
        "--on-bad-rows",
        choices=["error", "skip"],
        default="error",
        help="a bad row stops the command (error, the default) or is reported on stderr and "
        "left out (skip)",
    )
    parser.add_argument(
        "--calendar",
        type=_country,
        default="KR",
        metavar="CC",
        help="the country whose business days count, a country code of the holidays package "
        "(default KR)",
    )


def _build_parser() -> _Parser:
    from consign_core.domain.rules import builtin_profiles
    from consign_core.domain.timing import policy_names
    from consign_core.lab.backtest import AS_LOGGED
    from consign_core.lab.sim import DEFAULT_ORDERS, scenario_names

    markets = sorted(builtin_profiles())
    policies = list(policy_names())
    parser = _Parser(
        prog=_PROG,
        description=(
            "The policy lab of consign-core: see what each order-confirmation (발주확인) policy "
            "would have done before trusting it with your account."
        ),
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    sim = sub.add_parser(
        "simulate",
        help="compare policies on a simulated seller",
        description="Compare confirmation policies on a seeded, simulated seller.",
    )
    sim.add_argument(
        "--scenario", default="default", choices=scenario_names(), help="built-in scenario"
    )
    sim.add_argument(
        "--orders",
        type=_positive_int,
        default=DEFAULT_ORDERS,
        help=f"orders per run (default {DEFAULT_ORDERS:,})",
    )
    seeds = sim.add_mutually_exclusive_group()
    seeds.add_argument(
        "--seed", type=_int, action="append", help="a seed (repeat for several; default 0)"
    )
    seeds.add_argument("--seeds", type=_positive_int, help="run seeds 0..N-1")
    sim.add_argument(
        "--policy",
        action="append",
        choices=policies,
        help="a policy to compare (repeat; default: all four)",
    )
    sim.add_argument("--market", choices=markets, help="override the scenario's market")
    sim.add_argument(
        "--suppliers", type=_positive_int, help="override the scenario's number of suppliers"
    )
    sim.add_argument(
        "--alternate-share",
        type=_share,
        metavar="X",
        help="override the share of SKUs with an alternate supplier (0..1)",
    )
    sim.add_argument(
        "--jobs",
        type=_positive_int,
        default=1,
        help="run policies and seeds in this many processes (default 1)",
    )
    sim.add_argument("--json", action="store_true", help="print the JSON document")
    sim.add_argument(
        "--plot",
        metavar="FILE.png",
        help="draw seller-fault cancel rate against time to confirmation (needs matplotlib)",
    )
    sim.add_argument("--quiet", action="store_true", help="no progress on stderr")

    bt = sub.add_parser(
        "backtest",
        help="replay a log of real orders under each policy",
        description="Replay an order-log CSV under each policy and score the trust model.",
    )
    bt.add_argument("file", metavar="FILE.csv", help="the order log")
    bt.add_argument(
        "--policy",
        action="append",
        choices=[*policies, AS_LOGGED],
        help=(
            f"a policy (repeat; default: all four); {AS_LOGGED} confirms when the log says the "
            "seller did and reproduces the log's own history"
        ),
    )
    bt.add_argument(
        "--market", choices=markets, help="the market's rules (default: the log's market)"
    )
    bt.add_argument(
        "--seed", type=_int, default=0, help="seed of the extra buyer cancels (default 0)"
    )
    bt.add_argument(
        "--no-extra-buyer-cancels",
        action="store_true",
        help="replay only the logged buyer cancels (no buyer model for longer waits)",
    )
    bt.add_argument("--json", action="store_true", help="print the JSON document")
    bt.add_argument("--quiet", action="store_true", help="no progress on stderr")
    _log_options(bt)

    rates = sub.add_parser(
        "rates",
        help="the cancel-rate / penalty report of an order log",
        description="The cancel-rate and penalty report of an order log, with headroom.",
    )
    rates.add_argument("file", metavar="FILE.csv", help="the order log")
    rates.add_argument("--market", required=True, choices=markets, help="the market's rules")
    rates.add_argument("--at", type=_instant, help=f"report {_AT_HELP}")
    rates.add_argument("--json", action="store_true", help="print the JSON document")
    _log_options(rates)

    trust = sub.add_parser(
        "trust",
        help="the suppliers of an order log, by risk",
        description="Suppliers of an order log with tier, cancel risk and time to tracking.",
    )
    trust.add_argument("file", metavar="FILE.csv", help="the order log")
    trust.add_argument("--at", type=_instant, help=f"assess {_AT_HELP}")
    trust.add_argument("--json", action="store_true", help="print the JSON document")
    _log_options(trust)

    sub.add_parser(
        "scenarios",
        help="list the built-in simulation scenarios",
        description="List the built-in simulation scenarios.",
    )

    dec = sub.add_parser(
        "decisions",
        help="one order's decision history, from the engine's store file",
        description=(
            "What the engine decided about one order (confirm now, wait, escalate, a "
            "person's decision), when, why and on which numbers, oldest first."
        ),
    )
    dec.add_argument("--store", required=True, metavar="FILE", help="the SQLite store file")
    dec.add_argument(
        "order", metavar="ORDER", help="the order as the engine prints it, e.g. coupang:123-456"
    )
    dec.add_argument("--json", action="store_true", help="print the JSON document")
    return parser
