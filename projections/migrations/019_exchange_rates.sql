-- Exchange rates (exchange_rate_set): `rate` units of `currency` buy one unit of the system
-- currency (USD), from effective_from_ms on. The same currency and moment set again
-- replaces the rate (version = the event's Kafka offset; a currency's events share a key).
CREATE TABLE IF NOT EXISTS exchange_rates (
    currency           String,
    effective_from_ms  Int64,
    rate               Decimal(38, 12),
    version            UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (currency, effective_from_ms)
