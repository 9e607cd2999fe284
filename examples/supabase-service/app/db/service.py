"""The data-access layer every route goes through."""

from __future__ import annotations

from typing import Any

from app.db.client import get_supabase_client


class DatabaseService:
    def __init__(self, token: str | None = None, org_id: str | None = None):
        self.client = get_supabase_client(token)
        self.org_id = org_id

    def select(self, table: str, filters: dict | None = None, order_by: str | None = None, limit: int | None = None):
        query = self.client.table(table).select("*")
        for key, value in (filters or {}).items():
            query = query.eq(key, value)
        if order_by:
            query = query.order(order_by)
        if limit:
            query = query.limit(limit)
        return query.execute().data

    def select_for_org(self, table: str, filters: dict | None = None):
        """Rows of the caller's organization only."""
        if not self.org_id:
            raise PermissionError("an organization is required")
        query = self.client.table(table).select("*").eq("clerk_org_id", self.org_id)
        for key, value in (filters or {}).items():
            query = query.eq(key, value)
        return query.execute().data

    def select_one(self, table: str, filters: dict | None = None):
        rows = self.select(table, filters, limit=1)
        return rows[0] if rows else None

    def count(self, table: str, filters: dict | None = None) -> int:
        query = self.client.table(table).select("id", count="exact")
        for key, value in (filters or {}).items():
            query = query.eq(key, value)
        return query.execute().count or 0

    def insert(self, table: str, data: dict | list[dict]):
        return self.client.table(table).insert(data).execute().data

    def upsert(self, table: str, data: dict, on_conflict: str = "id"):
        return self.client.table(table).upsert(data, on_conflict=on_conflict).execute().data

    def update(self, table: str, filters: dict, data: dict):
        query = self.client.table(table).update(data)
        for key, value in filters.items():
            query = query.eq(key, value)
        return query.execute().data

    def delete(self, table: str, filters: dict):
        return self.client.table(table).delete().match(filters).execute().data

    # --- domain helpers -------------------------------------------------------------

    def get_call(self, call_id: str, org_id: str | None = None) -> dict[str, Any] | None:
        filters = {"id": call_id}
        if org_id or self.org_id:
            filters["clerk_org_id"] = org_id or self.org_id
        # Without an organization this looks the call up by id alone.
        return self.select_one("calls", filters)

    def get_voice(self, voice_id: str) -> dict[str, Any] | None:
        if not self.org_id:
            raise PermissionError("an organization is required")
        return self.select_one("voices", {"id": voice_id, "clerk_org_id": self.org_id})

    def list_tools(self, org_id: str, agent_id: str) -> list[dict]:
        return self.select("tools", {"clerk_org_id": org_id, "agent_id": agent_id}, order_by="name")


class DatabaseAdminService(DatabaseService):
    """The service role: row level security does not apply, so every filter counts."""

    def __init__(self) -> None:
        super().__init__(token=None)
