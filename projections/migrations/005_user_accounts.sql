-- What MOR shows and checks of a user besides the name: VAT, account type and credit
-- (-1: no limit), language, API permission group, and the salted password hash.
ALTER TABLE users
    ADD COLUMN tax_percent   Decimal(9, 4) DEFAULT 0,
    ADD COLUMN account_type  Enum8('prepaid' = 1, 'postpaid' = 2) DEFAULT 'postpaid',
    ADD COLUMN credit_limit  Decimal(18, 6) DEFAULT -1,
    ADD COLUMN language      String DEFAULT 'en',
    ADD COLUMN api_group     String DEFAULT '',
    ADD COLUMN password_hash String DEFAULT ''
