"""Where the integration tests find Kafka and ClickHouse.

Discovery order, per service (ARCHITECTURE.md "Local services", docs/services.md):
  1. KAFKA_BOOTSTRAP / CLICKHOUSE_URL from the environment: used as given; it must answer.
  2. A service already answering on the default local port (127.0.0.1:19092 / 19000),
     e.g. started with `python -m infra start` or infra/docker-compose.yml.
  3. testcontainers, when a Docker engine answers.
  4. Otherwise start the local service with infra.services, and stop it at session end
     (only services this session started are stopped).
When all fail: pytest.fail in CI (CI=true; a skip would read as "passed"), pytest.skip
locally. Only tests marked `integration` may use these fixtures; a test that requests
them is marked `integration` automatically, so `-m "not integration"` never starts a
service.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any, NoReturn

import pytest
from hypothesis import settings as hypothesis_settings

from cdrflow.settings import ClickHouseEndpoint, Settings
from infra import services

# Property tests are judged by their answers, never by their speed: a loaded CI machine
# must not turn a slow example into a failure (speed is measured under bench/).
hypothesis_settings.register_profile("cdrflow", deadline=None)
hypothesis_settings.load_profile("cdrflow")

SERVICE_FIXTURES = frozenset({"kafka_bootstrap", "clickhouse_endpoint", "integration_settings"})
ENV_ENDPOINT_WAIT_S = 15.0
TESTCONTAINERS_KAFKA_IMAGE = "confluentinc/cp-kafka:7.6.0"
TESTCONTAINERS_CLICKHOUSE_IMAGE = "clickhouse/clickhouse-server:24.8"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SERVICE_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            if item.get_closest_marker("integration") is None:
                item.add_marker(pytest.mark.integration)


# --------------------------------------------------------------------------- helpers


def _unavailable(settings: Settings, what: str, reasons: list[str]) -> NoReturn:
    message = f"{what} is not available:\n  " + "\n  ".join(reasons)
    if settings.in_ci:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _wait(check: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while True:
        if check():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(1.0)


def _clickhouse_answers(endpoint: ClickHouseEndpoint, timeout: float = 3.0) -> bool:
    """`SELECT 1` over the native protocol (what the code under test uses)."""
    from clickhouse_driver import Client

    client = Client(
        endpoint.host,
        port=endpoint.port,
        user=endpoint.user,
        password=endpoint.password,
        database="default",
        connect_timeout=timeout,
        send_receive_timeout=timeout,
    )
    try:
        return bool(client.execute("SELECT 1") == [(1,)])
    except Exception:
        return False
    finally:
        client.disconnect()


def _docker_error() -> str | None:
    """None when a Docker engine answers, else why not (fast: no engine fails in ~0.2 s)."""
    try:
        import docker

        docker.from_env(timeout=5).ping()
    except Exception as exc:  # DockerException, ImportError, connection errors
        return f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
    return None


@pytest.fixture(scope="session")
def _base_settings() -> Settings:
    return Settings.from_env()


@pytest.fixture(scope="session")
def _docker() -> str | None:
    """Docker engine check, done once per session."""
    return _docker_error()


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def kafka_bootstrap(
    request: pytest.FixtureRequest, _base_settings: Settings, _docker: str | None
) -> str:
    """`host:port` of a Kafka broker that answers metadata requests."""
    settings = _base_settings
    default = Settings().kafka_bootstrap
    reasons: list[str] = []

    # 1. explicit endpoint
    if settings.kafka_bootstrap != default:
        bootstrap = settings.kafka_bootstrap
        if _wait(lambda: services.kafka_answers(bootstrap), ENV_ENDPOINT_WAIT_S):
            return bootstrap
        _unavailable(
            settings,
            "Kafka",
            [f"KAFKA_BOOTSTRAP={bootstrap} does not answer after {ENV_ENDPOINT_WAIT_S:.0f} s"],
        )
    reasons.append("KAFKA_BOOTSTRAP is not set")

    # 2. already running on the default port
    if services.kafka_answers(default):
        return default
    reasons.append(f"nothing answers on {default}")

    # 3. testcontainers
    if _docker is None:
        try:
            from testcontainers.community.kafka import KafkaContainer

            container: Any = KafkaContainer(TESTCONTAINERS_KAFKA_IMAGE).with_kraft()
            container.start()
        except Exception as exc:
            reasons.append(f"testcontainers Kafka: {type(exc).__name__}: {exc}"[:300])
        else:
            request.addfinalizer(container.stop)
            bootstrap = str(container.get_bootstrap_server())
            if _wait(lambda: services.kafka_answers(bootstrap), 60):
                return bootstrap
            reasons.append(f"testcontainers Kafka at {bootstrap} does not answer")
    else:
        reasons.append(f"no Docker engine ({_docker})")

    # 4. local broker via infra
    try:
        status = services.start_kafka(settings)
    except services.ServiceError as exc:
        reasons.append(f"infra.services.start_kafka failed: {exc}")
    else:
        if status.started:
            request.addfinalizer(lambda: services.stop_kafka(settings))
        return status.endpoint
    _unavailable(settings, "Kafka", reasons)


@pytest.fixture(scope="session")
def clickhouse_endpoint(
    request: pytest.FixtureRequest, _base_settings: Settings, _docker: str | None
) -> ClickHouseEndpoint:
    """A ClickHouse server answering `SELECT 1` on its native port.

    Database: as given when CLICKHOUSE_URL points at another server, else "default".
    Tests create their own databases.
    """
    settings = _base_settings
    default = replace(Settings().clickhouse, database="default")
    reasons: list[str] = []

    # 1. explicit endpoint
    configured = settings.clickhouse
    if (configured.host, configured.port, configured.user, configured.password) != (
        default.host,
        default.port,
        default.user,
        default.password,
    ):
        if _wait(lambda: _clickhouse_answers(configured), ENV_ENDPOINT_WAIT_S):
            return configured
        _unavailable(
            settings,
            "ClickHouse",
            [f"CLICKHOUSE_URL={configured.url} does not answer after {ENV_ENDPOINT_WAIT_S:.0f} s"],
        )
    reasons.append("CLICKHOUSE_URL is not set")

    # 2. already running on the default port
    if _clickhouse_answers(default):
        return default
    reasons.append(f"nothing answers on {default.host}:{default.port}")

    # 3. testcontainers
    if _docker is None:
        try:
            from testcontainers.community.clickhouse import ClickHouseContainer

            container: Any = ClickHouseContainer(TESTCONTAINERS_CLICKHOUSE_IMAGE)
            container.start()
        except Exception as exc:
            reasons.append(f"testcontainers ClickHouse: {type(exc).__name__}: {exc}"[:300])
        else:
            request.addfinalizer(container.stop)
            endpoint = ClickHouseEndpoint(
                host=str(container.get_container_host_ip()),
                port=int(container.get_exposed_port(container.port)),
                database="default",
                user=str(container.username),
                password=str(container.password),
            )
            if _wait(lambda: _clickhouse_answers(endpoint), 60):
                return endpoint
            reasons.append(f"testcontainers ClickHouse at {endpoint.url} does not answer")
    else:
        reasons.append(f"no Docker engine ({_docker})")

    # 4. local server via infra
    try:
        status = services.start_clickhouse(settings)
    except services.ServiceError as exc:
        reasons.append(f"infra.services.start_clickhouse failed: {exc}")
    else:
        if status.started:
            request.addfinalizer(lambda: services.stop_clickhouse(settings))
        return default
    _unavailable(settings, "ClickHouse", reasons)


@pytest.fixture(scope="session")
def integration_settings(kafka_bootstrap: str, clickhouse_endpoint: ClickHouseEndpoint) -> Settings:
    """Settings from the environment, pointed at the discovered services."""
    return Settings.from_env().with_(
        kafka_bootstrap=kafka_bootstrap, clickhouse=clickhouse_endpoint
    )
