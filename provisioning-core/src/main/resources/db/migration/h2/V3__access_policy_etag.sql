-- Shared access policies become editable through the administration API: each gets an etag (If-Match) and
-- created/updated timestamps. Existing rows (the owner policy made at first start) get a fresh etag and "now".

ALTER TABLE access_policy ADD COLUMN etag VARCHAR(64);
ALTER TABLE access_policy ADD COLUMN created TIMESTAMP(9) WITH TIME ZONE;
ALTER TABLE access_policy ADD COLUMN updated TIMESTAMP(9) WITH TIME ZONE;

UPDATE access_policy
   SET etag = '"' || CAST(RANDOM_UUID() AS VARCHAR) || '"',
       created = CURRENT_TIMESTAMP(9),
       updated = CURRENT_TIMESTAMP(9);

ALTER TABLE access_policy ALTER COLUMN etag SET NOT NULL;
ALTER TABLE access_policy ALTER COLUMN created SET NOT NULL;
ALTER TABLE access_policy ALTER COLUMN updated SET NOT NULL;
