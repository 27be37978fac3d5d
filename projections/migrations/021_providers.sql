-- Termination providers as of the last provider_created event of each provider_id
-- (version = that event's Kafka offset; a provider's events are keyed by its id, so they
-- share a partition). tariff_id is the provider's buy price list.
CREATE TABLE IF NOT EXISTS providers (
    provider_id  UInt64,
    name         String,
    tariff_id    UInt64,
    version      UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY provider_id
