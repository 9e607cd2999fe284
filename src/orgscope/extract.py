"""Stage two of the pipeline: turn one file's text into facts.

Dispatches on the file kind that discovery assigned. Every front end returns a
FileFacts and never raises: a failure inside one file becomes an ORG900
Problem for that file, so one bad file cannot stop a run.
"""

from __future__ import annotations

from orgscope.context import ExtractContext
from orgscope.facts import FileFacts, Problem, Span


def module_name(path: str) -> str:
    """`app/db/agents.py` -> `app.db.agents`; `src/` layouts drop the `src`."""
    parts = path[:-3].split("/") if path.endswith(".py") else path.split("/")
    if parts and parts[-1] == "__init__":
        parts.pop()
    if parts and parts[0] == "src":
        parts.pop(0)
    return ".".join(parts)


def extract_file(path: str, text: str, kind: str, ctx: ExtractContext) -> FileFacts:
    """Facts of one decoded file. `kind` is sql | migration | python."""
    from orgscope import suppress

    python = path.endswith(".py")  # a Python module matched by a `migrations` glob has kind migration
    if python:
        from orgscope.python.extract import extract_python

        facts = extract_python(path, text, ctx, migration=kind == "migration")
    else:
        from orgscope.sql.frontend import extract_sql_file

        facts = extract_sql_file(path, text, kind, ctx)
    facts.suppressions = suppress.scan(text, "python" if python else "sql")
    return facts


def internal_error(path: str, kind: str, exc: BaseException) -> FileFacts:
    message = f"internal error while analysing this file: {type(exc).__name__}: {exc}"
    return FileFacts(path=path, kind=kind, problems=[Problem(span=Span(1, 1, 1, 2), message=message)])
