-- Reprovisioning (issue 6). hub_move holds a hub move in progress (JSON: from hub and device id, to hub and device
-- id, mode migrate|reset) from the moment it is decided until the device is in its new hub and gone from the old
-- one, so a crash in between is finished by the next poll or registration. reprovision_requested is the operator's
-- "re-run allocation on the next registration" mark. (V5 and V6 are reserved for other changes.)

ALTER TABLE registration ADD COLUMN hub_move CHARACTER LARGE OBJECT;
ALTER TABLE registration ADD COLUMN reprovision_requested BOOLEAN DEFAULT FALSE NOT NULL;
