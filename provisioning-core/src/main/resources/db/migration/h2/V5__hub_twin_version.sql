-- Issue 5, operator side: a twin version that grows with every change of tags, desired or reported properties, so
-- the service API can give twins an ETag and honour If-Match. Existing twins start at the number of changes their
-- section versions already count (both start at 1 on creation).

ALTER TABLE hub_twin ADD COLUMN twin_version BIGINT;
UPDATE hub_twin SET twin_version = desired_version + reported_version - 1;
ALTER TABLE hub_twin ALTER COLUMN twin_version SET NOT NULL;
