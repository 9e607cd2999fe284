"""Raw SQL in Python strings: what is SQL, how it is assembled, where its tokens are."""

from __future__ import annotations

from pyfacts import at, compares, only

from orgscope.facts import PARAM


def refs(facts):
    return [(r.table, at(r.span)) for q in facts.queries for b in q.blocks for r in b.refs]


def test_implicit_concatenation_maps_the_table_on_the_second_line_exactly(facts_of):
    facts = facts_of(
        '''
        def load(cur, agent_id):
            cur.execute(
                "SELECT id, name "
                    "FROM agents WHERE id = %s",
                (agent_id,),
            )
        '''
    )
    query = only(facts.queries)
    assert query.origin == "python-sql"
    ref = only(query.blocks[0].refs)
    assert ref.table == "agents"
    # line 4: `            "FROM agents ...` -> the quote is at column 13, `agents` at 19
    assert (ref.span.line, ref.span.column, ref.span.end_line, ref.span.end_column) == (4, 19, 4, 25)
    # the statement starts where the Python statement starts (suppressions go there)
    assert at(query.span) == (2, 5)
    assert not query.dynamic


def test_escapes_and_line_continuations_before_the_table_keep_columns_exact(facts_of):
    facts = facts_of(
        r'''
        SQL = "SELECT *\n\tFROM \x61gents \
        WHERE id = %s"
        '''
    )
    ref = only(only(facts.queries).blocks[0].refs)
    assert ref.table == "agents"
    # `\x61` decodes to the `a` of agents: the span runs from its backslash
    # to the end of `gents`, on the line before the continuation
    assert (ref.span.line, ref.span.column, ref.span.end_line, ref.span.end_column) == (1, 25, 1, 34)
    assert at(only(facts.queries).span) == (1, 1)


def test_unicode_escape_and_raw_string(facts_of):
    facts = facts_of(
        r'''
        A = "SELECT * FROM \u0061gents WHERE clerk_org_id = %s"
        B = r"SELECT * FROM calls WHERE name ~ '\d+'"
        '''
    )
    assert refs(facts) == [("agents", (1, 20)), ("calls", (2, 21))]


def test_triple_quoted_multi_line_query_positions(facts_of):
    facts = facts_of(
        '''
        UNSCOPED = """
            SELECT c.id, c.status
              FROM calls AS c
              JOIN agents a ON a.id = c.agent_id
             WHERE a.clerk_org_id = %(org)s
        """
        '''
    )
    query = only(facts.queries)
    assert sorted((r.table, at(r.span)) for r in query.blocks[0].refs) == [("agents", (4, 12)), ("calls", (3, 12))]
    assert at(query.span) == (1, 1)


def test_fstring_value_interpolation_is_a_bind_parameter(facts_of):
    facts = facts_of(
        '''
        def get(cur, org_id, agent_id):
            cur.execute(f"SELECT * FROM agents WHERE clerk_org_id = {org_id} AND id = '{agent_id}'")
        '''
    )
    query = only(facts.queries)
    assert not query.dynamic
    scope = next(c for c in compares(query) if c.column.name == "clerk_org_id")
    assert scope.op == "eq" and scope.value.kind == PARAM


def test_fstring_fragment_interpolation_makes_the_query_dynamic(facts_of):
    facts = facts_of(
        '''
        def search(cur, where_clause, order):
            cur.execute(f"SELECT * FROM calls {where_clause} ORDER BY {order}")
        '''
    )
    query = only(facts.queries)
    assert query.dynamic
    assert refs(facts) == [("calls", (2, 33))]
    assert compares(query) == []


def test_fstring_where_fragment_is_dynamic_but_still_parses(facts_of):
    facts = facts_of(
        '''
        def search(cur, extra):
            cur.execute(f"SELECT * FROM agents WHERE {extra}")
        '''
    )
    query = only(facts.queries)
    assert query.dynamic and facts.problems == []


def test_module_constant_table_in_fstring_is_inlined_at_the_use(facts_of):
    facts = facts_of(
        '''
        AGENTS = "agents"

        def get(cur, org):
            cur.execute(f"SELECT * FROM {AGENTS} WHERE clerk_org_id = {org}")
        '''
    )
    query = only(facts.queries)
    assert not query.dynamic  # a constant is not a fragment
    # reported at the constant's name in the query, not at its definition
    # (shared by every query that uses it)
    assert refs(facts) == [("agents", (4, 34))]


def test_percent_template_with_a_tuple_keeps_values_as_parameters(facts_of):
    facts = facts_of(
        '''
        def get(cur, org):
            cur.execute("SELECT * FROM voices WHERE clerk_org_id = %s AND name LIKE '%%x'" % (org,))
        '''
    )
    query = only(facts.queries)
    assert not query.dynamic
    assert only(compares(query)).value.kind == PARAM


def test_percent_template_with_a_table_name_is_a_fragment(facts_of):
    # A table-name fragment cannot hold a predicate: the query is not uncertain (SPEC section 10).
    facts = facts_of(
        '''
        def count(cur, table_name):
            cur.execute("SELECT count(*) FROM %s WHERE clerk_org_id = 'x'" % table_name)
        '''
    )
    query = only(facts.queries)
    assert not query.dynamic
    assert [r.table for r in query.blocks[0].refs] != ["agents"]


def test_format_with_named_value_and_fragment(facts_of):
    facts = facts_of(
        '''
        def page(cur, org, order):
            sql = "SELECT * FROM contacts WHERE clerk_org_id = {org} ORDER BY {order}".format(org=org, order=order)
            cur.execute(sql)
        '''
    )
    query = only(facts.queries)
    assert not query.dynamic  # an ORDER BY fragment holds no predicate (SPEC section 10)
    assert only(compares(query)).value.kind == PARAM
    assert refs(facts) == [("contacts", (2, 26))]


def test_docstrings_and_prose_are_not_sql(facts_of):
    facts = facts_of(
        '''
        """SELECT * FROM agents -- a module docstring"""

        class Repo:
            """Select which agents to call from the agents table."""

            def run(self):
                """DELETE FROM calls is what this does."""
                log("Select which agents to call")
                log("Update calls when done")
                log("Delete agents that are stale")
                log("Truncate the text of calls")
        '''
    )
    assert facts.queries == [] and facts.problems == []


def test_plus_concatenation_and_sql_plus_equals_in_one_function(facts_of):
    facts = facts_of(
        '''
        def build(cur, org):
            sql = "SELECT id " + "FROM knowledge_bases "
            sql += "WHERE clerk_org_id = %s"
            sql += " ORDER BY id"
            cur.execute(sql, (org,))
        '''
    )
    query = only(facts.queries)
    assert refs(facts) == [("knowledge_bases", (2, 32))]
    scope = only(compares(query))
    assert scope.column.name == "clerk_org_id" and not scope.conditional
    assert at(scope.column.span) == (3, 19)


def test_if_guarded_append_of_the_org_filter_is_conditional(facts_of):
    facts = facts_of(
        '''
        def build(cur, org, name):
            sql = "SELECT * FROM tools"
            if org:
                sql += " WHERE clerk_org_id = %s"
            cur.execute(sql)
        '''
    )
    query = only(facts.queries)
    scope = only(compares(query))
    assert scope.conditional
    assert scope.column.ref == 0
    assert at(scope.column.span) == (4, 24)


def test_unconditional_append_after_conditional_other_filter(facts_of):
    facts = facts_of(
        '''
        def build(cur, org, name):
            sql = "SELECT * FROM tools WHERE clerk_org_id = %s"
            if name:
                sql += " AND name = %s"
            cur.execute(sql)
        '''
    )
    query = only(facts.queries)
    scope = next(c for c in compares(query) if c.column.name == "clerk_org_id")
    assert not scope.conditional  # only the name filter is optional


def test_a_local_fragment_used_in_an_fstring_is_one_statement(facts_of):
    facts = facts_of(
        '''
        def build(cur, org):
            scope = "WHERE clerk_org_id = %s"
            cur.execute(f"SELECT * FROM campaigns {scope}", (org,))
        '''
    )
    query = only(facts.queries)
    assert not query.dynamic
    assert only(compares(query)).column.name == "clerk_org_id"
    assert len(facts.queries) == 1  # the fragment is not a query of its own


def test_text_and_exec_driver_sql_arguments(facts_of):
    facts = facts_of(
        '''
        from sqlalchemy import text

        async def q(session, conn):
            await session.execute(text("SELECT * FROM webhook_endpoints WHERE id = :id"))
            await conn.exec_driver_sql("DELETE FROM calls WHERE id = %s")
        '''
    )
    assert [(q.kind, r.table) for q in facts.queries for r in q.blocks[0].refs] == [
        ("select", "webhook_endpoints"),
        ("delete", "calls"),
    ]


def test_a_constant_used_twice_is_reported_once(facts_of):
    facts = facts_of(
        '''
        SQL = "SELECT * FROM agents WHERE id = %s"

        def a(cur, x):
            cur.execute(SQL, (x,))

        def b(cur, x):
            cur.execute(SQL, (x,))
        '''
    )
    assert refs(facts) == [("agents", (1, 22))]


def test_unparsable_sql_mentioning_an_org_table_is_a_problem(facts_of):
    facts = facts_of(
        '''
        BROKEN = "SELECT * FROM agents WHERE (id = %s"
        '''
    )
    assert facts.queries == []
    problem = only(facts.problems)
    assert problem.span.line == 1


def test_sql_in_a_list_or_keyword_argument_is_found(facts_of):
    facts = facts_of(
        '''
        QUERIES = {"all": "SELECT * FROM contact_folders"}
        run(sql="UPDATE contacts SET name = %s WHERE id = %s")
        '''
    )
    assert sorted(r for r, _ in refs(facts)) == ["contact_folders", "contacts"]
