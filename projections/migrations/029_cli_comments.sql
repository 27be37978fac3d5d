-- What cli_add records besides the number: a comment and MOR's "banned" flag. Rows
-- written before this migration read as no comment, not banned.
ALTER TABLE device_clis
    ADD COLUMN comment String DEFAULT '',
    ADD COLUMN banned  UInt8 DEFAULT 0
