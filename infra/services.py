"""Local Kafka (KRaft, single node) and ClickHouse as plain processes: no Docker, no root services.

Used by the Makefile, the `cdrflow` CLI, `python -m infra` and the test fixtures
(tests/conftest.py). Stdlib only at import time; aiokafka is imported lazily for the Kafka
readiness check. This module starts, stops and reports both services and re-exports the
API of the modules that do the work:

- infra.kafka: Kafka 3.9.1 jars (Maven), rendered configs, storage format, metadata check;
- infra.clickhouse: `clickhouse-server` (apt-get when missing), rendered config, `SELECT 1`;
- infra.lifecycle: ServiceStatus, ServiceError and the shared status/start/stop steps;
- infra.process: pid files, ports, signals, detached launches, log tails, locks.

Everything a service writes lives under <data_dir>/<service>/ (pid file, rendered configs,
logs, data); data survives a stop. Starts are idempotent and wait until the service really
answers (Kafka: a metadata request; ClickHouse: `SELECT 1` over HTTP). Stops are clean
(SIGTERM, then SIGKILL after a timeout).
"""

from __future__ import annotations

from cdrflow.settings import Settings
from infra.clickhouse import (
    CLICKHOUSE_APT_PACKAGES,
    CLICKHOUSE_HTTP_PORT,
    CLICKHOUSE_HTTP_PORT_OFFSET,
    CLICKHOUSE_STOP_TIMEOUT_S,
    clickhouse_answers,
    clickhouse_config_xml,
    clickhouse_http_port,
    clickhouse_server_command,
    clickhouse_status,
    install_clickhouse,
    start_clickhouse,
    stop_clickhouse,
)
from infra.kafka import (
    KAFKA_JVM_FLAGS,
    KAFKA_MAIN_JAR,
    KAFKA_STOP_TIMEOUT_S,
    KAFKA_TOOL_JVM_FLAGS,
    KAFKA_VERSION,
    ensure_kafka_jars,
    kafka_address,
    kafka_answers,
    kafka_controller_port,
    kafka_lib_dir,
    kafka_log4j_properties,
    kafka_metadata,
    kafka_server_properties,
    kafka_status,
    new_cluster_id,
    start_kafka,
    stop_kafka,
)
from infra.lifecycle import (
    INFRA_DIR,
    START_TIMEOUT_S,
    Echo,
    ServiceError,
    ServiceStatus,
    echo_stderr,
    render_template,
)
from infra.process import (
    bind_host,
    is_local_host,
    pid_alive,
    port_in_use,
    port_owner,
    split_host_port,
    tail,
)

__all__ = [
    "CLICKHOUSE_APT_PACKAGES",
    "CLICKHOUSE_HTTP_PORT",
    "CLICKHOUSE_HTTP_PORT_OFFSET",
    "CLICKHOUSE_STOP_TIMEOUT_S",
    "INFRA_DIR",
    "KAFKA_JVM_FLAGS",
    "KAFKA_MAIN_JAR",
    "KAFKA_STOP_TIMEOUT_S",
    "KAFKA_TOOL_JVM_FLAGS",
    "KAFKA_VERSION",
    "SERVICES",
    "START_TIMEOUT_S",
    "Echo",
    "ServiceError",
    "ServiceStatus",
    "bind_host",
    "clickhouse_answers",
    "clickhouse_config_xml",
    "clickhouse_http_port",
    "clickhouse_server_command",
    "clickhouse_status",
    "echo_stderr",
    "ensure_kafka_jars",
    "install_clickhouse",
    "is_local_host",
    "kafka_address",
    "kafka_answers",
    "kafka_controller_port",
    "kafka_lib_dir",
    "kafka_log4j_properties",
    "kafka_metadata",
    "kafka_server_properties",
    "kafka_status",
    "new_cluster_id",
    "pid_alive",
    "port_in_use",
    "port_owner",
    "render_template",
    "split_host_port",
    "start_all",
    "start_clickhouse",
    "start_kafka",
    "status_all",
    "stop_all",
    "stop_clickhouse",
    "stop_kafka",
    "tail",
]

SERVICES: tuple[str, ...] = ("kafka", "clickhouse")


def start_all(
    settings: Settings | None = None,
    *,
    timeout: float = START_TIMEOUT_S,
    echo: Echo = echo_stderr,
) -> list[ServiceStatus]:
    """Start ClickHouse, then Kafka. Tries both; raises one ServiceError naming all failures."""
    settings = settings or Settings.from_env()
    results: list[ServiceStatus] = []
    errors: list[str] = []
    for start in (start_clickhouse, start_kafka):
        try:
            results.append(start(settings, timeout=timeout, echo=echo))
        except ServiceError as exc:
            errors.append(str(exc))
    if errors:
        raise ServiceError("\n".join(errors))
    return results


def stop_all(settings: Settings | None = None, *, echo: Echo = echo_stderr) -> list[ServiceStatus]:
    settings = settings or Settings.from_env()
    return [stop_kafka(settings, echo=echo), stop_clickhouse(settings, echo=echo)]


def status_all(settings: Settings | None = None) -> list[ServiceStatus]:
    settings = settings or Settings.from_env()
    return [kafka_status(settings), clickhouse_status(settings)]
