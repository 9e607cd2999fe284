-- Agents: what the dashboard and the call runtime read and change.
-- aiosql names: ^ returns one row, ! changes rows, <! returns the new row.

-- name: get_agent^
-- The call runtime loads the agent named by the id in an inbound webhook.
SELECT id, name, system_prompt, voice_id, knowledge_base_id, status
FROM agents
WHERE id = :agent_id;

-- name: get_agent_for_org^
SELECT id, name, system_prompt, voice_id, knowledge_base_id, status
FROM agents
WHERE id = :agent_id AND clerk_org_id = :org_id;

-- name: list_agents_with_voice
SELECT a.id, a.name, a.status, v.provider, v.provider_voice_id
FROM agents a
LEFT JOIN voices v ON v.id = a.voice_id AND v.clerk_org_id = a.clerk_org_id
WHERE a.clerk_org_id = :org_id
ORDER BY a.created_at DESC;

-- name: list_agents_with_call_counts
SELECT a.id,
       a.name,
       (SELECT count(*)
          FROM calls c
         WHERE c.agent_id = a.id
           AND c.clerk_org_id = a.clerk_org_id) AS call_count
FROM agents a
WHERE a.clerk_org_id = :org_id;

-- name: rename_agent!
UPDATE agents SET name = :name, updated_at = now()
WHERE id = :agent_id AND clerk_org_id = :org_id;

-- name: count_agents_all_orgs^
SELECT count(*) AS total FROM agents;  -- orgscope: ignore[ORG001] platform status page: one number across all organizations
