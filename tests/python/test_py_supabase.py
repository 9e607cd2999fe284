"""supabase-py chains, the facts they give: tables, operations, payloads, spans.
Which filters scope, and on which paths, are cases in tests/cases/python_queries.yaml."""

from __future__ import annotations

from pyfacts import at, compares, only

from orgscope.facts import LITERAL, PARAM


def scope_of(query, column="clerk_org_id"):
    return [c for c in compares(query) if c.column.name == column]


def test_a_scoped_select_chain(facts_of):
    facts = facts_of(
        '''
        async def list_agents(sb, org_id):
            res = await sb.table("agents").select("id, name").eq("clerk_org_id", org_id).order("name").execute()
            return res.data
        '''
    )
    query = only(facts.queries)
    assert (query.kind, query.origin) == ("select", "supabase")
    assert query.text == "supabase:agents:select:eq(clerk_org_id)"
    ref = only(query.blocks[0].refs)
    assert (ref.table, ref.op, ref.id) == ("agents", "select", 0)
    # the table name without its quotes
    assert (ref.span.line, ref.span.column, ref.span.end_column) == (2, 27, 33)
    scope = only(scope_of(query))
    assert (scope.op, scope.value.kind, scope.column.ref, scope.conditional) == ("eq", PARAM, 0, False)
    assert at(scope.column.span) == (2, 59)


def test_a_chain_continued_through_a_local_is_one_query(facts_of):
    facts = facts_of(
        '''
        def agents(sb, org_id, name=None):
            q = sb.table("agents").select("*")
            q = q.eq("clerk_org_id", org_id)
            if name:
                q = q.ilike("name", name)
            return q.execute()
        '''
    )
    query = only(facts.queries)
    scope = only(scope_of(query))
    assert not scope.conditional
    assert at(scope.column.span) == (3, 15)
    assert {c.column.name: c.op for c in compares(query)} == {"clerk_org_id": "eq", "name": "other"}


def test_update_payload_keys_are_recorded_as_set_columns(facts_of):
    facts = facts_of(
        '''
        def a(sb, org, client_id):
            sb.table("campaigns").update({"client_id": client_id, "name": "n"}).eq("clerk_org_id", org).execute()
        '''
    )
    ref = only(only(facts.queries).blocks[0].refs)
    assert [(c.name, at(c.span), c.ref) for c in ref.sets] == [("client_id", (2, 36), 0), ("name", (2, 60), 0)]


def test_insert_payload_literal_local_and_list(facts_of):
    facts = facts_of(
        '''
        def a(sb, org, client_id):
            sb.table("calls").insert({"agent_id": 1, "client_id": client_id}).execute()
            payload = {"name": "x"}
            payload["clerk_org_id"] = org
            sb.table("voices").insert(payload).execute()
            rows = [{"clerk_org_id": org, "name": "a"}, {"name": "b"}]
            sb.table("tools").upsert(rows, on_conflict="id").execute()
        '''
    )
    calls, voices, tools = facts.queries
    write = only(calls.writes)
    assert (write.table, write.op, at(write.span)) == ("calls", "insert", (2, 15))
    assert {k: at(s) for k, s in write.columns.items()} == {"agent_id": (2, 32), "client_id": (2, 47)}
    assert sorted(only(voices.writes).columns) == ["clerk_org_id", "name"]
    assert tools.kind == "upsert"
    assert [sorted(w.columns) for w in tools.writes] == [["clerk_org_id", "name"], ["name"]]
    assert all(w.op == "upsert" for w in tools.writes)


def test_payload_that_is_not_visible_has_no_columns(facts_of):
    facts = facts_of(
        '''
        def a(sb, payload, extra):
            sb.table("calls").insert(payload).execute()
            sb.table("calls").insert({**extra, "name": "x"}).execute()
        '''
    )
    assert [only(q.writes).columns for q in facts.queries] == [None, None]


def test_module_constant_table_names_and_unresolvable_tables(facts_of):
    facts = facts_of(
        '''
        AGENTS = "agents"

        def a(sb, org, table):
            sb.table(AGENTS).select("*").execute()
            sb.table(table).select("*").execute()
            sb.schema("archive").table("agents").select("*").execute()
        '''
    )
    first, archived = facts.queries
    ref = only(first.blocks[0].refs)
    assert (ref.table, at(ref.span)) == ("agents", (4, 14))
    assert (only(archived.blocks[0].refs).schema, only(archived.blocks[0].refs).table) == ("archive", "agents")
    assert facts.problems == []


def test_literal_and_parameter_values(facts_of):
    facts = facts_of(
        '''
        def a(sb, org):
            sb.table("agents").select("*").eq("clerk_org_id", "org_123").eq("id", org).execute()
        '''
    )
    kinds = {c.column.name: c.value.kind for c in compares(only(facts.queries))}
    assert kinds == {"clerk_org_id": LITERAL, "id": PARAM}


def test_select_list_and_filters_record_tenancy_columns(facts_of):
    facts = facts_of(
        '''
        def a(sb, org):
            sb.table("agents").select("id, clerk_organization_id").eq("clerk_organization_id", org).execute()
        '''
    )
    block = only(only(facts.queries).blocks)
    assert [(c.name, at(c.span)) for c in block.columns] == [
        ("clerk_organization_id", (2, 64)),
        ("clerk_organization_id", (2, 36)),
    ]


def test_chain_span_covers_the_whole_expression(facts_of):
    facts = facts_of(
        '''
        def a(sb, org):
            rows = (
                sb.table("agents")
                .select("*")
                .eq("clerk_org_id", org)
                .execute()
            )
        '''
    )
    query = only(facts.queries)
    assert (query.span.line, query.span.column, query.span.end_line) == (3, 9, 6)
