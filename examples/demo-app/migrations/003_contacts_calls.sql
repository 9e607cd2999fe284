-- 003: who the agents call, and the calls themselves.
CREATE TABLE contact_folders (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    client_id uuid NOT NULL REFERENCES clients (id),
    name text NOT NULL
);

CREATE TABLE contacts (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    client_id uuid NOT NULL REFERENCES clients (id),
    folder_id uuid REFERENCES contact_folders (id) ON DELETE SET NULL,
    phone_number text NOT NULL,
    name text,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE calls (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    client_id uuid NOT NULL REFERENCES clients (id),
    agent_id uuid NOT NULL REFERENCES agents (id),
    contact_id uuid REFERENCES contacts (id),
    direction text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    status text NOT NULL DEFAULT 'queued',
    started_at timestamptz,
    ended_at timestamptz,
    transcript text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_calls_client_id ON calls (client_id);
CREATE INDEX idx_calls_agent_id ON calls (agent_id);
