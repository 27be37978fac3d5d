"""An in-memory stand-in for api.context.Reader's user reads, for the API's unit tests;
each test module adds the `query` answers it needs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from projections.queries import Call, CallFilter, User


class UsersReader:
    """The users of `users` (by id); no calls."""

    def __init__(self, users: Mapping[int, User]) -> None:
        self.users = users

    def user_by_username(self, username: str) -> User | None:
        return next((u for u in self.users.values() if u.username == username), None)

    def user_by_id(self, user_id: int) -> User | None:
        return self.users.get(user_id)

    def users_by_ids(self, user_ids: Iterable[int]) -> dict[int, User]:
        return {i: self.users[i] for i in user_ids if i in self.users}

    def calls(self, where: CallFilter) -> list[Call]:
        return []
