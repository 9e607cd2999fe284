"""The SQL front end's entry point: a .sql file's text -> FileFacts.

A query file gives queries (extract.py); a migration gives schema events
(ddl.py) for the statements that change the schema, and queries too when the
configuration asks for them. Only what the migration tool applies going
forward is read (sections.py).
"""

from __future__ import annotations

from orgscope.context import ExtractContext
from orgscope.facts import FileFacts
from orgscope.positions import LineIndex
from orgscope.sql.ddl import calls_function, schema_events, selects_into
from orgscope.sql.extract import DDL_WORDS, DML_WORDS, analyze_statement, first_word, problems_for
from orgscope.sql.functions import function_queries, is_function
from orgscope.sql.views import view_of, view_query
from orgscope.sql.sections import forward_text
from orgscope.sql.split import split_statements


def extract_sql_file(path: str, text: str, kind: str, ctx: ExtractContext) -> FileFacts:
    """Facts of a .sql file: queries for query files, schema events for migrations."""
    facts = FileFacts(path=path, kind=kind)
    if kind == "migration":
        # Only what the tool applies going forward: a down section is blanked.
        forward = forward_text(text, path)
        text, facts.migration_tool = forward.text, forward.tool
        facts.notes.extend(forward.notes)
    positions = LineIndex(text)
    model = ctx.model
    check_queries = kind != "migration" or ctx.check_migration_queries

    def wanted(body: str) -> bool:
        word = first_word(body)
        if kind == "migration" and word in DDL_WORDS:
            return True
        return check_queries and word in DML_WORDS and model.mentions(body)

    for stmt in split_statements(text, ctx.dialect, wanted=wanted):
        word = stmt.first_word
        if kind == "migration" and word in DDL_WORDS:
            try:
                events, problems = schema_events(stmt, positions, ctx.dialect, model=model, expectations=True)
            except Exception as exc:  # one broken statement must not stop the file
                events, problems = [], problems_for(stmt, positions, model, f"internal error: {exc}")
            facts.events.extend(events)
            facts.problems.extend(problems)
            if word == "CREATE" and is_function(stmt):
                # A function body runs per request: its queries are checked.
                queries, problems = function_queries(stmt, positions, model, ctx.dialect)
                facts.queries.extend(queries)
                facts.problems.extend(problems)
            elif word == "CREATE" and view_of(stmt.expr) is not None:
                queries, problems = view_query(stmt, positions, model)
                facts.queries.extend(queries)
                facts.problems.extend(problems)
        else:
            if kind == "migration" and word in ("SELECT", "CALL", "WITH") and (
                    calls_function(stmt.text) or (word != "CALL" and selects_into(stmt.text))):
                # A function that may create tables the replay cannot see, or SELECT ... INTO a table.
                facts.events.extend(schema_events(stmt, positions, ctx.dialect, model=model, expectations=True)[0])
            if check_queries and word in DML_WORDS:
                queries, problems = analyze_statement(stmt, positions, model=model, origin="sql")
                facts.queries.extend(queries)
                facts.problems.extend(problems)
    return facts
