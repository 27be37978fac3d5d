"""Service and subscription events (docs/invoices.md).

A service is a flat monthly charge (`service_created`, keyed "0": services belong to no
user); a subscription puts a user on a service for an activation period
(`subscription_added`, keyed by the user). Neither is edited in place: publishing the
event again with the same id replaces the record (the projections keep the last one),
which is how a price changes or a subscription gets its end; a redelivered event
changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from rating.fields import integer, money, text

SERVICE_CREATED = "service_created"
SUBSCRIPTION_ADDED = "subscription_added"
SERVICE_KEY = 0  # the account-events key of service events
MAX_NAME = 200
MAX_PRICE = Decimal(10) ** 12  # the price columns are Decimal(18, 6)
PRICE_DECIMALS = 6
_CURRENCY = re.compile(r"[A-Z]{3}")


@dataclass(frozen=True, slots=True)
class Service:
    service_id: int
    name: str
    price: Decimal  # per month, VAT excluded
    currency: str  # ISO 4217


@dataclass(frozen=True, slots=True)
class Subscription:
    subscription_id: int
    user_id: int
    service_id: int
    added_ms: int
    activation_start_ms: int
    activation_end_ms: int  # exclusive; 0: open-ended

    def active_between(self, start_ms: int, end_ms: int) -> bool:
        """Whether the subscription is active at some moment of [start_ms, end_ms)."""
        return self.activation_start_ms < end_ms and (
            self.activation_end_ms == 0 or self.activation_end_ms > start_ms)


def service_created(event: dict[str, Any]) -> Service:
    service = Service(integer(event, "service_id"), text(event, "name").strip(),
                      money(event, "price"), text(event, "currency"))
    problem = _service_problem(service)
    if problem is not None:
        raise ValueError(f"{SERVICE_CREATED}: {problem}")
    return service


def subscription_added(event: dict[str, Any]) -> Subscription:
    subscription = Subscription(
        integer(event, "subscription_id"), integer(event, "user_id"),
        integer(event, "service_id"), integer(event, "added_ms"),
        integer(event, "activation_start_ms"), integer(event, "activation_end_ms", 0))
    problem = _subscription_problem(subscription)
    if problem is not None:
        raise ValueError(f"{SUBSCRIPTION_ADDED}: {problem}")
    return subscription


def _service_problem(service: Service) -> str | None:
    if service.service_id == 0:
        return "service_id must not be 0"
    if not service.name or len(service.name) > MAX_NAME:
        return f"name must be 1 to {MAX_NAME} characters"
    if service.price < 0 or service.price >= MAX_PRICE or (
            decimals(service.price) > PRICE_DECIMALS):
        return (f"price must be from 0 to below {MAX_PRICE} with at most "
                f"{PRICE_DECIMALS} decimals, got {service.price}")
    if not _CURRENCY.fullmatch(service.currency):
        return f"currency must be an ISO 4217 code like USD, got {service.currency!r}"
    return None


def _subscription_problem(subscription: Subscription) -> str | None:
    if subscription.subscription_id == 0 or subscription.service_id == 0:
        return "subscription_id and service_id must not be 0"
    if subscription.activation_start_ms == 0:
        return "activation_start_ms must be a moment after 1970"
    end = subscription.activation_end_ms
    if end != 0 and end <= subscription.activation_start_ms:
        return "activation_end_ms must be after activation_start_ms (or 0: open-ended)"
    return None


def decimals(value: Decimal) -> int:
    """How many decimals a value needs: Decimal("1.50") -> 1."""
    exponent = value.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


PARSERS = {SERVICE_CREATED: service_created, SUBSCRIPTION_ADDED: subscription_added}
