"""What a front end is told about the run besides the text of the file.

Both the configuration (which reads `query_wrappers` from the user's file) and
the front ends (which recognise those wrappers) use these types, so they live
below both: this module imports only the tenancy model.
"""

from __future__ import annotations

from dataclasses import dataclass

from orgscope.model import TenancyModel


@dataclass(frozen=True)
class QueryWrapper:
    """A call of the project's data-access layer that behaves like a query."""

    call: str  # bare method or function name, or a dotted name
    op: str  # select | update | delete | insert | upsert
    table: int = 0  # index of the positional argument naming the table
    filters: int | None = None  # index of the dict of equality filters
    payload: int | None = None  # index of the inserted row(s)


@dataclass(frozen=True)
class ExtractContext:
    model: TenancyModel
    dialect: str = "postgres"
    query_wrappers: tuple[QueryWrapper, ...] = ()
    scoping_helpers: tuple[str, ...] = ()
    module: str = ""  # dotted module name of a Python file
    check_migration_queries: bool = False
