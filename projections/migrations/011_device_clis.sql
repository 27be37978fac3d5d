-- Caller IDs (CLIs) of devices as of the last event applied (version = that event's
-- Kafka offset; the events are keyed by the device's owner).
CREATE TABLE IF NOT EXISTS device_clis (
    cli_id       UInt64,
    device_id    UInt64,
    user_id      UInt64,
    cli          String,
    description  String,
    added        DateTime('UTC'),
    version      UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (user_id, device_id, cli_id)
