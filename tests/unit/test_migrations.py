"""The migration runner keys migrations by number alone: two files with one number would
leave one of them unapplied on every database that already has the other."""

from collections import Counter

from projections.clickhouse import migrations


def test_every_migration_has_a_number_of_its_own() -> None:
    found = migrations()
    numbers = Counter(number for number, _, _ in found)
    assert [name for number, name, _ in found if numbers[number] > 1] == []
    assert [number for number, _, _ in found] == list(range(1, len(found) + 1))


def test_each_migration_is_one_statement() -> None:
    # clickhouse-driver sends a file as one query, and ClickHouse takes one statement
    for _, name, sql in migrations():
        body = "\n".join(line for line in sql.splitlines() if not line.strip().startswith("--"))
        assert body.strip().rstrip(";").count(";") == 0, name
