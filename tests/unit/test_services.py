"""infra.services and the modules behind it: config rendering, ports, the start/stop steps.

No Kafka or ClickHouse here: the lifecycle tests drive a throw-away `python -m http.server`.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import socket
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from cdrflow.settings import ClickHouseEndpoint, Settings
from infra import __main__ as cli
from infra import lifecycle, services


def _settings(tmp_path: Path, kafka_port: int = 29092, ch_port: int = 29000) -> Settings:
    return Settings(
        kafka_bootstrap=f"127.0.0.1:{kafka_port}",
        clickhouse=ClickHouseEndpoint("127.0.0.1", ch_port, "cdrflow"),
        data_dir=tmp_path / "var",
        cache_dir=tmp_path / "cache",
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------- pure helpers


def test_render_template_substitutes_and_leaves_other_dollars() -> None:
    text = "a=${x} b=$y c=${x}$ d=$${z}"
    assert services.render_template(text, {"x": 1, "z": "Z"}) == "a=1 b=$y c=1$ d=$Z"


def test_render_template_names_missing_placeholder() -> None:
    with pytest.raises(KeyError, match="missing"):
        services.render_template("${missing}", {})


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("127.0.0.1:19092", ("127.0.0.1", 19092)),
        ("localhost:1,otherhost:2", ("localhost", 1)),
        ("kafka", ("kafka", 9092)),
        ("[::1]:19092", ("::1", 19092)),
        (":19092", ("127.0.0.1", 19092)),
    ],
)
def test_split_host_port(address: str, expected: tuple[str, int]) -> None:
    assert services.split_host_port(address, 9092) == expected


def test_local_hosts() -> None:
    assert services.is_local_host("127.0.0.1")
    assert services.is_local_host("localhost")
    assert services.is_local_host("::1")
    assert not services.is_local_host("10.0.0.5")
    assert services.bind_host("localhost") == "127.0.0.1"


def test_ports_follow_settings(tmp_path: Path) -> None:
    assert services.clickhouse_http_port(Settings()) == services.CLICKHOUSE_HTTP_PORT == 18123
    settings = _settings(tmp_path, kafka_port=29092, ch_port=9000)
    assert services.kafka_address(settings) == ("127.0.0.1", 29092)
    assert services.kafka_controller_port(settings) == 29093
    assert services.clickhouse_http_port(settings) == 8123


def test_kafka_server_properties(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    text = services.kafka_server_properties(settings)
    props = dict(
        line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#")
    )
    assert "${" not in text
    assert props["process.roles"] == "broker,controller"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:29093"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:29092,CONTROLLER://127.0.0.1:29093"
    assert props["advertised.listeners"] == "PLAINTEXT://127.0.0.1:29092"
    assert props["log.dirs"] == str(tmp_path / "var" / "kafka" / "data")
    assert props["offsets.topic.replication.factor"] == "1"
    assert props["transaction.state.log.min.isr"] == "1"
    assert props["group.initial.rebalance.delay.ms"] == "0"
    assert props["auto.create.topics.enable"] == "false"


def test_kafka_log4j_properties(tmp_path: Path) -> None:
    text = services.kafka_log4j_properties(_settings(tmp_path))
    assert f"log4j.appender.file.File={tmp_path / 'var' / 'kafka' / 'server.log'}" in text
    assert "${" not in text


def test_clickhouse_config_keeps_everything_under_data_dir(tmp_path: Path) -> None:
    settings = _settings(tmp_path, ch_port=29000)
    text = services.clickhouse_config_xml(settings)
    assert "${" not in text
    root = ET.fromstring(text)  # noqa: S314 (our own template)
    assert root.findtext("listen_host") == "127.0.0.1"
    assert root.findtext("tcp_port") == "29000"
    assert root.findtext("http_port") == "28123"
    assert root.find("interserver_http_port") is None
    base = str(tmp_path / "var" / "clickhouse")
    for key in ("path", "tmp_path", "user_files_path", "format_schema_path", "logger/log"):
        value = root.findtext(key)
        assert value is not None
        assert value.startswith(base + "/"), key


def test_clickhouse_users_default_is_loopback_only() -> None:
    root = ET.parse(services.INFRA_DIR / "clickhouse" / "users.xml").getroot()  # noqa: S314
    users = root.find("users")
    assert users is not None
    assert [user.tag for user in users] == ["default"]
    assert root.findtext("users/default/password") in ("", None)
    ips = sorted(ip.text or "" for ip in root.iterfind("users/default/networks/ip"))
    assert ips == ["127.0.0.1", "::1"]


def test_new_cluster_id_is_kafka_uuid() -> None:
    for _ in range(200):
        cid = services.new_cluster_id()
        assert len(cid) == 22
        assert not cid.startswith("-")
        assert len(base64.urlsafe_b64decode(cid + "==")) == 16


def test_port_in_use_and_owner() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = int(sock.getsockname()[1])
        assert services.port_in_use("127.0.0.1", port)
        if Path("/proc/net/tcp").exists():
            owner = services.port_owner(port)
            assert owner is not None
            assert owner.startswith(f"pid {os.getpid()} ")
    assert not services.port_in_use("127.0.0.1", port)


def test_tail_reads_last_lines(tmp_path: Path) -> None:
    log = tmp_path / "x.log"
    log.write_text("".join(f"line {i}\n" for i in range(100)))
    text = services.tail([log, tmp_path / "missing.log"], lines=3)
    assert text.endswith("line 97\nline 98\nline 99")
    assert services.tail([tmp_path / "missing.log"]) == "(no log output yet)"


# --------------------------------------------------------------------------- Kafka jars


def test_kafka_jars_skip_fetch_when_marker_matches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(tmp_path)
    lib = services.kafka_lib_dir(settings)
    lib.mkdir(parents=True)
    (lib / services.KAFKA_MAIN_JAR).write_bytes(b"")
    digest = hashlib.sha256((services.INFRA_DIR / "kafka" / "pom.xml").read_bytes()).hexdigest()
    (lib / ".cdrflow-complete").write_text(digest + "\n")
    monkeypatch.setattr(shutil, "which", lambda *a, **k: None)  # no mvn
    assert services.ensure_kafka_jars(settings, echo=lambda _: None) == lib


def test_kafka_jars_need_mvn_when_incomplete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(shutil, "which", lambda *a, **k: None)
    with pytest.raises(services.ServiceError, match=r"kafka: `mvn` not found"):
        services.ensure_kafka_jars(_settings(tmp_path), echo=lambda _: None)


# --------------------------------------------------------------------------- lifecycle


def _fake_service(tmp_path: Path, port: int) -> lifecycle.Service:
    root = tmp_path / "fake"
    return lifecycle.Service(
        name="fake",
        root=root,
        host="127.0.0.1",
        ports=(("http", port),),
        marker=str(tmp_path / "www"),
        logs=(root / "fake.out",),
        answers=lambda timeout: services.port_in_use("127.0.0.1", port, timeout),
    )


def _http_server(tmp_path: Path, port: int) -> list[str]:
    (tmp_path / "www").mkdir(exist_ok=True)
    www = str(tmp_path / "www")
    return [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "-d", www]


@pytest.fixture
def fake(tmp_path: Path) -> Iterator[lifecycle.Service]:
    svc = _fake_service(tmp_path, _free_port())
    yield svc
    lifecycle.stop(svc, 5.0, lambda _: None)


def test_start_is_idempotent_and_stop_is_clean(fake: lifecycle.Service, tmp_path: Path) -> None:
    lines: list[str] = []
    port = fake.ports[0][1]
    status = lifecycle.start(fake, lambda: _http_server(tmp_path, port), 20.0, lines.append)
    assert status.state == "running"
    assert status.started
    assert status.pid is not None
    assert fake.pid_file.read_text().strip() == str(status.pid)
    assert lifecycle.status(fake).state == "running"

    again = lifecycle.start(fake, lambda: pytest.fail("must not launch twice"), 20.0, lines.append)
    assert again.pid == status.pid
    assert not again.started
    assert "already running" in lines[-1]

    stopped = lifecycle.stop(fake, 5.0, lines.append)
    assert stopped.state == "stopped"
    assert not services.pid_alive(status.pid)
    assert not fake.pid_file.exists()
    assert lifecycle.stop(fake, 5.0, lines.append).state == "stopped"
    assert lines[-1] == "fake: not running"


def test_exit_during_start_reports_log_tail(fake: lifecycle.Service) -> None:
    argv = [sys.executable, "-c", "print('boom: bad config'); raise SystemExit(3)"]
    with pytest.raises(services.ServiceError) as err:
        lifecycle.start(fake, lambda: argv, 20.0, lambda _: None)
    assert "exited with code 3" in str(err.value)
    assert "boom: bad config" in str(err.value)
    assert not fake.pid_file.exists()


def test_start_timeout_stops_the_process(fake: lifecycle.Service) -> None:
    argv = [sys.executable, "-c", "import time; print('waiting'); time.sleep(60)"]
    with pytest.raises(services.ServiceError, match=r"not answering .* after 1 s"):
        lifecycle.start(fake, lambda: argv, 1.0, lambda _: None)
    assert lifecycle.status(fake).state == "stopped"


def test_port_taken_by_someone_else(fake: lifecycle.Service, tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = int(sock.getsockname()[1])
        svc = _fake_service(tmp_path, port)
        svc = lifecycle.Service(
            name=svc.name,
            root=svc.root,
            host=svc.host,
            ports=svc.ports,
            marker=svc.marker,
            logs=svc.logs,
            answers=lambda timeout: False,  # it holds the port but does not speak our protocol
        )
        status = lifecycle.status(svc)
        assert status.state == "stopped"
        assert f"port {port} is taken by" in status.detail
        with pytest.raises(services.ServiceError, match="already in use by"):
            lifecycle.start(svc, lambda: pytest.fail("must not launch"), 5.0, lambda _: None)


def test_cli_status_exit_code_when_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP", f"127.0.0.1:{_free_port()}")
    monkeypatch.setenv("CLICKHOUSE_URL", f"clickhouse://127.0.0.1:{_free_port()}/default")
    monkeypatch.setenv("CDRFLOW_DATA_DIR", str(tmp_path / "var"))
    assert cli.main(["status"]) == 3
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in out] == [["kafka", "stopped"], ["clickhouse", "stopped"]]


def test_start_refuses_remote_hosts(tmp_path: Path) -> None:
    settings = _settings(tmp_path).with_(kafka_bootstrap="10.9.8.7:9092")
    with pytest.raises(services.ServiceError, match="not on this machine"):
        services.start_kafka(settings, echo=lambda _: None)
