from pathlib import Path

import pytest

from cdrflow.settings import ClickHouseEndpoint, Settings


def test_defaults_point_at_the_local_services() -> None:
    settings = Settings.from_env({})
    assert settings.kafka_bootstrap == "127.0.0.1:19092"
    assert settings.clickhouse == ClickHouseEndpoint("127.0.0.1", 19000, "cdrflow")
    assert settings.topic("cdrs") == "cdrs"
    assert not settings.in_ci


def test_environment_round_trip() -> None:
    settings = Settings.from_env({
        "KAFKA_BOOTSTRAP": "10.0.0.1:9092",
        "CLICKHOUSE_URL": "clickhouse://u:pw@db:9001/billing",
        "CDRFLOW_TOPIC_PREFIX": "t1-",
        "CDRFLOW_PARTITIONS": "2",
        "CDRFLOW_API_SECRET": "456789",
        "CDRFLOW_DISABLE_HASH_CHECK": "true",
        "CDRFLOW_DATA_DIR": "/tmp/x",
        "CI": "true",
    })
    assert settings.clickhouse == ClickHouseEndpoint("db", 9001, "billing", "u", "pw")
    assert settings.topic("cdrs") == "t1-cdrs"
    assert settings.disable_hash_check and settings.in_ci
    assert settings.data_dir == Path("/tmp/x")
    assert Settings.from_env(settings.to_env()) == settings.with_(in_ci=False)


def test_clickhouse_url_must_use_the_native_scheme() -> None:
    with pytest.raises(ValueError, match="clickhouse://"):
        Settings.from_env({"CLICKHOUSE_URL": "http://db:8123"})
