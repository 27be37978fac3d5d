-- MOR's device PIN (device_create): digits, '' for a device without one. Rows written
-- before this migration read as devices without a PIN.
ALTER TABLE devices
    ADD COLUMN pin String DEFAULT ''
