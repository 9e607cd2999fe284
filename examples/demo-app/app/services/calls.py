"""Call records through supabase-py."""

from __future__ import annotations

from supabase import Client

CALLS = "calls"


def list_calls(sb: Client, org_id: str, status: str | None = None) -> list[dict]:
    query = sb.table(CALLS).select("id, agent_id, status, started_at").eq("clerk_org_id", org_id)
    if status:
        query = query.eq("status", status)
    return query.order("started_at", desc=True).execute().data


def get_call(sb: Client, org_id: str | None, call_id: str) -> dict:
    if not org_id:
        raise PermissionError("an organization is required")
    res = sb.table("calls").select("*").eq("id", call_id).eq("clerk_org_id", org_id).single().execute()
    return res.data


def recent_calls(sb: Client, limit: int = 50) -> list[dict]:
    return sb.table("calls").select("*").order("started_at", desc=True).limit(limit).execute().data


def calls_for_agent(sb: Client, agent_id: str, org_id: str | None = None) -> list[dict]:
    query = sb.table("calls").select("*").eq("agent_id", agent_id)
    if org_id:
        query = query.eq("clerk_org_id", org_id)
    return query.execute().data


def record_call(sb: Client, client_id: int, agent_id: str, to_number: str) -> list[dict]:
    payload = {"agent_id": agent_id, "to_number": to_number, "client_id": client_id, "status": "queued"}
    return sb.table("calls").insert(payload).execute().data


def queue_call(sb: Client, org_id: str, agent_id: str, to_number: str) -> list[dict]:
    row = {"clerk_org_id": org_id, "agent_id": agent_id, "to_number": to_number, "status": "queued"}
    return sb.table(CALLS).insert(row).execute().data


def close_call(sb: Client, org_id: str, call_id: str, status: str) -> None:
    sb.table("calls").update({"status": status}).eq("id", call_id).eq("clerk_org_id", org_id).execute()
