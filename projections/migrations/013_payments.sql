-- Payments as of the last payment_created event of each payment_id (version = that
-- event's Kafka offset). A redelivered event writes the same key again: FINAL keeps one.
-- Moments are epoch milliseconds (18.16 has no DateTime64).
CREATE TABLE IF NOT EXISTS payments (
    payment_id    UInt64,
    user_id       UInt64,
    amount        Decimal(18, 6),
    currency      String,
    vat_percent   Decimal(9, 4),
    payment_type  String,
    paid_ms       UInt64,
    confirmed_ms  UInt64,
    completed     UInt8,
    version       UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (user_id, payment_id)
