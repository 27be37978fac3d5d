-- Users as of the last account event applied (version = that event's Kafka offset;
-- one user's events share a partition, so offsets grow with time).
CREATE TABLE IF NOT EXISTS users (
    user_id     UInt64,
    username    String,
    first_name  String,
    last_name   String,
    role        Enum8('admin' = 1, 'reseller' = 2, 'accountant' = 3, 'user' = 4),
    owner_id    UInt64,
    currency    String,
    tariff_id   UInt64,
    timezone    String,
    version     UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY user_id
