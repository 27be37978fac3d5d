-- What payment_create records besides the amount (docs/payments.md): the gateway's
-- transaction id, the payer's e-mail and the comment for the user; '' for payments
-- recorded before (and by `cdrflow payment add`).
ALTER TABLE payments
    ADD COLUMN transaction_id String DEFAULT '',
    ADD COLUMN payer String DEFAULT '',
    ADD COLUMN comment String DEFAULT ''
