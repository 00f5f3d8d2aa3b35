"""How loudly the engine reports a failed poll: a WARNING only for what a person must act on.

A poll that times out, gets a 5xx or is throttled is retried at the next run by itself; that is
an INFO line. It becomes a WARNING when it needs a person: at once for an error that retrying
will not cure (credentials refused, a request rejected, an answer the adapter cannot read), and
once per outage when the same poll has kept failing for :data:`POLL_WARN_AFTER` over at least
:data:`POLL_WARN_RUNS` runs in a row (the vendor is down, or the network is). The first
successful run after a warned outage says so at INFO.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from consign_core.errors import AdapterError, RateLimitedError, TransientError


__all__ = ["POLL_WARN_AFTER", "POLL_WARN_RUNS", "PollAlarm"]

POLL_WARN_AFTER = timedelta(hours=1)
"""A poll failing for this long (transient errors only) is worth a person's look."""

POLL_WARN_RUNS = 3
"""... provided it failed in at least this many runs in a row."""

_RETRIED_BY_ITSELF = (TransientError, RateLimitedError)


class PollAlarm:
    """Tracks the failing polls, run to run, and picks each failure's log level."""

    __slots__ = ("_failing", "_log", "_warned")

    def __init__(self, log: logging.Logger) -> None:
        self._log = log
        self._failing: dict[str, tuple[datetime, datetime, int]] = {}  # since, last, runs
        self._warned: set[str] = set()

    def failed(self, what: str, exc: AdapterError, now: datetime) -> None:
        """Poll ``what`` failed with ``exc`` in the run at ``now``: log it at its level."""
        since, last, runs = self._failing.get(what, (now, now, 0))
        runs = runs if last == now and runs else runs + 1
        self._failing[what] = (since, now, runs)
        if not isinstance(exc, _RETRIED_BY_ITSELF):
            self._log.warning(
                "polling %s failed and retrying will not fix it (check the credentials, the "
                "account's permissions or the vendor's API): %s",
                what,
                exc,
            )
            return
        if what not in self._warned and runs >= POLL_WARN_RUNS and now - since >= POLL_WARN_AFTER:
            self._warned.add(what)
            self._log.warning(
                "polling %s has failed in every run since %s (%d runs); is the vendor or the "
                "network down? last error: %s",
                what,
                since.isoformat(),
                runs,
                exc,
            )
            return
        self._log.info("polling %s failed, retrying next run: %s", what, exc)

    def settle(self, now: datetime) -> None:
        """The run at ``now`` has polled: a poll that did not fail in it works again."""
        if not self._failing:
            return
        for what, (since, last, _) in list(self._failing.items()):
            if last == now:
                continue
            del self._failing[what]
            if what in self._warned:
                self._warned.discard(what)
                self._log.info(
                    "polling %s works again (it failed from %s to %s)",
                    what,
                    since.isoformat(),
                    last.isoformat(),
                )
