-- Device callflows: the setting of each editable state of a device as of its last
-- callflow_updated event (version = that event's Kafka offset; events are keyed by the
-- device's owner, so one device's events share a partition). States without a row read
-- as MOR's defaults (projections/callflow.py; docs/callflow.md).
CREATE TABLE IF NOT EXISTS callflows (
    device_id          UInt64,
    state              String,
    user_id            UInt64,
    action             String,
    forward_to_device  UInt64,
    external_number    String,
    fax_device         UInt64,
    callerid_type      String,
    callerid_data      String,
    updated_ms         UInt64,
    version            UInt64
) ENGINE = ReplacingMergeTree(version)
ORDER BY (device_id, state)
