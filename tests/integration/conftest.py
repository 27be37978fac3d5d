"""Fixtures over the real services: isolated topics and databases, running processes.

Each test module gets its own topic prefix, consumer groups and ClickHouse database,
so tests never see each other's data and can run against a shared broker.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest
from starlette.testclient import TestClient

from api.app import create_app
from cdrflow.demo_data import USERS, publish_demo_data
from cdrflow.settings import ClickHouseEndpoint, Settings
from projections.clickhouse import connect, migrate
from streams.topics import ensure_topics
from tests.integration.support import Processes, wait_for

SECRET = "456789"


@pytest.fixture(scope="module")
def settings(kafka_bootstrap: str, clickhouse_endpoint: ClickHouseEndpoint,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    run = uuid.uuid4().hex[:8]
    settings = Settings(
        kafka_bootstrap=kafka_bootstrap,
        clickhouse=replace(clickhouse_endpoint, database=f"cdrflow_test_{run}"),
        topic_prefix=f"t{run}-",
        partitions=2,
        app_id=f"cdrflow-test-{run}",
        api_secret=SECRET,
        sink_batch_seconds=0.2,
        data_dir=tmp_path_factory.mktemp(f"data-{run}"),
    )
    asyncio.run(ensure_topics(settings))
    migrate(settings.clickhouse)
    yield settings
    # dropping a database whose tables are still merging may take minutes on 18.16
    connect(settings.clickhouse, database="default", timeout=600).execute(
        f"DROP DATABASE IF EXISTS `{settings.clickhouse.database}`"
    )


@pytest.fixture(scope="module")
def reference_data(settings: Settings) -> None:
    """The demo users, devices and tariff, published as events."""
    asyncio.run(publish_demo_data(settings))


@pytest.fixture(scope="module")
def pipeline(settings: Settings, reference_data: None) -> Iterator[Processes]:
    """The worker and the sink, running against this module's topics and database."""
    processes = Processes(settings, settings.data_dir)
    processes.start("worker")
    processes.start("sink")
    yield processes
    processes.stop_all()


@pytest.fixture(scope="module")
def sink(settings: Settings, reference_data: None) -> Iterator[Processes]:
    """Only the sink: enough for API commands, whose events it projects."""
    processes = Processes(settings, settings.data_dir)
    processes.start("sink")
    client = connect(settings.clickhouse)
    wait_for(lambda: client.execute("SELECT count() FROM users FINAL")[0][0] >= len(USERS),
             60, "the demo users projected")
    yield processes
    processes.stop_all()


@pytest.fixture(scope="module")
def processes(settings: Settings, reference_data: None) -> Iterator[Processes]:
    """No process yet: the test starts (and kills) the worker and the sink itself."""
    running = Processes(settings, settings.data_dir)
    yield running
    running.stop_all()


@pytest.fixture
def api(settings: Settings) -> Iterator[TestClient]:
    """The API app over this module's ClickHouse database and topics (its own lifespan:
    a pool of clients and, at the first write, a Kafka producer)."""
    with TestClient(create_app(settings)) as client:
        yield client
