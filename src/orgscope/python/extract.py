"""The Python front end: one .py file -> FileFacts (SPEC sections 4 and 5).

libcst parses the file once (positions are computed only where facts need
them: `orgscope.python.positions`); the walker then walks it with the
recognisers of `RECOGNISERS` (the project's own data-access calls, raw SQL
strings, SQLAlchemy queries, supabase-py chains) and, for an Alembic
revision, reads its schema events. The code is read, never imported or run.
Nothing here raises: what cannot be analysed becomes a Problem (ORG900) when
it mentions the tenancy model, or a note otherwise.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

import libcst as cst

from orgscope.facts import FileFacts, Problem, Span
from orgscope.python import alembic, django
from orgscope.python.names import Names
from orgscope.python.positions import NodePositions
from orgscope.python.postgrest_http import PostgrestHttp
from orgscope.python.rawsql import RawSql
from orgscope.python.recogniser import Recogniser
from orgscope.python.sqlalchemy import SqlAlchemy, collect_models
from orgscope.python.supabase import Supabase
from orgscope.python.walker import Walker
from orgscope.python.wrappers import Wrappers

if TYPE_CHECKING:
    from orgscope.context import ExtractContext

# The ways of writing queries, in the order the walker asks them: the
# project's data-access layer first (a wrapper may take SQL text or a table
# name), then raw SQL strings, PostgREST over HTTP, SQLAlchemy and supabase.
RECOGNISERS: tuple[Recogniser, ...] = (Wrappers(), RawSql(), PostgrestHttp(), SqlAlchemy(), Supabase())


def extract_python(path: str, text: str, ctx: "ExtractContext", migration: bool = False) -> FileFacts:
    """Facts of one Python file (`migration`: matched by a `migrations` glob); never raises."""
    try:
        return _extract(path, text, ctx, migration)
    except RecursionError:
        return _failed(path, text, ctx, "the file is too deeply nested to analyse")
    except Exception as exc:  # a bug here must cost one file, never the run
        return _failed(path, text, ctx, f"internal error while analysing this file: {type(exc).__name__}: {exc}")


def _extract(path: str, text: str, ctx: "ExtractContext", migration: bool) -> FileFacts:
    # libcst's native parser cannot be interrupted by the time bound, and it
    # takes time quadratic in the length of an operator chain. CPython's parser
    # (parsing only, about 20x faster) refuses such nesting at once.
    # Deep nesting can also crash libcst outright, so what CPython calls too
    # nested is refused here too.
    tree: ast.Module | None = None
    try:
        tree = compile(text, path, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except (RecursionError, MemoryError):
        return _failed(path, text, ctx, "the file is too deeply nested to analyse within file_timeout")
    except SyntaxError as exc:
        if "nested" in str(exc.msg):
            return _failed(path, text, ctx, f"the file is too deeply nested to analyse: {exc.msg}")
    except (ValueError, OverflowError):
        pass  # libcst reports syntax errors itself, with its own recovery
    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        return _unparsable(path, text, ctx, exc)
    except (ValueError, UnicodeError, RecursionError) as exc:
        return _failed(path, text, ctx, f"cannot parse Python: {exc}", syntax=True)
    # CPython's statements anchor positions computed a statement at a time.
    positions = NodePositions(module, tree, text)
    names = Names(module, getattr(ctx, "module", "") or "", is_package=path.endswith("__init__.py"))
    info = alembic.revision_info(module)
    other_migration = info is None and (migration or django.is_django_migration(module, path))
    kind = "alembic" if info is not None else "migration" if other_migration else "python"
    emit_queries = kind == "python" or bool(getattr(ctx, "check_migration_queries", False))
    walker = Walker(module, positions, names, ctx, RECOGNISERS, emit_queries=emit_queries)
    facts = FileFacts(path=path, kind=kind)
    facts.models = collect_models(walker)
    if info is not None:
        facts.alembic = alembic.revision(walker, info)
    elif other_migration:
        facts.events = django.migration_events(walker, module, executes=migration)
    walker.run_module()
    facts.queries = sorted(walker.queries, key=lambda q: (q.span.line, q.span.column))
    facts.problems = walker.problems
    facts.legacy_flows = walker.legacy_flows
    facts.wrapper_calls = sorted(walker.configured_calls)
    return facts


def _unparsable(path: str, text: str, ctx: "ExtractContext", exc: cst.ParserSyntaxError) -> FileFacts:
    message = str(exc.message).strip().splitlines()
    reason = message[0] if message else "syntax error"
    line, column = exc.raw_line, exc.raw_column + 1
    # CPython's own parser (parsing only, nothing is run) usually points closer
    # to the mistake than libcst's error recovery does.
    try:
        compile(text, path, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as error:
        if error.lineno:
            line, column = error.lineno, max(error.offset or 1, 1)
            reason = error.msg or reason
    except (ValueError, RecursionError, MemoryError):
        pass
    return _failed(path, text, ctx, f"cannot parse Python: {reason}", line, column, syntax=True)


def _failed(
    path: str, text: str, ctx: "ExtractContext", message: str, line: int = 1, column: int = 1, syntax: bool = False
) -> FileFacts:
    facts = FileFacts(path=path, kind="python")
    if ctx.model.mentions(text):
        facts.problems.append(Problem(span=Span(line, column, line, column + 1), message=message))
    elif syntax:
        facts.notes.append(f"not valid Python, skipped: {path}:{line}")
    else:
        facts.notes.append(f"could not analyse, skipped: {path}: {message}")
    return facts
