"""Analysts read ClickHouse directly: docs/clickhouse.md's schema reference lists every
table and column of the migrations, as `projections.schema_doc` generates it."""

from pathlib import Path

from projections.clickhouse import migrations
from projections.schema_doc import BEGIN, END, reference, tables

DOCS = Path(__file__).resolve().parents[2] / "docs" / "clickhouse.md"


def test_the_schema_reference_is_the_generated_one() -> None:
    text = DOCS.read_text()
    documented = text[text.index(BEGIN):text.index(END) + len(END)] + "\n"
    assert documented == reference(), "run: python -m projections.schema_doc"


def test_the_reference_has_every_table_of_the_migrations() -> None:
    created = sum("CREATE TABLE" in sql for _, _, sql in migrations())
    found = tables()
    assert len(found) == created
    assert all(table.columns and table.engine.startswith(("ReplacingMergeTree", "MergeTree"))
               for table in found)
    users = next(t for t in found if t.name == "users")
    assert ("password_hash", "String DEFAULT ''") in users.columns  # from an ALTER
