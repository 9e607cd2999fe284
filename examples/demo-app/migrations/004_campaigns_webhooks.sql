-- 004: outbound campaigns and the customer's webhook endpoints.
CREATE TABLE campaigns (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    client_id uuid NOT NULL REFERENCES clients (id),
    agent_id uuid NOT NULL REFERENCES agents (id),
    folder_id uuid REFERENCES contact_folders (id),
    name text NOT NULL,
    status text NOT NULL DEFAULT 'draft',
    archived_at timestamptz
);

ALTER TABLE calls ADD COLUMN campaign_id uuid REFERENCES campaigns (id);

CREATE TABLE webhook_endpoints (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    client_id uuid NOT NULL REFERENCES clients (id),
    url text NOT NULL,
    secret text NOT NULL,
    events text[] NOT NULL DEFAULT '{call.ended}'
);
