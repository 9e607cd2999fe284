"""Raw SQL in Python strings: how it is assembled and where its tokens are. What is
SQL, a parameter or a fragment, and what scopes it, are cases in tests/cases/python_queries.yaml."""

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
