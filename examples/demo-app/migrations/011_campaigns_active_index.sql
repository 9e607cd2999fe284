-- 011: archived campaigns are never listed; index only the active ones.
CREATE INDEX CONCURRENTLY idx_campaigns_active ON campaigns (clerk_org_id, status)
    WHERE archived_at IS NULL;
DROP INDEX CONCURRENTLY IF EXISTS idx_campaigns_clerk_org_id;
