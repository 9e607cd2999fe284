-- 005: the ledgers. These stay per client: billing and audit follow the
-- account that paid or acted, not the organization.
CREATE TABLE audit_log (
    id bigserial PRIMARY KEY,
    client_id uuid NOT NULL REFERENCES clients (id),
    actor_user_id uuid REFERENCES users (id),
    action text NOT NULL,
    payload jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_audit_log_client_id_created_at ON audit_log (client_id, created_at DESC);

CREATE TABLE credit_transactions (
    id bigserial PRIMARY KEY,
    client_id uuid NOT NULL REFERENCES clients (id),
    amount_cents integer NOT NULL,
    reason text NOT NULL,
    call_id uuid REFERENCES calls (id),
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE idempotency_keys (
    key text PRIMARY KEY,
    client_id uuid NOT NULL REFERENCES clients (id),
    response jsonb,
    created_at timestamptz NOT NULL DEFAULT now()
);
