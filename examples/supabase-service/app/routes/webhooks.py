"""Provider webhooks: no user token, so everything goes through the admin service."""

from fastapi import APIRouter, Request

from app.db.shared import admin_db

router = APIRouter(prefix="/webhooks")


@router.post("/call-ended")
async def call_ended(request: Request):
    event = await request.json()
    agent = admin_db.select_one("agents", {"id": event["agent_id"], "clerk_org_id": event["org_id"]})
    if agent is None:
        return {"ok": False}
    # Agents created before the move to organizations carry only client_id.
    org_id = agent.get("clerk_org_id") or agent.get("client_id")
    admin_db.insert("calls", {"agent_id": agent["id"], "clerk_org_id": org_id, "status": "ended"})
    return {"ok": True}


@router.post("/recording-ready")
async def recording_ready(request: Request):
    event = await request.json()
    client_id = event.get("client_id")
    admin_db.insert("audit_log", {"client_id": client_id, "action": "recording_ready"})
    record_recording(event["call_id"], event["url"], org_id=event.get("org_id") or client_id)
    return {"ok": True}


def record_recording(call_id: str, url: str, org_id: str) -> None:
    admin_db.update("calls", {"id": call_id, "clerk_org_id": org_id}, {"recording_url": url})


def queue_call(agent_id: str, client_id: int, org_id: str) -> None:
    row = {"agent_id": agent_id, "client_id": client_id, "clerk_org_id": org_id, "status": "queued"}
    try:
        admin_db.insert("calls", row)
    except Exception:
        admin_db.upsert("calls", row)
