-- Rated calls, one row per call (and per rating version).
-- Deduplicate with FINAL or argMax(column, version) grouped by call_id: a CDR
-- delivered twice is two rows until ClickHouse merges them.
-- Key columns (user_id, calldate, call_id) and the partition never change for a call.
CREATE TABLE IF NOT EXISTS cdrs (
    call_id         String,
    version         UInt64,
    calldate        DateTime('UTC'),
    calldate_ms     UInt16,
    answer_ms       UInt64,
    end_ms          UInt64,
    user_id         UInt64,
    device_id       UInt64,
    server_id       UInt32,
    uniqueid        String,
    channel         String,
    src             String,
    dst             String,
    clid            String,
    disposition     Enum8('ANSWERED' = 1, 'NO ANSWER' = 2, 'BUSY' = 3, 'FAILED' = 4),
    hangup_cause    UInt16,
    duration        UInt32,
    billsec         UInt32,
    user_billsec    UInt32,
    prefix          String,
    destination     String,
    tariff_id       UInt64,
    tariff_version  UInt64,
    currency        String,
    user_rate       Decimal(18, 6),
    user_price      Decimal(18, 6),
    provider_id     UInt64,
    provider_name   String,
    provider_rate   Decimal(18, 6),
    provider_price  Decimal(18, 6),
    reseller_id     UInt64,
    reseller_rate   Decimal(18, 6),
    reseller_price  Decimal(18, 6),
    did             String,
    did_inc_price   Decimal(18, 6),
    did_price       Decimal(18, 6),
    did_prov_price  Decimal(18, 6),
    profit          Decimal(18, 6)
) ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(calldate)
ORDER BY (user_id, calldate, call_id)
