"""What the Python front end knows about a local name while it walks a function.

Every value that can become a query is immutable and carries an `origin`: the
id of the expression that created it (a string literal, a `.select()`, a
`select(Agent)`). Each step (`q = q.eq(...)`, `sql += ...`,
`filters["k"] = v`) makes a new value with the same origin, so when two code
paths meet the walker can `join` the two versions: whatever only one path
applied is conditional (SPEC section 4, "Conditional scoping").
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Iterable, Sequence, TypeVar, Union

from orgscope.facts import Span
from orgscope.python.template import Piece

T = TypeVar("T")


# --- predicates, before they become facts ---------------------------------------


@dataclass(frozen=True)
class PCol:
    """A column; `entity` names the relation it belongs to (None: the only one)."""

    name: str
    span: Span
    entity: str | None = None
    qualifier: str | None = None


@dataclass(frozen=True)
class PCompare:
    column: PCol
    op: str
    value: str  # a facts value kind: param, literal, call, subquery, column, unknown
    value_column: PCol | None = None


@dataclass(frozen=True)
class POr:
    branches: tuple[tuple["PPred", ...], ...]


PPred = Union[PCompare, POr]


def pred_key(pred: PPred) -> str:
    """What makes two predicates the same filter, wherever they were written."""
    if isinstance(pred, PCompare):
        other = ""
        if pred.value_column is not None:
            other = f"{pred.value_column.entity}.{pred.value_column.name}"
        return f"{pred.op}({pred.column.entity}.{pred.column.name},{pred.value}{other})"
    return "or(" + "|".join(",".join(pred_key(p) for p in branch) for branch in pred.branches) + ")"


@dataclass(frozen=True)
class PredItem:
    pred: PPred
    conditional: bool = False

    @property
    def key(self) -> str:
        return pred_key(self.pred)


@dataclass(frozen=True)
class KeyItem:
    """A key of a dict literal (a payload or a filters dict)."""

    name: str
    span: Span
    value: str  # value kind
    conditional: bool = False

    @property
    def key(self) -> str:
        return self.name


def merge(a: Sequence[T], b: Sequence[T], key: Callable[[T], str]) -> tuple[T, ...]:
    """Items of two paths; an item only one path has becomes conditional."""
    b_keys = {key(x) for x in b}
    a_keys = {key(x) for x in a}
    out = []
    for item in a:
        if key(item) not in b_keys:
            item = replace(item, conditional=True)  # type: ignore[type-var]
        else:
            twin = next(x for x in b if key(x) == key(item))
            if getattr(twin, "conditional", False):
                item = replace(item, conditional=True)  # type: ignore[type-var]
        out.append(item)
    for item in b:
        if key(item) not in a_keys:
            out.append(replace(item, conditional=True))  # type: ignore[type-var]
    return tuple(out)


def _piece_key(piece: Piece) -> str:
    return repr(piece.key)


# --- values ------------------------------------------------------------------------


@dataclass(frozen=True)
class Tmpl:
    """A string (maybe SQL) built from literals and interpolations."""

    origin: int
    pieces: tuple[Piece, ...]
    statement: Span  # the statement that created it: its first line takes suppressions

    def join(self, other: "Tmpl") -> "Tmpl":
        return replace(self, pieces=merge(self.pieces, other.pieces, _piece_key))


@dataclass(frozen=True)
class DictVal:
    """A dict literal bound to a local name, maybe built up key by key."""

    origin: int
    keys: tuple[KeyItem, ...]
    opaque: bool = False  # something not visible went into it (`**other`, a computed key)

    def join(self, other: "DictVal") -> "DictVal":
        return replace(self, keys=merge(self.keys, other.keys, lambda k: k.key), opaque=self.opaque or other.opaque)

    def with_key(self, item: KeyItem) -> "DictVal":
        return replace(self, keys=tuple(k for k in self.keys if k.name != item.name) + (item,))


@dataclass(frozen=True)
class ListVal:
    """A list of dict literals (rows of a bulk insert)."""

    origin: int
    items: tuple[DictVal, ...]
    opaque: bool = False

    def join(self, other: "ListVal") -> "ListVal":
        extra = tuple(i for i in other.items if i.origin not in {x.origin for x in self.items})
        return replace(self, items=self.items + extra, opaque=self.opaque or other.opaque)


@dataclass(frozen=True)
class ExprItem:
    """One element of an ExprList, kept as written until it is used."""

    node: object  # the libcst expression
    key: str  # its source text: the same element on two paths
    conditional: bool = False


@dataclass(frozen=True)
class ExprList:
    """A list or tuple of expressions built in a function (`filters = [...]`,
    `filters.append(...)`), read where it is splatted (`.where(*filters)`).
    An element that only some paths add is conditional."""

    origin: int
    items: tuple[ExprItem, ...] = ()
    opaque: bool = False  # something not visible went into it

    def join(self, other: "ExprList") -> "ExprList":
        return replace(self, items=merge(self.items, other.items, lambda i: i.key), opaque=self.opaque or other.opaque)

    def extended(self, items: Iterable[ExprItem]) -> "ExprList":
        return replace(self, items=self.items + tuple(items))


@dataclass(frozen=True)
class Handle:
    """`sb.table("agents")` before an operation is chosen."""

    table: str
    schema: str | None
    table_span: Span
    scoped_by: str | None = None
    origin: int | None = None

    def join(self, other: "Handle") -> "Handle":
        return self


@dataclass(frozen=True)
class Chain:
    """A supabase-py chain or a call of the project's data-access layer."""

    origin: int
    source: str  # supabase | wrapper
    op: str  # select | update | delete | insert | upsert
    table: str
    schema: str | None
    table_span: Span
    span: Span
    statement: Span
    preds: tuple[PredItem, ...] = ()
    sets: tuple[KeyItem, ...] = ()
    payloads: tuple[DictVal | None, ...] = ()
    selected: tuple[PCol, ...] = ()
    scoped_by: str | None = None
    dynamic: bool = False
    negate: bool = False  # `.not_` applies to the next filter
    unseen: str | None = None  # what could not be followed (the filters passed to a wrapper)
    payload_span: Span | None = None  # the payload argument of an insert / upsert

    def join(self, other: "Chain") -> "Chain":
        return replace(
            self,
            preds=merge(self.preds, other.preds, lambda p: p.key),
            sets=merge(self.sets, other.sets, lambda k: k.key),
            scoped_by=self.scoped_by if self.scoped_by == other.scoped_by else None,
            dynamic=self.dynamic or other.dynamic,
        )


@dataclass(frozen=True)
class Entity:
    """An SQLAlchemy model class, Table object or aliased() of one."""

    key: str
    model: str | None  # the name the project catalog knows (class or Table variable)
    table: str | None  # known when the model is defined in the same file
    schema: str | None = None
    alias: str | None = None
    origin: int | None = None

    def join(self, other: "Entity") -> "Entity":
        return self


@dataclass(frozen=True)
class RefItem:
    entity: Entity
    span: Span
    on: tuple[PredItem, ...] = ()
    conditional: bool = False

    @property
    def key(self) -> str:
        return self.entity.key


@dataclass(frozen=True)
class Stmt:
    """An SQLAlchemy statement or ORM query being built."""

    origin: int
    op: str  # select | update | delete | insert | upsert
    span: Span
    statement: Span
    refs: tuple[RefItem, ...] = ()
    preds: tuple[PredItem, ...] = ()
    sets: tuple[KeyItem, ...] = ()
    columns: tuple[PCol, ...] = ()  # tenancy-model columns mentioned anywhere
    write: DictVal | None = None  # insert values; None = not visible
    scoped_by: str | None = None
    dynamic: bool = False
    # Entities that are the enclosing query's rows, not new references: the
    # correlation of a subquery (auto-correlated, `.correlate(X)`), and
    # `.correlate_except(Y)` (every entity but these).
    outer: tuple[str, ...] = ()
    outer_except: tuple[str, ...] | None = None

    def join(self, other: "Stmt") -> "Stmt":
        return replace(
            self,
            outer=tuple(k for k in self.outer if k in other.outer),
            refs=merge(self.refs, other.refs, lambda r: r.key),
            preds=merge(self.preds, other.preds, lambda p: p.key),
            sets=merge(self.sets, other.sets, lambda k: k.key),
            columns=self.columns + tuple(c for c in other.columns if c not in self.columns),
            scoped_by=self.scoped_by if self.scoped_by == other.scoped_by else None,
            dynamic=self.dynamic or other.dynamic,
        )


@dataclass(frozen=True)
class Instance:
    """An instance of a project class that leads to its data-access layer."""

    cls: str  # qualified class name
    origin: int | None = None

    def join(self, other: "Instance") -> "Instance":
        return self


Value = Union[Tmpl, DictVal, ListVal, ExprList, Handle, Chain, Entity, Stmt, Instance]
QUERY_VALUES = (Tmpl, Chain, Stmt)


def join_values(a: Iterable[Value], b: Iterable[Value]) -> tuple[Value, ...]:
    """The values a name may hold after two paths meet."""
    out: list[Value] = list(a)
    for value in b:
        for i, mine in enumerate(out):
            if type(mine) is type(value) and mine.origin is not None and mine.origin == value.origin:
                out[i] = mine.join(value)  # type: ignore[arg-type]
                break
        else:
            if value not in out:
                out.append(value)
    return tuple(out)


# --- facts ---------------------------------------------------------------------------


def to_fact(pred: PPred, conditional: bool, ref_of: Callable[[str | None], int | None]):
    """The facts form of a predicate; `ref_of` maps an entity key to a Ref id."""
    from orgscope.facts import COLUMN, Column, Compare, Or, Value as FactValue

    if isinstance(pred, POr):
        return Or([[to_fact(p, conditional, ref_of) for p in branch] for branch in pred.branches])

    def column(col: PCol) -> Column:
        return Column(col.name, col.qualifier, col.span, ref=ref_of(col.entity))

    other = column(pred.value_column) if pred.value == COLUMN and pred.value_column is not None else None
    return Compare(column(pred.column), pred.op, FactValue(pred.value, other), conditional=conditional)


def pred_columns(pred: PPred) -> list[PCol]:
    if isinstance(pred, POr):
        return [c for branch in pred.branches for p in branch for c in pred_columns(p)]
    return [pred.column] + ([pred.value_column] if pred.value_column is not None else [])
