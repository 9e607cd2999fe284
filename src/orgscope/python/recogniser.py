"""The protocol between the walker and the recognisers.

The walker (walker.py) evaluates a module statement by statement; a
recogniser knows one way of writing queries (raw SQL strings, SQLAlchemy,
supabase, the project's data-access layer) and turns the code it matches into
values and, at the end, into query facts. python/extract.py hands the walker
an ordered list of recognisers; at each hook the walker asks them in that
order and takes the first answer that is not None.

A recogniser imports neither the walker nor another recogniser: what they
share (payloads, literal spans, value kinds) lives in values.py, and what a
recogniser may ask of the walker is `Walk` below.

Adding a query style is adding one module with one `Recogniser` subclass
and its place in `RECOGNISERS` (python/extract.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Iterable, Protocol, Sequence

import libcst as cst

if TYPE_CHECKING:
    from orgscope.context import ExtractContext
    from orgscope.facts import LegacyFlow, Problem, Query, Span
    from orgscope.model import TenancyModel
    from orgscope.python.mapped import Pos
    from orgscope.python.names import Names
    from orgscope.python.values import Value


class Walk(Protocol):
    """What a recogniser may ask of the walker that runs it."""

    ctx: ExtractContext
    model: TenancyModel
    names: Names
    module: cst.Module
    env: dict[str, tuple[Value, ...]]
    module_env: dict[str, tuple[Value, ...]]
    queries: list[Query]
    problems: list[Problem]
    legacy_flows: list[LegacyFlow]
    local_models: dict[str, tuple[str, str | None]]
    flask_dbs: set[str]
    layer: Any  # instances.index_of(...): the data-access layer's index
    emit_queries: bool

    @property
    def statement(self) -> Span: ...
    def span(self, node: cst.CSTNode) -> Span: ...
    def start(self, node: cst.CSTNode) -> Pos: ...
    def reading(self, statement: cst.CSTNode) -> None: ...
    def source(self, node: cst.CSTNode) -> str: ...
    def constant(self, node: cst.BaseExpression) -> str | None: ...
    def mentions_org(self, node: cst.CSTNode) -> bool: ...
    def ev(self, node: cst.CSTNode) -> tuple[Value, ...]: ...
    def use(self, values: Iterable[Value]) -> None: ...
    def absorb(self, values: Iterable[Value]) -> None: ...
    def lookup(self, name: str) -> tuple[Value, ...]: ...
    def bind(self, name: str, values: Sequence[Value]) -> None: ...
    def new_origin(self) -> int: ...
    def created(self, value: Value) -> Value: ...


class Recogniser:
    """One way of writing queries. Every hook answers None (or False) when the
    code is not this recogniser's; `receives` are the value types whose
    methods it evaluates, `emits` the value types it turns into facts."""

    receives: ClassVar[tuple[type, ...]] = ()
    emits: ClassVar[tuple[type, ...]] = ()

    # --- what it matches -------------------------------------------------------

    def name(self, w: Walk, node: cst.Name) -> Value | None:
        """A name no local binds (`Agent`, a model class)."""
        return None

    def attribute(self, w: Walk, node: cst.Attribute) -> tuple[Value, ...] | None:
        """`x.y`, before `x` is evaluated (`Agent.clerk_org_id`)."""
        return None

    def attribute_of(self, w: Walk, node: cst.Attribute, base: tuple[Value, ...]) -> tuple[Value, ...] | None:
        """`x.y`, given what `x` evaluated to."""
        return None

    def string(self, w: Walk, node: cst.BaseExpression) -> Value | None:
        """A string literal, concatenated or formatted."""
        return None

    def binary(self, w: Walk, node: cst.BinaryOperation) -> Value | None:
        """`a + b`, `a % b`."""
        return None

    def call(self, w: Walk, node: cst.Call) -> tuple[Value, ...] | None:
        """Any call, before anything else looks at it."""
        return None

    def method_call(self, w: Walk, node: cst.Call, method: str) -> tuple[Value, ...] | None:
        """`x.m(...)`, before `x` is evaluated."""
        return None

    def unknown_method_call(self, w: Walk, node: cst.Call, method: str) -> tuple[Value, ...] | None:
        """`x.m(...)` when no value of `x` took the method."""
        return None

    def function_call(self, w: Walk, node: cst.Call) -> tuple[Value, ...] | None:
        """`f(...)` with a plain name."""
        return None

    def method(self, w: Walk, value: Value, method: str, node: cst.Call) -> tuple[Value, ...] | None:
        """`value.method(...)` for a value of one of `receives`."""
        return None

    def assign(self, w: Walk, name: str, value: cst.BaseExpression) -> bool:
        """`name = value`: True when handled (`sql = sql + "..."`)."""
        return False

    def augment(self, w: Walk, node: cst.AugAssign) -> bool:
        """`name += value`: True when handled."""
        return False

    # --- what facts it emits -------------------------------------------------------

    def emit(self, w: Walk, value: Value) -> None:
        """Append the query facts (`w.queries`, `w.problems`) of a value of `emits`."""


HOOKS = ("name", "attribute", "attribute_of", "string", "binary", "call", "method_call",
         "unknown_method_call", "function_call", "assign", "augment")


def hooks(recognisers: Sequence[Recogniser], hook: str) -> tuple:
    """The bound `hook` of each recogniser that implements it, in order."""
    default = getattr(Recogniser, hook)
    return tuple(getattr(r, hook) for r in recognisers if getattr(type(r), hook) is not default)
