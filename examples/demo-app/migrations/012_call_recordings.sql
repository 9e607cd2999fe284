-- 012: recordings, and the listing every dashboard opens with.
ALTER TABLE calls
    ADD COLUMN recording_url TEXT,
    ADD COLUMN duration_seconds integer;
CREATE INDEX idx_calls_clerk_org_id_started_at ON calls (clerk_org_id, started_at DESC);
