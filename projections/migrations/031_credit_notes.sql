-- Credit notes as of the last credit_note_created event of each (user_id, number)
-- (version = that event's Kafka offset; a user's events share a partition). Read with
-- FINAL. Money in the user's currency; moments are epoch milliseconds.
CREATE TABLE IF NOT EXISTS credit_notes (
    user_id         UInt64,
    number          String,
    price           Decimal(18, 6),
    vat_percent     Decimal(9, 4),
    price_with_vat  Decimal(18, 6),
    currency        String,
    issued_ms       UInt64,
    comment         String,
    created_ms      UInt64,
    version         UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (user_id, number)
