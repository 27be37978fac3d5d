-- What rating recorded beyond MOR's call list: destination direction and group, the
-- currency conversion, tax, and the priced pieces of the user price (JSON).
ALTER TABLE cdrs
    ADD COLUMN direction String,
    ADD COLUMN destination_group String,
    ADD COLUMN tariff_currency String,
    ADD COLUMN exchange_rate Decimal(28, 10) DEFAULT 1,
    ADD COLUMN tax_percent Decimal(9, 4),
    ADD COLUMN user_price_with_tax Decimal(18, 6),
    ADD COLUMN rate_pieces String DEFAULT '[]'
