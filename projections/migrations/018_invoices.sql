-- Invoices: per invoice_id one row of kind 0 (the last invoice_issued) and, once paid,
-- one row of kind 1 (the last invoice_paid, only paid_ms is read). version = the
-- event's Kafka offset; a user's events share a partition. Read with FINAL.
-- Moments are epoch milliseconds (18.16 has no DateTime64); period_end_ms is exclusive.
CREATE TABLE IF NOT EXISTS invoices (
    invoice_id           UInt64,
    user_id              UInt64,
    kind                 UInt8,
    number               String,
    period_start_ms      UInt64,
    period_end_ms        UInt64,
    issued_ms            UInt64,
    calls_price          Decimal(18, 6),
    subscriptions_price  Decimal(18, 6),
    price                Decimal(18, 6),
    vat_percent          Decimal(9, 4),
    price_with_vat       Decimal(18, 6),
    currency             String,
    paid_ms              UInt64,
    version              UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (user_id, invoice_id, kind)
