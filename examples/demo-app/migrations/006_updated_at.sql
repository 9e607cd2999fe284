-- 006: keep updated_at current. The function body is dollar-quoted; its
-- semicolons belong to PL/pgSQL, not to this file.
CREATE OR REPLACE FUNCTION set_updated_at() RETURNS trigger AS $body$
BEGIN
    NEW.updated_at := now();  -- the row being written; no other row is touched
    RETURN NEW;
END;
$body$ LANGUAGE plpgsql;

ALTER TABLE agents ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE campaigns ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

CREATE TRIGGER agents_set_updated_at BEFORE UPDATE ON agents
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
CREATE TRIGGER campaigns_set_updated_at BEFORE UPDATE ON campaigns
    FOR EACH ROW EXECUTE FUNCTION set_updated_at();
