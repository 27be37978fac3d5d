"""`cdrflow projections rebuild` without services: which tables, which rows, when to refuse."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from aiokafka import ConsumerRecord

from cdrflow import cli
from cdrflow.projections_command import REFUSED, TABLES_OF
from projections import writer
from projections.clickhouse import migrations, target_of
from streams.sink import PROJECTIONS, Record, rows_by_table


def test_every_table_belongs_to_exactly_one_projection() -> None:
    assert set(TABLES_OF) == set(PROJECTIONS)
    owned = [table for tables in TABLES_OF.values() for table in tables]
    assert sorted(owned) == sorted(writer.TABLES)


def test_every_projected_table_is_shaped_by_migrations_the_rebuild_can_apply_again() -> None:
    assert set(writer.TABLES) <= {target_of(sql) for _, _, sql in migrations()}
    assert target_of("-- ALTER TABLE users\nALTER TABLE `cdrs` ADD COLUMN x String") == "cdrs"
    with pytest.raises(ValueError, match="no CREATE TABLE"):
        target_of("CREATE MATERIALIZED VIEW v TO cdrs AS SELECT 1")


def record(offset: int, value: bytes) -> Record:
    return ConsumerRecord("t-cdrs", 0, offset, 0, 0, b"k", value, None, 1, len(value), ())


def test_rows_are_gathered_per_table_and_bad_records_kept_with_their_reason() -> None:
    def to_rows(rec: Record) -> Iterator[tuple[str, tuple[Any, ...]]]:
        if rec.value == b"bad":
            raise ValueError("not a CDR")
        yield "cdrs", (rec.offset,)
        yield "faxes", (rec.value,)

    tables, bad = rows_by_table(to_rows, [record(0, b"a"), record(1, b"bad"), record(2, b"b")])
    assert tables == {"cdrs": [(0,), (2,)], "faxes": [(b"a",), (b"b",)]}
    assert [(r.offset, reason) for r, reason in bad] == [(1, "not a CDR")]


def test_without_a_terminal_and_without_yes_it_refuses_before_touching_anything(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    monkeypatch.setenv("KAFKA_BOOTSTRAP", "127.0.0.1:1")  # never reached
    assert cli.main(["projections", "rebuild", "--only", "cdrs"]) == REFUSED
    assert capsys.readouterr().err == (
        "refused: this drops tables; pass --yes to run without a terminal\n")


def test_only_accepts_the_sinks_projection_names(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["projections", "rebuild", "--only", "calls"])
    assert exit_.value.code == 2
    assert "invalid choice: 'calls'" in capsys.readouterr().err
