"""Who may call an API method: the caller, the hash, and what the caller may see.

Every `/billing/api/` method calls `api_caller` first and `can_see` for each user whose
data it shows or changes. (mor-api-overview.txt; docs/access.md)
"""

from __future__ import annotations

from collections.abc import Sequence

from api.context import ApiContext
from api.errors import ApiError, ErrorKind
from api.hash import expected_hashes, hash_matches
from api.params import Params
from projections.queries import User, user_by_username


async def api_caller(context: ApiContext, params: Params, method: str,
                     hashed: Sequence[str], *, write: bool = False) -> User:
    """The user calling `method` with `params`, once every rule lets them; raises ApiError.

    `hashed` lists the method's hashed parameters in documented order; `write` says the
    call changes data (permission groups grant read and write apart)."""
    settings = context.settings
    username = params.get("u")
    caller = await context.query(user_by_username, username) if username else None
    if caller is None:
        raise ApiError(ErrorKind.ACCESS_DENIED)
    if not settings.disable_hash_check:
        candidates = expected_hashes(params.values, params.order, hashed, settings.api_secret)
        if not hash_matches(params.values.get("hash"), candidates):
            raise ApiError(ErrorKind.INCORRECT_HASH)
    return caller


def can_see(caller: User, target: User) -> bool:
    """Whether `caller` may see (and, where the method allows, change) `target`'s data."""
    if caller.role == "admin":
        return True
    if caller.role == "reseller":
        return target.user_id == caller.user_id or target.owner_id == caller.user_id
    if caller.role == "user":
        return target.user_id == caller.user_id
    return False
