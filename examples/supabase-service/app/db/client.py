"""One supabase client per request token (the service key when there is none)."""

from supabase import Client, create_client

from app.settings import SUPABASE_SERVICE_KEY, SUPABASE_URL


def get_supabase_client(token: str | None = None) -> Client:
    client = create_client(SUPABASE_URL, SUPABASE_SERVICE_KEY)
    if token:
        client.postgrest.auth(token)
    return client
