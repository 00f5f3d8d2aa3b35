"""The error tree: library errors keep their type, message and details across processes."""

from __future__ import annotations

import pickle

import pytest

from consign_core.errors import (
    AdapterError,
    ConfigurationError,
    ConsignError,
    DomainError,
    NaiveDatetimeError,
    PolicyError,
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
        ConfigurationError("max_workers must be >= 1", field="max_workers", value=0),
        ConfigurationError("unknown rule profile 'x'"),
        PolicyError("policy 'p' raised KeyError", policy="p", order="coupang:1"),
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


def test_configuration_error_carries_the_field_and_value_like_validation_error() -> None:
    error = ConfigurationError("policy must be a confirmation policy", field="policy", value=42)
    assert (error.field, error.value) == ("policy", 42)
    assert str(error) == "policy must be a confirmation policy"
    assert isinstance(error, DomainError)
    assert isinstance(error, ValueError)


def test_configuration_error_keeps_its_message_only_constructor() -> None:
    error = ConfigurationError("unknown rule profile 'x'; known profiles: coupang")
    assert (error.field, error.value) == (None, None)
    assert error.args == ("unknown rule profile 'x'; known profiles: coupang",)


def test_a_policy_error_is_a_configuration_error_naming_policy_and_order() -> None:
    error = PolicyError("policy 'mine' raised KeyError", policy="mine", order="coupang:7")
    assert isinstance(error, ConfigurationError)
    assert (error.policy, error.order, error.field, error.value) == (
        "mine",
        "coupang:7",
        "policy",
        "mine",
    )
