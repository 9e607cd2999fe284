"""Raw SQL helpers on a psycopg connection."""

from __future__ import annotations

import psycopg


def fetch_agent(conn: psycopg.Connection, org_id: str, agent_id: str):
    with conn.cursor() as cur:
        cur.execute(
            "SELECT id, name, voice_id "
            "FROM agents "
            "WHERE clerk_org_id = %s AND id = %s",
            (org_id, agent_id),
        )
        return cur.fetchone()


def list_contacts(conn: psycopg.Connection, org_id: str, order_by: str):
    with conn.cursor() as cur:
        cur.execute(f"SELECT id, name, phone FROM contacts WHERE clerk_org_id = %s ORDER BY {order_by}", (org_id,))
        return cur.fetchall()


def search_contacts(conn: psycopg.Connection, where_clause: str, params: tuple):
    with conn.cursor() as cur:
        cur.execute(f"SELECT id, name, phone FROM contacts {where_clause}", params)
        return cur.fetchall()


def export_recent_calls(conn: psycopg.Connection):
    with conn.cursor() as cur:
        cur.execute(
            """
            SELECT c.id, c.status, a.name AS agent_name
              FROM calls AS c
              JOIN agents AS a ON a.id = c.agent_id
             WHERE c.started_at > now() - interval '1 day'
            """
        )
        return cur.fetchall()
