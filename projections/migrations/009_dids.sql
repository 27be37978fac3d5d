-- DIDs as of their last did_created event (version = that event's Kafka offset).
-- user_id is the owner, 0 while the DID is free. Read by the callflow caller id check.
CREATE TABLE IF NOT EXISTS dids (
    did                 String,
    user_id             UInt64,
    incoming_tariff_id  UInt64,
    owner_tariff_id     UInt64,
    provider_tariff_id  UInt64,
    version             UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY did
