-- MOR's "Call End" webhook URLs (docs/webhooks.md): one row per user (device_id 0, all
-- the user's devices) or device, as of the last call_end_webhook_set event (version =
-- that event's Kafka offset; a user's events share a partition). url '' = removed.
CREATE TABLE IF NOT EXISTS call_end_webhooks (
    user_id    UInt64,
    device_id  UInt64,
    url        String,
    set        DateTime('UTC'),
    version    UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (user_id, device_id)
