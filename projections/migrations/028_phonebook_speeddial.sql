-- MOR's speed dial of a phonebook entry (phonebooks_get, phonebook_edit); '' for none
-- and for entries added before this migration.
ALTER TABLE phonebook_entries
    ADD COLUMN speeddial String DEFAULT ''
