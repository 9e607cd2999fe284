-- 002: voice agents, the voices they speak with, and what they know.
CREATE TABLE voices (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    client_id uuid NOT NULL REFERENCES clients (id),
    provider text NOT NULL,            -- elevenlabs; playht; azure
    provider_voice_id text NOT NULL
);

CREATE TABLE knowledge_bases (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    client_id uuid NOT NULL REFERENCES clients (id),
    name text NOT NULL
);

CREATE TABLE agents (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    client_id uuid NOT NULL REFERENCES clients (id),
    name text NOT NULL,
    system_prompt text NOT NULL DEFAULT '',
    voice_id uuid REFERENCES voices (id),
    knowledge_base_id uuid REFERENCES knowledge_bases (id),
    status text NOT NULL DEFAULT 'draft',
    created_by uuid REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_agents_client_id ON agents (client_id);

CREATE TABLE tools (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    client_id uuid NOT NULL REFERENCES clients (id),
    agent_id uuid NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    name text NOT NULL,
    http_url text NOT NULL
);
