"""Reporting queries in raw SQL, over asyncpg and psycopg."""

from psycopg import sql

from app.db.pool import fetch_all, get_connection

KB_COLUMNS = ", ".join(["id", "name", "document_count"])


async def knowledge_bases(order_by: str, limit: int) -> list:
    return await fetch_all(f"SELECT {KB_COLUMNS} FROM knowledge_bases ORDER BY {order_by} LIMIT $1", limit)


async def knowledge_bases_scoped(org_id: str, order_by: str) -> list:
    return await fetch_all(
        f"SELECT {KB_COLUMNS} FROM knowledge_bases WHERE clerk_org_id = $1 ORDER BY {order_by}", org_id
    )


def voice_by_id(voice_id: str) -> tuple:
    query = sql.SQL("SELECT * FROM {} WHERE id = %s").format(sql.Identifier("voices"))
    with get_connection() as conn:
        return conn.execute(query, (voice_id,)).fetchone()


def voice_by_id_scoped(voice_id: str, org_id: str) -> tuple:
    query = sql.SQL("SELECT * FROM {} WHERE id = %s AND clerk_org_id = %s").format(sql.Identifier("voices"))
    with get_connection() as conn:
        return conn.execute(query, (voice_id, org_id)).fetchone()
