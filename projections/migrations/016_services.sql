-- Services as of the last service_created event of each service_id (version = that
-- event's Kafka offset; service events share the key "0", so one partition).
CREATE TABLE IF NOT EXISTS services (
    service_id  UInt64,
    name        String,
    price       Decimal(18, 6),
    currency    String,
    version     UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY service_id
