"""SQLAlchemy models and queries as facts."""

from __future__ import annotations

from pyfacts import at, compares, only

from orgscope.facts import COLUMN, Or, PARAM

MODELS = '''
from sqlalchemy import Column, MetaData, Table, Text
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


class Agent(Base):
    __tablename__ = "agents"
    id = Column(Text, primary_key=True)


class ArchivedCall(Base):
    __tablename__ = "calls"
    __table_args__ = ({"schema": "archive"},)


metadata = MetaData()
voices_table = Table("voices", metadata, Column("id", Text))
'''


def test_model_catalog_facts(facts_of):
    facts = facts_of(MODELS, path="app/models.py")
    found = [(m.name, m.table, m.schema, m.module, at(m.span)) for m in facts.models]
    assert found == [
        ("Agent", "agents", None, "app.models", (9, 7)),
        ("ArchivedCall", "calls", "archive", "app.models", (14, 7)),
        ("voices_table", "voices", None, "app.models", (20, 1)),
    ]


def test_a_model_from_another_file_is_named_by_its_original_name(facts_of):
    facts = facts_of(
        '''
        from sqlalchemy import select
        from app.models import Agent as A
        import app.models as m

        async def get(session, org_id):
            a = await session.execute(select(A).where(A.clerk_org_id == org_id))
            b = await session.execute(select(m.Agent.id))
        '''
    )
    scoped, unscoped = facts.queries
    ref = only(scoped.blocks[0].refs)
    assert (ref.model, ref.table, at(ref.span)) == ("Agent", None, (6, 38))
    scope = only(compares(scoped))
    assert (scope.column.name, scope.column.ref, scope.op, scope.value.kind) == ("clerk_org_id", 0, "eq", PARAM)
    assert at(scope.column.span) == (6, 49)
    assert only(unscoped.blocks[0].refs).model == "Agent"
    assert compares(unscoped) == []


def test_a_model_of_the_same_file_has_its_table(facts_of):
    facts = facts_of(
        MODELS
        + '''

def q(session, org):
    return session.query(Agent).filter(Agent.clerk_org_id == org).all()
'''
    )
    ref = only(only(facts.queries).blocks[0].refs)
    assert (ref.table, ref.model) == ("agents", "Agent")


def test_session_get_is_a_reference_without_predicates(facts_of):
    facts = facts_of(
        '''
        from app.models import Agent

        async def get(session, pk):
            return await session.get(Agent, pk)
        '''
    )
    query = only(facts.queries)
    ref = only(query.blocks[0].refs)
    assert (ref.model, at(ref.span), query.blocks[0].where) == ("Agent", (4, 30), [])


def test_join_brings_a_reference_with_its_on_predicates(facts_of):
    facts = facts_of(
        '''
        from sqlalchemy import select, or_
        from app.models import Agent, Call

        def calls(session, org):
            stmt = (
                select(Call)
                .join(Agent, Call.agent_id == Agent.id)
                .where(or_(Call.clerk_org_id == org, Call.client_id == 3))
            )
            return session.scalars(stmt).all()
        '''
    )
    query = only(facts.queries)
    call, agent = query.blocks[0].refs
    assert (call.model, at(call.span)) == ("Call", (6, 16))
    assert (agent.model, at(agent.span)) == ("Agent", (7, 15))
    on = only(agent.on)
    assert (on.column.ref, on.value.kind, on.value.column.ref) == (0, COLUMN, 1)
    disjunction = only(query.blocks[0].where)
    assert isinstance(disjunction, Or) and len(disjunction.branches) == 2


def test_aliased_is_a_reference_of_its_own(facts_of):
    facts = facts_of(
        '''
        from sqlalchemy import select
        from sqlalchemy.orm import aliased
        from app.models import Agent

        def pairs(session, org):
            parent = aliased(Agent)
            stmt = select(Agent, parent).where(parent.clerk_org_id == org)
            return session.execute(stmt)
        '''
    )
    agent, parent = only(facts.queries).blocks[0].refs
    assert (agent.model, agent.alias, parent.model, parent.alias) == ("Agent", None, "Agent", "parent")
    assert only(compares(only(facts.queries))).column.ref == parent.id


def test_statement_built_in_steps_with_a_conditional_scope(facts_of):
    facts = facts_of(
        '''
        from sqlalchemy import select
        from app.models import Voice

        def voices(session, org_id, name):
            stmt = select(Voice)
            if org_id:
                stmt = stmt.where(Voice.clerk_org_id == org_id)
            stmt = stmt.where(Voice.name == name)
            return session.scalars(stmt).all()
        '''
    )
    query = only(facts.queries)
    scope = next(c for c in compares(query) if c.column.name == "clerk_org_id")
    assert scope.conditional
    assert not next(c for c in compares(query) if c.column.name == "name").conditional


def test_filter_by_in_and_other_operators(facts_of):
    facts = facts_of(
        '''
        from sqlalchemy import select, delete
        from app.models import Tool

        def a(session, org, orgs):
            session.query(Tool).filter_by(clerk_org_id=org).first()
            session.execute(select(Tool).where(Tool.clerk_org_id.in_(orgs)))
            session.execute(delete(Tool).where(Tool.clerk_org_id.is_not(None)))
            session.execute(select(Tool).where(Tool.clerk_org_id != org))
        '''
    )
    assert [(q.kind, only(compares(q)).op) for q in facts.queries] == [
        ("select", "eq"),
        ("select", "in"),
        ("delete", "other"),
        ("select", "other"),
    ]
    assert at(only(compares(facts.queries[0])).column.span) == (5, 35)


def test_inserts_and_constructors_are_writes(facts_of):
    facts = facts_of(
        '''
        from sqlalchemy import insert
        from app.models import Agent, Call

        def create(session, org, kw, client_id):
            session.add(Agent(name="a", clerk_org_id=org))
            session.add(Call(agent_id=1, client_id=client_id))
            session.add(Agent(**kw))
            session.execute(insert(Call).values(agent_id=1, clerk_org_id=org))
        '''
    )
    writes = [only(q.writes) for q in facts.queries]
    assert [(w.model, w.op, at(w.span)) for w in writes] == [
        ("Agent", "create", (5, 17)),
        ("Call", "create", (6, 17)),
        ("Agent", "create", (7, 17)),
        ("Call", "insert", (8, 28)),
    ]
    assert [None if w.columns is None else sorted(w.columns) for w in writes] == [
        ["clerk_org_id", "name"],
        ["agent_id", "client_id"],
        None,
        ["agent_id", "clerk_org_id"],
    ]
    assert at(writes[1].columns["client_id"]) == (6, 34)


def test_update_values_are_set_columns(facts_of):
    facts = facts_of(
        '''
        from sqlalchemy import update
        from app.models import Campaign

        def move(session, org, client_id):
            session.execute(update(Campaign).where(Campaign.clerk_org_id == org).values(client_id=client_id))
        '''
    )
    ref = only(only(facts.queries).blocks[0].refs)
    assert (ref.op, [c.name for c in ref.sets]) == ("update", ["client_id"])


def test_library_classes_are_not_models(facts_of):
    facts = facts_of(
        '''
        from fastapi import HTTPException
        from pydantic import BaseModel

        def fail():
            raise HTTPException(status_code=404, detail="agents not found")
        '''
    )
    assert facts.queries == []
