"""Raw SQL helpers over one asyncpg pool; the SQL text is the caller's."""

import asyncpg
import psycopg

from app.settings import SUPABASE_URL

_pool: asyncpg.Pool | None = None


async def fetch_all(sql: str, *args):
    return await _pool.fetch(sql, *args)


async def fetch_one(sql: str, *args):
    return await _pool.fetchrow(sql, *args)


def get_connection() -> psycopg.Connection:
    return psycopg.connect(SUPABASE_URL)
