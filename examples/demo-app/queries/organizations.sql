-- Organizations, and the legacy clients they absorbed.

-- name: get_org_for_client^
-- Which Clerk organization absorbed a legacy client.
SELECT clerk_org_id FROM clients WHERE id = :client_id;

-- name: list_org_members
SELECT u.id, u.email
FROM users u
JOIN clients cl ON cl.id = u.client_id
WHERE cl.clerk_organization_id = :org_id;
