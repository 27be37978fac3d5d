-- Live calls as the worker publishes them to `active-calls` (docs/active_calls.md), one
-- row per record: the call's latest state, or its tombstone (ended = 1, every other
-- column empty) once call_ended arrived. A call's records share a key, so they share a
-- partition and version = the record's Kafka offset orders them; a redelivered record
-- writes the same row again. Reads take argMax(…, version) per call_id, which holds
-- across table partitions and does not depend on FINAL/PREWHERE ordering.
-- written is the Kafka record's timestamp: old months can be dropped with
-- ALTER TABLE active_calls DROP PARTITION (reads never show calls older than 4 hours).
CREATE TABLE IF NOT EXISTS active_calls (
    call_id            String,
    ended              UInt8,
    user_id            UInt64,
    device_id          UInt64,
    src                String,
    dst                String,
    localized_dst      String,
    provider_id        UInt64,
    provider_name      String,
    server_id          UInt32,
    started_ms         UInt64,
    answered_ms        UInt64,
    status             String,
    did                String,
    dst_user_id        UInt64,
    uniqueid           String,
    channel            String,
    prefix             String,
    destination        String,
    direction          String,
    destination_group  String,
    written            DateTime('UTC'),
    version            UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(written)
ORDER BY call_id
