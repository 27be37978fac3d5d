-- Subscriptions as of the last subscription_added event of each subscription_id
-- (version = that event's Kafka offset; a user's events share a partition).
-- Moments are epoch milliseconds (18.16 has no DateTime64); activation_end_ms 0: open-ended.
CREATE TABLE IF NOT EXISTS subscriptions (
    subscription_id      UInt64,
    user_id              UInt64,
    service_id           UInt64,
    added_ms             UInt64,
    activation_start_ms  UInt64,
    activation_end_ms    UInt64,
    version              UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (user_id, subscription_id)
