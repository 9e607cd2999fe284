"""SQLAlchemy models of the organization-shared tables."""

from sqlalchemy import Column, DateTime, ForeignKey, Text, func
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


class Voice(Base):
    __tablename__ = "voices"

    id = Column(Text, primary_key=True)
    clerk_org_id = Column(Text, nullable=False)
    name = Column(Text, nullable=False)
    provider = Column(Text, nullable=False)


class Agent(Base):
    __tablename__ = "agents"

    id = Column(Text, primary_key=True)
    clerk_org_id = Column(Text, nullable=False)
    name = Column(Text, nullable=False)
    voice_id = Column(Text, ForeignKey("voices.id"))
    created_at = Column(DateTime(timezone=True), server_default=func.now())


class Call(Base):
    __tablename__ = "calls"

    id = Column(Text, primary_key=True)
    clerk_org_id = Column(Text, nullable=False)
    agent_id = Column(Text, ForeignKey("agents.id"), nullable=False)
    status = Column(Text, nullable=False)
    started_at = Column(DateTime(timezone=True))
