-- Linked hubs become stored, managed configuration (issue 6): one row per hub, keyed by the lower-cased host name.
-- The connector is 'builtIn' (served by OpenDPS itself) or 'webhook' (the user's backend at webhook_url, requests
-- signed with webhook_secret). The service-wide default allocation policy lives in service_setting under
-- 'allocation.defaultPolicy'; its presence also marks that the linked hubs were seeded at first start.

CREATE TABLE linked_hub (
    host_name               VARCHAR(253) NOT NULL PRIMARY KEY,
    allocation_weight       INT NOT NULL,
    apply_allocation_policy BOOLEAN NOT NULL,
    location                VARCHAR(128),
    connector_type          VARCHAR(16) NOT NULL,
    webhook_url             VARCHAR(2048),
    webhook_secret          VARCHAR(512),
    etag                    VARCHAR(64) NOT NULL,
    created                 TIMESTAMP(9) WITH TIME ZONE NOT NULL,
    updated                 TIMESTAMP(9) WITH TIME ZONE NOT NULL,
    CONSTRAINT linked_hub_weight CHECK (allocation_weight BETWEEN 1 AND 1000),
    CONSTRAINT linked_hub_connector CHECK (connector_type IN ('builtIn', 'webhook'))
);
