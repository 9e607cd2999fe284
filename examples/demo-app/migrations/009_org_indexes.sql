-- 009: every org query filters by clerk_org_id; index it.
CREATE INDEX IF NOT EXISTS idx_agents_clerk_org_id ON agents (clerk_org_id);
CREATE INDEX IF NOT EXISTS idx_calls_clerk_org_id ON calls (clerk_org_id);
CREATE INDEX IF NOT EXISTS idx_voices_clerk_org_id ON voices (clerk_org_id);
CREATE INDEX IF NOT EXISTS idx_knowledge_bases_clerk_org_id ON knowledge_bases (clerk_org_id);
CREATE INDEX IF NOT EXISTS idx_contacts_clerk_org_id ON contacts (clerk_org_id);
CREATE INDEX IF NOT EXISTS idx_contact_folders_clerk_org_id ON contact_folders (clerk_org_id);
CREATE INDEX IF NOT EXISTS idx_campaigns_clerk_org_id ON campaigns (clerk_org_id);

-- tools is written to at all hours: give up after a few seconds rather than
-- queue every request behind the index build.
DO $$
BEGIN
    SET LOCAL lock_timeout = '5s';
    CREATE INDEX IF NOT EXISTS idx_tools_clerk_org_id ON tools (clerk_org_id);
END
$$;
