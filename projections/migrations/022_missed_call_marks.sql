-- Marks of missed calls (docs/stats_pages.md): whether the user processed a missed call,
-- as of the last missed_call_processed event (version = that event's Kafka offset; a
-- user's events share a partition). call_id is the CDR's call id. Not partitioned: the
-- mark of a call always replaces its earlier marks.
CREATE TABLE IF NOT EXISTS missed_call_marks (
    user_id    UInt64,
    call_id    String,
    processed  UInt8,
    marked     DateTime('UTC'),
    version    UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (user_id, call_id)
