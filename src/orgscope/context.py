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
    # Known for a wrapper orgscope inferred from its definition (SPEC section 10):
    params: tuple[str, ...] = ()  # parameter names in order, so keyword arguments map too
    owner: str | None = None  # the qualified class of a method (instances of subclasses match)
    table_param: str | None = None
    filters_param: str | None = None
    payload_param: str | None = None
    org: str = "never"  # what the wrapper adds itself: always | conditional | never
    org_params: tuple[str, ...] = ()  # conditional: the parameters whose truth adds it
    source: str | None = None  # path:line of the definition

    @property
    def inferred(self) -> bool:
        return self.source is not None


@dataclass(frozen=True)
class DataLayer:
    """What the whole project's code says about its own data-access layer
    (inferred in the catalog phase by `orgscope.python.datalayer`)."""

    wrappers: tuple[QueryWrapper, ...] = ()
    bases: tuple[tuple[str, tuple[str, ...]], ...] = ()  # class -> its bases (qualified)
    attributes: tuple[tuple[str, str, str], ...] = ()  # (class, attribute, class of its value)
    instances: tuple[tuple[str, str], ...] = ()  # module-level instance or factory -> class
    constants: tuple[tuple[str, str], ...] = ()  # qualified module constant -> string

    def names(self) -> frozenset[str]:
        """Names whose mention makes a file worth parsing for wrapper calls."""
        out = {w.call.rsplit(".", 1)[-1] for w in self.wrappers}
        out.update(c.rsplit(".", 1)[-1] for c, _ in self.bases)
        out.update(n.rsplit(".", 1)[-1] for n, _ in self.instances)
        return frozenset(out)


@dataclass(frozen=True)
class ExtractContext:
    model: TenancyModel
    dialect: str = "postgres"
    query_wrappers: tuple[QueryWrapper, ...] = ()
    scoping_helpers: tuple[str, ...] = ()
    module: str = ""  # dotted module name of a Python file
    check_migration_queries: bool = False
    data_layer: DataLayer = DataLayer()  # the wrappers and types inferred in the catalog phase
