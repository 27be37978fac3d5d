"""The services and subscriptions tables: rows from their events, and their reads."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from clickhouse_driver import Client

from projections.scope import scope_conditions
from streams.subscription_events import Service, Subscription

SERVICES = "services"
SERVICE_COLUMNS = ("service_id", "name", "price", "currency", "version")
SUBSCRIPTIONS = "subscriptions"
SUBSCRIPTION_COLUMNS = ("subscription_id", "user_id", "service_id", "added_ms",
                        "activation_start_ms", "activation_end_ms", "version")


def service_rows(service: Service, version: int) -> Iterator[tuple[str, tuple[Any, ...]]]:
    yield SERVICES, (service.service_id, service.name, service.price, service.currency,
                     version)


def subscription_rows(subscription: Subscription,
                      version: int) -> Iterator[tuple[str, tuple[Any, ...]]]:
    yield SUBSCRIPTIONS, (subscription.subscription_id, subscription.user_id,
                          subscription.service_id, subscription.added_ms,
                          subscription.activation_start_ms, subscription.activation_end_ms,
                          version)


@dataclass(frozen=True, slots=True)
class UserSubscription:
    subscription: Subscription
    service: Service | None  # None: no service_created for its service_id (yet)


def subscriptions(client: Client, user_id: int) -> list[Subscription]:
    """A user's subscriptions in the order they were added."""
    found = client.execute(
        f"SELECT {', '.join(SUBSCRIPTION_COLUMNS[:-1])} FROM {SUBSCRIPTIONS} FINAL "
        "WHERE user_id = %(user_id)s ORDER BY added_ms, subscription_id",
        {"user_id": user_id},
    )
    return [Subscription(*map(int, row)) for row in found]


def services(client: Client, service_ids: Iterable[int]) -> dict[int, Service]:
    wanted = tuple(sorted(set(service_ids)))
    if not wanted:
        return {}
    found = client.execute(
        f"SELECT {', '.join(SERVICE_COLUMNS[:-1])} FROM {SERVICES} FINAL "
        "WHERE service_id IN %(ids)s",
        {"ids": wanted},
    )
    return {int(row[0]): Service(int(row[0]), str(row[1]), Decimal(row[2]), str(row[3]))
            for row in found}


def user_subscriptions(client: Client, user_id: int) -> list[UserSubscription]:
    """A user's subscriptions with their services, in the order they were added."""
    found = subscriptions(client, user_id)
    known = services(client, (s.service_id for s in found))
    return [UserSubscription(s, known.get(s.service_id)) for s in found]


def subscription_list(client: Client, *, owner_id: int | None = None,
                      user_id: int | None = None) -> list[UserSubscription]:
    """The subscriptions of every user (subscriptions_get), by user then as added;
    `owner_id`: only that user's and the users it owns; `user_id`: only that user's."""
    scope, params = scope_conditions(owner_id, user_id)
    conditions = ["1", *scope]
    found = client.execute(
        f"SELECT {', '.join(SUBSCRIPTION_COLUMNS[:-1])} FROM {SUBSCRIPTIONS} FINAL "
        f"WHERE {' AND '.join(conditions)} ORDER BY user_id, added_ms, subscription_id",
        params,
    )
    listed = [Subscription(*map(int, row)) for row in found]
    known = services(client, (s.service_id for s in listed))
    return [UserSubscription(s, known.get(s.service_id)) for s in listed]
