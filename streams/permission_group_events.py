"""API permission group events: a group's whole method list is set at once (MOR's "MOR API
Permission Groups"). Published with key "0", so every group's events keep their order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rating.fields import text

SET = "api_permission_group_set"
LEVELS = ("disabled", "read", "write")  # MOR's Disabled(0) / Read(1) / Write(2)
MAX_NAME = 100


@dataclass(frozen=True, slots=True)
class PermissionGroup:
    name: str
    methods: tuple[tuple[str, str], ...]  # (method, level), sorted by method

    def level(self, method: str) -> str:
        """The group's level for `method`; "disabled" when the group does not list it."""
        return dict(self.methods).get(method, "disabled")


def group_set(event: dict[str, Any]) -> PermissionGroup:
    name = text(event, "group").strip()
    if not name or len(name) > MAX_NAME:
        raise ValueError(f"{SET}: group must be 1 to {MAX_NAME} characters")
    methods = event.get("methods")
    if not isinstance(methods, dict):
        raise ValueError(f"{SET}: methods must be an object of method -> level")
    for method, level in methods.items():
        if not method or level not in LEVELS:
            raise ValueError(f"{SET}: method {method!r} must have a level among "
                             f"{', '.join(LEVELS)}")
    return PermissionGroup(name, tuple(sorted(methods.items())))


PARSERS = {SET: group_set}
