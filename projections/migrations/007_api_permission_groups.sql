-- API permission groups as of the last api_permission_group_set event (version = that
-- event's Kafka offset; every group event is keyed "0", so one partition orders them).
-- methods: a JSON object of method -> "disabled" | "read" | "write".
CREATE TABLE IF NOT EXISTS api_permission_groups (
    group_name  String,
    methods     String,
    version     UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY group_name
