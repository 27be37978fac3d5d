-- Phonebook entries as of the last event applied (version = that event's Kafka offset;
-- a user's events share a partition). A deleted entry keeps a row with deleted = 1.
CREATE TABLE IF NOT EXISTS phonebook_entries (
    entry_id  UInt64,
    user_id   UInt64,
    number    String,
    name      String,
    added     DateTime('UTC'),
    deleted   UInt8,
    version   UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (user_id, entry_id)
