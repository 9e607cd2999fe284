"""Plain functions for code that holds a client of its own."""

from supabase import Client


def fetch_rows(client: Client, table: str, filters: dict) -> list[dict]:
    query = client.from_(table).select("*")
    return query.match(filters).execute().data
