"""Calls: what the agents did."""

from fastapi import APIRouter, Depends

from app.db.service import DatabaseService
from app.db.shared import admin_db
from app.deps import get_db, get_org_id
from app.tables import CALLS_TABLE

router = APIRouter(prefix="/calls")


@router.get("/{call_id}")
def get_call(call_id: str, db: DatabaseService = Depends(get_db)):
    return db.get_call(call_id)


@router.get("")
def list_calls(status: str | None = None, org_id: str = Depends(get_org_id), db: DatabaseService = Depends(get_db)):
    filters = {"clerk_org_id": org_id}
    if status:
        filters["status"] = status
    return db.select(CALLS_TABLE, filters, order_by="started_at")


@router.get("/by-agent/{agent_id}")
def calls_of_agent(agent_id: str, org_id: str | None = None, db: DatabaseService = Depends(get_db)):
    filters = {"agent_id": agent_id}
    if org_id:
        filters["clerk_org_id"] = org_id
    return db.select(CALLS_TABLE, filters)


def close_call(call_id: str) -> None:
    admin_db.update(CALLS_TABLE, {"id": call_id}, {"status": "closed"})


def close_call_scoped(call_id: str, org_id: str) -> None:
    admin_db.update(CALLS_TABLE, {"id": call_id, "clerk_org_id": org_id}, {"status": "closed"})


def purge_calls(org_id: str) -> None:
    admin_db.delete(CALLS_TABLE, filters=None)
