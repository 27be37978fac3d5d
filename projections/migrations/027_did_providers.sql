-- The provider a DID comes from (did_create's provider_id); 0 for DIDs created before
-- (by `cdrflow did add`, which names no provider).
ALTER TABLE dids
    ADD COLUMN provider_id UInt64 DEFAULT 0
