-- Who ended the call: '' when the switch sent call_ended, 'max_duration' when the worker
-- closed a call that had no call_ended within the longest call (docs/events.md, "Calls
-- that never end"). Such a call is billed up to the longest call and can be listed with
-- `SELECT ... FROM cdrs FINAL WHERE closed_by != ''`.
ALTER TABLE cdrs
    ADD COLUMN closed_by String DEFAULT ''
