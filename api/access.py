"""Who may call an API method: the rules, in MOR's order, and what the caller may see.

Every `/billing/api/` method calls `api_caller` first, then `can_see` for each user whose
data it shows and `can_change` for each user whose data it changes.
(mor-api-overview.txt; docs/access.md)
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache

from api.context import ApiContext
from api.errors import ApiError, ErrorKind
from api.hash import expected_hashes, hash_matches
from api.params import Params, id_param
from projections.permission_groups import permission_group
from projections.queries import User, user_by_id

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# roles a permission group restricts (MOR: admins and resellers never are)
_ID = re.compile(r"[0-9]{1,20}")
RESTRICTED_ROLES = frozenset({"user", "accountant"})


async def api_caller(context: ApiContext, params: Params, method: str,
                     hashed: Sequence[str], *, write: bool = False,
                     client_ip: str | None = None,
                     extra_hashes: Sequence[str] | Callable[[User], Sequence[str]] = (),
                     unknown: ErrorKind = ErrorKind.ACCESS_DENIED) -> User:
    """The user calling `method` with `params`, once every rule lets them; raises ApiError.

    `method` is the method's canonical name (the one permission groups list), `hashed`
    its hashed parameters in documented order, `write` says the call changes data
    (permission groups grant read and write apart), `client_ip` is the TCP peer's
    address (`request.client.host`; None when unknown), `extra_hashes` more hashes the
    method accepts besides the rule's (active_calls_get: one over `u`; or a function of the
    caller, for hashes that depend on who calls), `unknown` the
    refusal of a missing or unknown `u` (`Access Denied`; some methods say otherwise)."""
    settings = context.settings
    api_gate(context, client_ip)
    username = params.get("u")
    reader = context.read()
    caller = await context.blocking(reader.user_by_username, username) if username else None
    if caller is None:
        raise ApiError(unknown)
    if not settings.disable_hash_check:
        extra = extra_hashes(caller) if callable(extra_hashes) else extra_hashes
        candidates = [*expected_hashes(params.values, params.order, hashed, settings.api_secret),
                      *extra]
        if not hash_matches(params.values.get("hash"), candidates):
            raise ApiError(ErrorKind.INCORRECT_HASH)
    if caller.role in RESTRICTED_ROLES and caller.api_group:
        group = await context.query(permission_group, caller.api_group)
        level = group.level(method) if group is not None else "disabled"
        if level == "disabled" or (write and level != "write"):
            raise ApiError(ErrorKind.NOT_AUTHORIZED)
    return caller


def api_gate(context: ApiContext, client_ip: str | None) -> None:
    """The rules before the caller is known: "Allow API globally" and the IP allow-list
    (also for logging in, which has no hash)."""
    settings = context.settings
    if not settings.allow_api:
        raise ApiError(ErrorKind.API_DISABLED)
    if settings.api_ip_restrict and not ip_allowed(client_ip, settings.api_allowed_ips):
        raise ApiError(ErrorKind.ACCESS_DENIED)


def can_see(caller: User, target: User) -> bool:
    """Whether `caller` may see `target`'s data."""
    if caller.role in ("admin", "accountant"):  # accountants read every user's data
        return True
    if caller.role == "reseller":
        return target.user_id == caller.user_id or target.owner_id == caller.user_id
    if caller.role == "user":
        return target.user_id == caller.user_id
    return False


def can_change(caller: User, target: User) -> bool:
    """Whether `caller` may change `target`'s data: as `can_see`, but never an accountant
    (for the methods whose changes MOR keeps from accountants)."""
    return caller.role != "accountant" and can_see(caller, target)


async def page_owner(context: ApiContext, user: User, user_id: int,
                     may: Callable[[User, User], bool] = can_see) -> User:
    """The user whose page `user` asks for by id, if `may(user, owner)` (`can_see` to
    read, `can_change` to write); else ApiError `User was not found`, whether the user is
    unknown or only not visible."""
    if user_id == user.user_id:
        return user
    owner = await context.query(user_by_id, user_id)
    if owner is None or not may(user, owner):
        raise ApiError(ErrorKind.USER_NOT_FOUND)
    return owner


async def page_owner_param(context: ApiContext, user: User, params: Params,
                           may: Callable[[User, User], bool] = can_see) -> User:
    """`page_owner` of the `userid` form field: the logged-in user when absent; not an
    integer of UInt64: ApiError `Invalid parameter: userid`."""
    user_id = id_param(params, "userid")
    if user_id is None:
        return user
    return await page_owner(context, user, user_id, may)



@lru_cache(maxsize=16)
def allowed_networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    """`settings.api_allowed_ips` parsed: single IPv4/IPv6 addresses or CIDR networks
    (host bits set are accepted: 10.1.2.3/8 is 10.0.0.0/8). Raises ValueError naming an
    invalid entry; `create_app` calls it so that a bad setting stops the app at start."""
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(f"CDRFLOW_API_ALLOWED_IPS: {entry!r} is not an IP address "
                             "or CIDR network") from None
    return tuple(networks)


def ip_allowed(client_ip: str | None, entries: Iterable[str]) -> bool:
    """Whether the client address lies in one of the allowed networks. An unknown or
    unparsable client address (a Unix socket, a test client) is never allowed. An
    IPv4-mapped IPv6 address (::ffff:10.0.0.1) counts as its IPv4 address."""
    if not client_ip:
        return False
    try:
        address = ipaddress.ip_address(client_ip.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in network for network in allowed_networks(tuple(entries)))
