"""The exception tree of consign-core.

Every exception the library raises on purpose derives from :class:`ConsignError`, so an
embedder can catch one class at the boundary of its own code::

    ConsignError
    ├── DomainError                  bad input to the pure core
    │   ├── ValidationError          a value failed a model's validation (also a ValueError)
    │   ├── NaiveDatetimeError       a datetime without a time zone (also a ValueError)
    │   ├── SerializationError       a payload could not be (un)structured
    │   ├── ConfigurationError       an invalid profile, policy or model setting
    │   │   └── PolicyError          a confirmation policy raised or returned a non-decision
    │   ├── InvalidTransitionError   an event that an order's current state cannot take
    │   └── InsufficientHistoryError not enough data for the estimate asked for
    ├── StoreError                   the state store failed or holds an unknown schema
    └── AdapterError                 a market or supplier API call failed
        ├── AuthenticationError      401/403: bad or expired credentials
        ├── NotFoundError            404: the order or item does not exist
        ├── RateLimitedError         429: throttled; carries ``retry_after``
        ├── TransientError           5xx, timeouts, connection errors: safe to retry
        ├── RejectedError            4xx: the vendor refused the request as made
        └── UnexpectedResponseError  a reply the adapter could not parse

Messages name the field and the offending value, and never contain secrets.
"""

from __future__ import annotations

from typing import Any


__all__ = [
    "AdapterError",
    "AuthenticationError",
    "ConfigurationError",
    "ConsignError",
    "DomainError",
    "InsufficientHistoryError",
    "InvalidTransitionError",
    "NaiveDatetimeError",
    "NotFoundError",
    "PolicyError",
    "RateLimitedError",
    "RejectedError",
    "SerializationError",
    "StoreError",
    "TransientError",
    "UnexpectedResponseError",
    "ValidationError",
]


class ConsignError(Exception):
    """Root of every exception that consign-core raises on purpose.

    Every subclass pickles (to cross a process pool, e.g. in a sweep) whatever its
    ``__init__`` takes: it is rebuilt from its message and attributes, not by calling
    ``__init__`` again.
    """

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.args, self.__dict__))


def _rebuild(cls: type[ConsignError], args: tuple[Any, ...], state: dict[str, Any]) -> ConsignError:
    exc = cls.__new__(cls, *args)
    exc.args = args
    exc.__dict__.update(state)
    return exc


class DomainError(ConsignError):
    """Bad input or an impossible request to the pure core."""


class ValidationError(DomainError, ValueError):
    """A value failed a model's validation; ``field`` and ``value`` say which."""

    def __init__(self, message: str, *, field: str | None = None, value: object = None) -> None:
        super().__init__(message)
        self.field = field
        self.value = value


class NaiveDatetimeError(ValidationError):
    """A datetime without a time zone was given where an aware one is required."""

    def __init__(self, argument: str, value: object) -> None:
        super().__init__(
            f"{argument} must be a timezone-aware datetime, got naive {value!r}",
            field=argument,
            value=value,
        )


class SerializationError(DomainError, ValueError):
    """A payload could not be structured into (or unstructured from) a model."""

    def __init__(self, message: str, *, details: tuple[str, ...] = ()) -> None:
        text = message if not details else message + ": " + "; ".join(details)
        super().__init__(text)
        self.details = details


class ConfigurationError(DomainError, ValueError):
    """A rule profile, policy or model setting is invalid; ``field`` and ``value`` say which.

    ``field`` is the setting as a person writes it (``"policy"``, ``"max_workers"``,
    ``"policies[0]"``) and ``value`` the offending value; both are ``None`` when the message
    alone says it (``ConfigurationError(message)`` keeps working).
    """

    def __init__(self, message: str, *, field: str | None = None, value: object = None) -> None:
        super().__init__(message)
        self.field = field
        self.value = value


class PolicyError(ConfigurationError):
    """A confirmation-timing policy raised, or returned something that is not a decision.

    ``policy`` is the policy's name and ``order`` the order it was deciding (its reference,
    e.g. ``"coupang:O1"``; never the buyer's details). ``field`` is ``"policy"`` and
    ``value`` the policy's name. The workflow escalates the order with this message as the
    reason, and the run goes on.
    """

    def __init__(self, message: str, *, policy: str, order: str) -> None:
        super().__init__(message, field="policy", value=policy)
        self.policy = policy
        self.order = order


class InvalidTransitionError(DomainError):
    """An event arrived that the order's current workflow state cannot accept."""


class InsufficientHistoryError(DomainError):
    """There is not enough history for the estimate that was asked for."""


class StoreError(ConsignError):
    """The state store failed, or holds a schema this version cannot read."""


class AdapterError(ConsignError):
    """A call to a market or supplier API failed.

    Carries what the vendor told us: the HTTP ``status``, the vendor's own error
    ``vendor_code``, the ``request_id`` to quote to their support, and ``retry_after``
    in seconds when the vendor asked us to wait. Credentials never appear here.
    """

    def __init__(
        self,
        message: str,
        *,
        adapter: str = "",
        status: int | None = None,
        vendor_code: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        prefix = f"[{adapter}] " if adapter else ""
        suffix = f" (request {request_id})" if request_id else ""
        super().__init__(f"{prefix}{message}{suffix}")
        self.adapter = adapter
        self.status = status
        self.vendor_code = vendor_code
        self.request_id = request_id
        self.retry_after = retry_after


class AuthenticationError(AdapterError):
    """The vendor rejected the credentials (HTTP 401 or 403)."""


class NotFoundError(AdapterError):
    """The vendor has no such order, item or resource (HTTP 404)."""


class RateLimitedError(AdapterError):
    """The vendor throttled the call (HTTP 429); wait ``retry_after`` seconds."""


class TransientError(AdapterError):
    """A timeout, connection error or 5xx reply: the call may succeed if retried."""


class RejectedError(AdapterError):
    """The vendor refused the request as made (a 4xx other than 401/403/404/429)."""


class UnexpectedResponseError(AdapterError):
    """The vendor replied with something the adapter could not parse."""
