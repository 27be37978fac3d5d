-- Tariff versions as their events arrived (docs/rates.md). One table, three kinds of row:
-- `started` (a version's header: tariff_published or tariff_version_started), `rate` (one
-- rate of tariff_published or tariff_rates_added, rate_index = its place in the event) and
-- `completed` (tariff_published or tariff_version_published, with the rate count).
-- event_partition/event_offset say which Kafka record wrote the row: a tariff's events share
-- a key, so a version's rates are the rate rows between its latest header and its
-- completion. A redelivered event writes the same key again; FINAL keeps one.
-- Prices keep 12 decimals here; `tiers` holds every tier exactly (docs/rates.md).
CREATE TABLE IF NOT EXISTS tariff_rates (
    tariff_id           UInt64,
    tariff_version      UInt64,
    part                Enum8('started' = 1, 'rate' = 2, 'completed' = 3),
    event_partition     UInt32,
    event_offset        UInt64,
    rate_index          UInt32,
    name                String,
    currency            String,
    effective_from_ms   Int64,
    effective_until_ms  Nullable(Int64),
    rate_count          UInt32,
    prefix              String,
    destination         String,
    direction           String,
    kind                String,
    destination_group   String,
    days                String,
    start_second        UInt32,
    end_second          UInt32,
    grace_time          UInt32,
    price_per_minute    Decimal(38, 12),
    connection_fee      Decimal(38, 12),
    min_time            UInt32,
    increment           UInt32,
    tiers               String
) ENGINE = ReplacingMergeTree()
ORDER BY (tariff_id, tariff_version, event_partition, event_offset, part, rate_index)
