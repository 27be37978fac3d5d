-- What the devices page shows of a device besides type and extension: its description,
-- SIP/IAX2 login name and caller ID. Never the secret (docs/devices.md). Rows written
-- before this migration read as the events' defaults: the name and the extension.
ALTER TABLE devices
    ADD COLUMN description String DEFAULT name,
    ADD COLUMN username    String DEFAULT extension,
    ADD COLUMN callerid    String DEFAULT ''
