-- Outbound campaigns and the webhooks that report on them.

-- name: list_active_campaigns
SELECT cp.id, cp.name, cp.status, a.name AS agent_name
FROM campaigns cp
JOIN agents a ON a.id = cp.agent_id AND a.clerk_org_id = cp.clerk_org_id
WHERE cp.clerk_org_id = :org_id AND cp.archived_at IS NULL;

-- name: campaign_progress
WITH campaign_calls AS (
    SELECT status
    FROM calls
    WHERE campaign_id = :campaign_id AND clerk_org_id = :org_id
)
SELECT status, count(*) AS total
FROM campaign_calls
GROUP BY status;

-- name: list_webhook_endpoints
SELECT id, url, events FROM webhook_endpoints WHERE clerk_org_id = :org_id;
