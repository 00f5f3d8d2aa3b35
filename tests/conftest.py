"""Shared test configuration: the Hypothesis profile, chosen by environment.

* ``dev`` (the default outside CI): few examples, for a fast everyday loop;
* ``ci`` (when the ``CI`` environment variable is set, as CI services do): the full run;
* ``HYPOTHESIS_PROFILE`` names a profile explicitly and wins over both: ``dev``, ``ci``,
  ``default`` (the full run, as ``ci``), ``fast`` (as ``dev``) or ``stress`` (30 times the
  full run).

Tests that set ``max_examples`` themselves scale it with the profile through
:func:`tests.strategies.examples`, so the dev loop is quick and CI keeps their full count.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from hypothesis import HealthCheck, settings


FULL_EXAMPLES = 100
DEV_EXAMPLES = 10


def _register(name: str, max_examples: int, *, print_blob: bool = False) -> None:
    settings.register_profile(
        name,
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
        print_blob=print_blob,
    )


_register("ci", FULL_EXAMPLES, print_blob=True)  # a failure prints how to reproduce it
_register("default", FULL_EXAMPLES)
_register("dev", DEV_EXAMPLES)
_register("fast", DEV_EXAMPLES)
_register("stress", 30 * FULL_EXAMPLES)


def _profile_name(environ: Mapping[str, str]) -> str:
    explicit = environ.get("HYPOTHESIS_PROFILE", "").strip()
    if explicit:
        return explicit
    in_ci = environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}
    return "ci" if in_ci else "dev"


settings.load_profile(_profile_name(os.environ))
