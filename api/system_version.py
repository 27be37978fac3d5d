"""system_version_get (alias get_version): the software's version, for any API user.

No hashed parameters (hash = SHA1 of the secret). Newer MOR answers `Access Denied` for
every failure (API disabled, unknown user, wrong hash), and so does cdrflow. The version
is cdrflow's own, `cdrflow <package version>`: cdrflow does not pretend to be a MOR
release (docs/api.md, "system_version_get").
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from api.errors import ErrorKind
from api.methods import Envelope, MethodCall, MorMethod
from api.xml import Node, render


def software_version() -> str:
    try:
        return f"cdrflow {version('cdrflow')}"
    except PackageNotFoundError:  # pragma: no cover - run from a tree without metadata
        return "cdrflow"


async def system_version_get(call: MethodCall) -> str:
    return render(Node("page", [Node("version", software_version())]))


METHODS: list[MorMethod] = [
    MorMethod("system_version_get", system_version_get, aliases=("get_version",),
              envelope=Envelope.PAGE, uniform_error=ErrorKind.ACCESS_DENIED),
]
