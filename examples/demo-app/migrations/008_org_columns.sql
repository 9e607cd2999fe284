-- 008: the org tables move from client_id to clerk_org_id. Data on these
-- tables is shared by every member of the organization.
ALTER TABLE agents ADD COLUMN clerk_org_id TEXT;
ALTER TABLE calls ADD COLUMN clerk_org_id TEXT;
ALTER TABLE voices ADD COLUMN clerk_org_id TEXT;
ALTER TABLE knowledge_bases ADD COLUMN clerk_org_id TEXT;
ALTER TABLE tools ADD COLUMN clerk_org_id TEXT;
ALTER TABLE contacts ADD COLUMN clerk_org_id TEXT;
ALTER TABLE contact_folders ADD COLUMN clerk_org_id TEXT;
ALTER TABLE campaigns ADD COLUMN clerk_org_id TEXT;
ALTER TABLE webhook_endpoints ADD COLUMN IF NOT EXISTS clerk_org_id TEXT;

-- Backfill from the mapping table. These updates span every organization on
-- purpose; migrations are not query-checked.
UPDATE agents SET clerk_org_id = c.clerk_organization_id FROM clients c WHERE c.id = agents.client_id;
UPDATE calls SET clerk_org_id = c.clerk_organization_id FROM clients c WHERE c.id = calls.client_id;
UPDATE voices SET clerk_org_id = c.clerk_organization_id FROM clients c WHERE c.id = voices.client_id;
UPDATE knowledge_bases SET clerk_org_id = c.clerk_organization_id
    FROM clients c WHERE c.id = knowledge_bases.client_id;
UPDATE tools SET clerk_org_id = c.clerk_organization_id FROM clients c WHERE c.id = tools.client_id;
UPDATE contacts SET clerk_org_id = c.clerk_organization_id FROM clients c WHERE c.id = contacts.client_id;
UPDATE contact_folders SET clerk_org_id = c.clerk_organization_id
    FROM clients c WHERE c.id = contact_folders.client_id;
UPDATE campaigns SET clerk_org_id = c.clerk_organization_id FROM clients c WHERE c.id = campaigns.client_id;
UPDATE webhook_endpoints SET clerk_org_id = c.clerk_organization_id
    FROM clients c WHERE c.id = webhook_endpoints.client_id;
