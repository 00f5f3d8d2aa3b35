"""Shared test configuration: Hypothesis profiles."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings


settings.register_profile(
    "default", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=100
)
settings.register_profile(
    "ci", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=100
)
settings.register_profile(
    "fast", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=10
)
settings.register_profile(
    "stress", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=3000
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
