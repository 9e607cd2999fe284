"""Voices, read with a plain helper."""

from app.db.client import get_supabase_client
from app.db.rows import fetch_rows


def voices_by_provider(provider: str) -> list[dict]:
    return fetch_rows(get_supabase_client(), "voices", {"provider": provider})


def voices_of_org(org_id: str, provider: str) -> list[dict]:
    return fetch_rows(get_supabase_client(), "voices", {"clerk_org_id": org_id, "provider": provider})
