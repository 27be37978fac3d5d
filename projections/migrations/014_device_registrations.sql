-- When each device last registered with a switch. version = registered_ms, so the
-- latest registration wins whatever order the switches publish in.
CREATE TABLE IF NOT EXISTS device_registrations (
    device_id   UInt64,
    user_id     UInt64,
    registered  DateTime('UTC'),
    version     UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY device_id
