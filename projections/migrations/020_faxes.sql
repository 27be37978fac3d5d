-- Faxes received by FAX devices (docs/faxes.md), one row per fax id. The worker forwards
-- each valid fax_received event to `faxes` keyed by the user id, so a user's faxes share
-- a partition and version = the record's Kafka offset orders them: a redelivered fax
-- writes the same key again and FINAL keeps one (a corrected resend replaces it).
-- Not partitioned: a resend with another time must still land on the same row.
-- received_ms keeps the milliseconds of `received` (18.16 has no DateTime64).
CREATE TABLE IF NOT EXISTS faxes (
    fax_id       String,
    user_id      UInt64,
    device_id    UInt64,
    received     DateTime('UTC'),
    received_ms  UInt16,
    sender       String,
    filename     String,
    pages        UInt32,
    status       Enum8('received' = 1, 'failed' = 2, 'empty' = 3, 'not_fax' = 4),
    version      UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (user_id, fax_id)
