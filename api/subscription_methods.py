"""subscriptions_get (MOR X5): the service subscriptions the caller may see (docs/api.md;
the events in docs/invoices.md)."""

from __future__ import annotations

from api.errors import ApiError, ErrorKind
from api.methods import Envelope, MethodCall, MorMethod
from api.payment_methods import scope
from api.user_calls import user_zone
from api.xml import Node, moment_ms, money, render
from projections.queries import User
from projections.subscriptions import UserSubscription, subscription_list

TYPE = "periodic"  # the one kind of service cdrflow has: a flat monthly charge


async def subscriptions_get(call: MethodCall) -> str:
    owner_id, user_id = scope(call.caller)
    wanted = call.identifier("user_id")
    if wanted is not None:
        if user_id is not None and wanted != user_id:
            raise ApiError(ErrorKind.NO_SUBSCRIPTIONS)
        user_id = wanted
    found = await call.context.query(subscription_list, owner_id=owner_id, user_id=user_id)
    if not found:
        raise ApiError(ErrorKind.NO_SUBSCRIPTIONS)
    users = await call.context.blocking(call.context.read().users_by_ids,
                                        {s.subscription.user_id for s in found})
    return render(Node("page", [Node("subscriptions", [
        _node(listed, users.get(listed.subscription.user_id)) for listed in found])]))


def _node(listed: UserSubscription, user: User | None) -> Node:
    subscription, service = listed.subscription, listed.service
    zone = user_zone(user.timezone if user else "")
    end = subscription.activation_end_ms
    return Node("subscription", [
        Node("id", str(subscription.subscription_id)),
        Node("user", user.nice_name if user else ""),
        Node("device", ""),
        Node("service", service.name if service else ""),
        Node("from", moment_ms(subscription.activation_start_ms, zone)),
        Node("till", moment_ms(end, zone) if end else ""),
        Node("time_left", ""),
        Node("memo", ""),
        Node("type", TYPE),
        Node("price", money(service.price) if service else ""),
        Node("user_id", str(subscription.user_id)),
    ])


METHODS: list[MorMethod] = [
    MorMethod("subscriptions_get", subscriptions_get, hashed=("user_id",),
              envelope=Envelope.PAGE_STATUS),
]
