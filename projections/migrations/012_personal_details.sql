-- A user's personal details as of the last personal_details_updated event (version =
-- that event's Kafka offset; a user's events share a partition). Every event carries
-- all the fields, so the last row is the whole state.
CREATE TABLE IF NOT EXISTS personal_details (
    user_id           UInt64,
    personal_id       String,
    agreement_number  String,
    agreement_date    String,
    taxation_country  String,
    vat_reg_number    String,
    reg_address       String,
    reg_postcode      String,
    reg_city          String,
    reg_country       String,
    reg_state         String,
    reg_direction     String,
    reg_phone         String,
    reg_mobile        String,
    reg_fax           String,
    reg_email         String,
    version           UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY user_id
