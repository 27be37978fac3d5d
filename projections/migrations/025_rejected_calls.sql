-- Calls the rater rejected (unknown_user, no_tariff, no_rate, ...), projected from the
-- `dead-letters` topic: one row per rejection, the dead letter's `call` and reason
-- (docs/rerating.md, "Rejected calls"). A call delivered again may be rejected again,
-- perhaps for another reason: version = the dead letter's timestamp in ms, and reads
-- take argMax(..., version) per call_id, the latest rejection. calldate is the call's
-- start, which never changes for a call. A rejection is open while `cdrs` has no row
-- of its call_id; rows are never deleted, so a re-rated call stays here, closed.
CREATE TABLE IF NOT EXISTS rejected_calls (
    call_id       String,
    calldate      DateTime('UTC'),
    calldate_ms   UInt16,
    user_id       UInt64,
    device_id     UInt64,
    server_id     UInt32,
    src           String,
    dst           String,
    clid          String,
    provider_id   UInt64,
    did           String,
    hangup_cause  UInt16,
    duration      UInt32,
    billsec       UInt32,
    reason        String,
    detail        String,
    call          String,
    source        String,
    rejected      DateTime('UTC'),
    version       UInt64
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(calldate)
ORDER BY call_id
