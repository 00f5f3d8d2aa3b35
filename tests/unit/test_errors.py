"""The error tree: library errors keep their type, message and details across processes."""

from __future__ import annotations

import pickle

import pytest

from consign_core.errors import (
    AdapterError,
    ConsignError,
    NaiveDatetimeError,
    RateLimitedError,
    SerializationError,
    ValidationError,
)


@pytest.mark.parametrize(
    "error",
    [
        NaiveDatetimeError("Scenario.start", "2025-09-01 10:00"),
        ValidationError("bad", field="quantity", value=0),
        SerializationError("cannot read X", details=("a @ $.b",)),
        RateLimitedError("slow down", adapter="coupang", status=429, retry_after=2.0),
    ],
)
def test_library_errors_survive_pickling_across_a_process_pool(error: ConsignError) -> None:
    back = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert type(back) is type(error)
    assert str(back) == str(error)
    assert vars(back) == vars(error)
    if isinstance(error, AdapterError):
        assert isinstance(back, AdapterError)
        assert back.retry_after == error.retry_after
