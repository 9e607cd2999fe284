"""Agent persistence with SQLAlchemy (async sessions)."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Agent, Call


async def list_agents(session: AsyncSession, org_id: str) -> list[Agent]:
    stmt = select(Agent).where(Agent.clerk_org_id == org_id).order_by(Agent.created_at)
    return list(await session.scalars(stmt))


async def get_agent(session: AsyncSession, agent_id: str) -> Agent | None:
    # A primary-key lookup alone returns any organization's agent.
    return await session.get(Agent, agent_id)


async def search_agents(session: AsyncSession, name: str) -> list[Agent]:
    stmt = select(Agent).where(Agent.name.ilike(f"%{name}%")).limit(20)
    return list(await session.scalars(stmt))


async def calls_of_agent(session: AsyncSession, org_id: str, agent_id: str) -> list[Call]:
    stmt = (
        select(Call)
        .join(Agent, Call.agent_id == Agent.id)
        .where(Call.clerk_org_id == org_id, Agent.clerk_org_id == org_id, Agent.id == agent_id)
        .order_by(Call.started_at.desc())
    )
    return list(await session.scalars(stmt))


async def rename_agent(session: AsyncSession, org_id: str, agent_id: str, name: str) -> None:
    await session.execute(
        update(Agent).where(Agent.id == agent_id, Agent.clerk_org_id == org_id).values(name=name)
    )


async def create_agent(session: AsyncSession, org_id: str, name: str, voice_id: str) -> Agent:
    agent = Agent(clerk_org_id=org_id, name=name, voice_id=voice_id)
    session.add(agent)
    await session.flush()
    return agent
