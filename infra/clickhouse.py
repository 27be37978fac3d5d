"""ClickHouse as a plain process: the `clickhouse-server` binary with a rendered config.

The binary is the Debian package's (18.16 here; installed with apt-get when missing) or an
official `clickhouse`, started with the rendered infra/clickhouse/config.xml. Native port
from settings.clickhouse, HTTP port = native port - 877 (19000 -> 18123, like 9000 -> 8123).
The server is ready when `SELECT 1` over HTTP returns 1.
"""

from __future__ import annotations

import os
import shutil
import urllib.error
import urllib.request

from cdrflow.settings import Settings
from infra import lifecycle, process
from infra.lifecycle import (
    INFRA_DIR,
    START_TIMEOUT_S,
    Echo,
    ServiceError,
    ServiceStatus,
    echo_stderr,
    render_template,
)

#: ClickHouse HTTP port = native port + this offset (9000 -> 8123, 19000 -> 18123).
CLICKHOUSE_HTTP_PORT_OFFSET = 8123 - 9000
#: The HTTP port for the default native port 19000.
CLICKHOUSE_HTTP_PORT = 19000 + CLICKHOUSE_HTTP_PORT_OFFSET
CLICKHOUSE_STOP_TIMEOUT_S = 30.0
CLICKHOUSE_APT_PACKAGES: tuple[str, ...] = ("clickhouse-server", "clickhouse-client")


def clickhouse_http_port(settings: Settings) -> int:
    port = settings.clickhouse.port + CLICKHOUSE_HTTP_PORT_OFFSET
    if port <= 0:
        raise ValueError(f"ClickHouse native port {settings.clickhouse.port} is too low")
    return port


def clickhouse_config_xml(settings: Settings) -> str:
    template = (INFRA_DIR / "clickhouse" / "config.xml").read_text()
    return render_template(
        template,
        {
            "root": settings.data_dir / "clickhouse",
            "host": process.bind_host(settings.clickhouse.host),
            "tcp_port": settings.clickhouse.port,
            "http_port": clickhouse_http_port(settings),
        },
    )


def clickhouse_answers(host: str, http_port: int, timeout: float = 2.0) -> bool:
    """True when `SELECT 1` over ClickHouse's HTTP interface returns 1."""
    url = f"http://{host}:{http_port}/?query=SELECT%201"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # ignore *_proxy
    try:
        with opener.open(url, timeout=timeout) as response:
            body: bytes = response.read()
    except (OSError, urllib.error.URLError, ValueError):
        return False
    return body.strip() == b"1"


# --------------------------------------------------------------------------- installing


def clickhouse_server_command() -> list[str] | None:
    """How to run the server here: `clickhouse-server` (Debian) or `clickhouse server`."""
    for name, extra in (("clickhouse-server", []), ("clickhouse", ["server"])):
        found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/usr/local/bin")
        if found:
            return [found, *extra]
    return None


def install_clickhouse(echo: Echo = echo_stderr) -> list[str]:
    """apt-get install the server (root only); returns the command to run it."""
    apt = shutil.which("apt-get")
    if apt is None:
        raise ServiceError(
            "clickhouse: `clickhouse-server` is not installed and there is no apt-get; "
            "install ClickHouse (https://clickhouse.com/docs/install) or use "
            "infra/docker-compose.yml"
        )
    packages = " ".join(CLICKHOUSE_APT_PACKAGES)
    if os.geteuid() != 0:
        raise ServiceError(
            "clickhouse: `clickhouse-server` is not installed; install it with: "
            f"sudo apt-get update && sudo apt-get install -y {packages}"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    echo("clickhouse: clickhouse-server is not installed; installing it with apt-get")
    for argv in ([apt, "update"], [apt, "install", "-y", *CLICKHOUSE_APT_PACKAGES]):
        echo(f"clickhouse: running {' '.join(argv)}")
        code, output = process.run(argv, env=env)
        if code != 0:
            last = "\n".join(output.splitlines()[-20:])
            raise ServiceError(f"clickhouse: `{' '.join(argv)}` failed (exit {code}):\n{last}")
    command = clickhouse_server_command()
    if command is None:
        raise ServiceError(
            f"clickhouse: apt-get installed {packages} but no clickhouse-server binary was found"
        )
    return command


def _command(settings: Settings, echo: Echo) -> list[str]:
    """Install when missing and render the configs; the server's command."""
    command = clickhouse_server_command() or install_clickhouse(echo)
    root = settings.data_dir / "clickhouse"
    etc = root / "etc"
    for sub in ("etc", "data", "tmp", "log", "user_files", "format_schemas"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    (etc / "config.xml").write_text(clickhouse_config_xml(settings))
    shutil.copyfile(INFRA_DIR / "clickhouse" / "users.xml", etc / "users.xml")
    return [*command, f"--config-file={etc / 'config.xml'}"]


# --------------------------------------------------------------------------- start, stop, status


def _service(settings: Settings) -> lifecycle.Service:
    host, port = settings.clickhouse.host, settings.clickhouse.port
    http_port = clickhouse_http_port(settings)
    root = settings.data_dir / "clickhouse"
    return lifecycle.Service(
        name="clickhouse",
        root=root,
        host=host,
        ports=(("native", port), ("http", http_port)),
        marker=str(root / "etc" / "config.xml"),
        logs=(
            root / "log" / "clickhouse-server.err.log",
            root / "log" / "clickhouse-server.log",
            root / "clickhouse.out",
        ),
        answers=lambda timeout: clickhouse_answers(host, http_port, timeout),
    )


def start_clickhouse(
    settings: Settings | None = None,
    *,
    timeout: float = START_TIMEOUT_S,
    echo: Echo = echo_stderr,
) -> ServiceStatus:
    """Start the local ClickHouse unless it already runs; returns once `SELECT 1` works."""
    settings = settings or Settings.from_env()
    svc = _service(settings)
    lifecycle.require_local(svc, "CLICKHOUSE_URL")
    return lifecycle.start(svc, lambda: _command(settings, echo), timeout, echo)


def stop_clickhouse(
    settings: Settings | None = None,
    *,
    timeout: float = CLICKHOUSE_STOP_TIMEOUT_S,
    echo: Echo = echo_stderr,
) -> ServiceStatus:
    return lifecycle.stop(_service(settings or Settings.from_env()), timeout, echo)


def clickhouse_status(settings: Settings | None = None) -> ServiceStatus:
    return lifecycle.status(_service(settings or Settings.from_env()))
