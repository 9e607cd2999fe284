"""Agents: the voice bots an organization builds."""

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from app.db.service import DatabaseService
from app.deps import get_db, get_org_id, get_token

router = APIRouter(prefix="/agents")


class AgentIn(BaseModel):
    name: str
    voice_id: str


@router.get("")
def list_agents(org_id: str = Depends(get_org_id), db: DatabaseService = Depends(get_db)):
    return db.select("agents", {"clerk_org_id": org_id}, order_by="created_at")


@router.get("/{agent_id}")
def get_agent(agent_id: str, token: str = Depends(get_token), org_id: str = Depends(get_org_id)):
    db = DatabaseService(token, org_id)
    # The organization is known here, but the filter is the id alone.
    rows = db.select("agents", {"id": agent_id})
    return rows[0] if rows else None


@router.get("/{agent_id}/scoped")
def get_agent_scoped(agent_id: str, token: str = Depends(get_token), org_id: str = Depends(get_org_id)):
    db = DatabaseService(token, org_id)
    return db.select_one("agents", {"id": agent_id, "clerk_org_id": org_id})


@router.get("/{agent_id}/mine")
def get_own_agent(agent_id: str, db: DatabaseService = Depends(get_db)):
    rows = db.select_for_org("agents", {"id": agent_id})
    return rows[0] if rows else None


@router.post("")
def create_agent(body: AgentIn, db: DatabaseService = Depends(get_db)):
    payload = {"name": body.name, "voice_id": body.voice_id}
    return db.insert("agents", payload)


@router.post("/scoped")
def create_agent_scoped(body: AgentIn, org_id: str = Depends(get_org_id), db: DatabaseService = Depends(get_db)):
    base = {"name": body.name, "voice_id": body.voice_id}
    return db.insert("agents", {**base, "clerk_org_id": org_id})


@router.patch("/{agent_id}")
def rename_agent(agent_id: str, body: AgentIn, org_id: str = Depends(get_org_id), db=Depends(get_db)):
    return db.update("agents", {"id": agent_id, "clerk_org_id": org_id}, {"name": body.name})


@router.delete("/{agent_id}")
def delete_agent(agent_id: str, db: Annotated[DatabaseService, Depends(get_db)]):
    return db.delete("agents", {"id": agent_id})


@router.get("/stats/count")
def count_agents(db: DatabaseService = Depends(get_db)):
    return {"agents": db.count("agents")}


@router.get("/stats/count/scoped")
def count_agents_scoped(org_id: str = Depends(get_org_id), db: DatabaseService = Depends(get_db)):
    return {"agents": db.count("agents", {"clerk_org_id": org_id})}


@router.get("/{agent_id}/tools")
def agent_tools(agent_id: str, org_id: str = Depends(get_org_id), db: DatabaseService = Depends(get_db)):
    return db.list_tools(org_id, agent_id)
