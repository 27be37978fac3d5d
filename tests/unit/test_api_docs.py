"""Every URL the app serves is listed in docs/api.md's table, so a reader finds each
feature by its MOR path."""

import re
from pathlib import Path

from starlette.routing import Route

from api.app import create_app
from cdrflow.settings import Settings

TABLE = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text().split(
    "## Conventions")[0]


def test_every_route_is_in_the_table() -> None:
    paths = [r.path for r in create_app(Settings()).routes if isinstance(r, Route)]
    assert len(paths) > 40
    missing = [p for p in paths if re.sub(r"/?\{[^}]+\}.*", "", p) not in TABLE]
    assert missing == []
