-- Devices as of the last account event applied (version = that event's Kafka offset).
CREATE TABLE IF NOT EXISTS devices (
    device_id    UInt64,
    user_id      UInt64,
    device_type  String,
    name         String,
    extension    String,
    version      UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY device_id
