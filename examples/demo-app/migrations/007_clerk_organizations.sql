-- 007: organizations arrive (Clerk). A legacy client maps to the Clerk
-- organization that absorbed it.
ALTER TABLE clients ADD COLUMN clerk_organization_id TEXT;
CREATE UNIQUE INDEX idx_clients_clerk_organization_id ON clients (clerk_organization_id)
    WHERE clerk_organization_id IS NOT NULL;
