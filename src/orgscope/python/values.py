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
from typing import TYPE_CHECKING, Callable, Iterable, Sequence, TypeVar, Union

import libcst as cst

from orgscope.facts import LITERAL, PARAM, Span
from orgscope.python.mapped import decode, split_prefix
from orgscope.python.template import Piece

if TYPE_CHECKING:
    from orgscope.python.recogniser import Walk

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


def merge_preds(a: Sequence[PredItem], b: Sequence[PredItem]) -> tuple[PredItem, ...]:
    """Filters of two paths, as `merge`; but one comparison that each path makes
    with a value of its own (`org_id = :org` on one, `= 'default'` on the other)
    is one filter, either of the two (an `Or` of them), not two conditional ones."""
    a, b = list(a), list(b)
    b_keys, a_keys = {p.key for p in b}, {p.key for p in a}
    for i, mine in enumerate(a):
        if mine.key in b_keys or mine.conditional or not isinstance(mine.pred, PCompare):
            continue
        for j, theirs in enumerate(b):
            if (theirs.key not in a_keys and not theirs.conditional and isinstance(theirs.pred, PCompare)
                    and _same_comparison(mine.pred, theirs.pred)):
                a[i] = b[j] = PredItem(POr(((mine.pred,), (theirs.pred,))))
                break
    return merge(a, b, lambda p: p.key)


def _same_comparison(a: PCompare, b: PCompare) -> bool:
    return a.op == b.op and (a.column.entity, a.column.name) == (b.column.entity, b.column.name)


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
            preds=merge_preds(self.preds, other.preds),
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
            preds=merge_preds(self.preds, other.preds),
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


def same_query(a: Value, b: Value) -> bool:
    """Two queries built apart that read or change the same rows the same way
    (`select(Agent).filter_by(...) if org else select(Agent)`): the alternatives
    of one query, whose filters differ by path."""
    if isinstance(a, Stmt) and isinstance(b, Stmt):
        return a.op == b.op and [r.key for r in a.refs] == [r.key for r in b.refs]
    if isinstance(a, Chain) and isinstance(b, Chain):
        return (a.source, a.op, a.table, a.schema) == (b.source, b.op, b.table, b.schema)
    return False


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


# --- payloads: the rows and filters a query is given ---------------------------------
#
# Shared by every recogniser: what a dict literal or `dict(...)` sets, how a
# row's columns are written, and where a literal's text is.

CHAIN = "0"  # the entity key of the one table a chain is about


def literal_span(w: "Walk", node: cst.BaseExpression) -> Span:
    """The span of a string literal's text without its quotes (else the node's)."""
    if isinstance(node, cst.SimpleString):
        prefix, quote, body = split_prefix(node.value)
        line, column = w.start(node)
        _, where = decode(body, (line, column + len(prefix) + len(quote)), raw="r" in prefix.lower())
        if where:
            end_line, end_column = where[-1]
            return Span(where[0][0], where[0][1], end_line, end_column + 1)
    return w.span(node)


def value_kind(node: cst.BaseExpression) -> str:
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString, cst.Integer, cst.Float)):
        return LITERAL
    if isinstance(node, cst.Name) and node.value in ("None", "True", "False"):
        return LITERAL
    if isinstance(node, cst.UnaryOperation) and isinstance(node.expression, (cst.Integer, cst.Float)):
        return LITERAL
    return PARAM


def payloads_of(values) -> tuple[DictVal | None, ...]:
    """Rows an insert writes: one per dict literal; None where not visible."""
    rows: list[DictVal | None] = []
    for value in values:
        if isinstance(value, DictVal):
            rows.append(value)
        elif isinstance(value, ListVal):
            rows.extend(value.items)
            if value.opaque:
                rows.append(None)
    return tuple(rows) if rows else (None,)


def payload_columns(row: DictVal | None, org_column: str | None = None) -> dict[str, Span] | None:
    """The columns a row sets; None when they are not visible. A row built
    partly out of sight (`dict(row, clerk_org_id=org)`) that visibly sets
    the org column is judged by what is visible."""
    if row is None or (row.opaque and not any(k.name == org_column for k in row.keys)):
        return None
    return {k.name: k.span for k in row.keys}


def dict_literal(w: "Walk", node: cst.Dict) -> DictVal:
    keys: list[KeyItem] = []
    opaque = False
    for element in node.elements:
        if isinstance(element, cst.StarredDictElement):
            found = [v for v in w.ev(element.value) if isinstance(v, DictVal)]
            if len(found) == 1 and not found[0].opaque:
                keys = [k for k in keys if k.name not in {f.name for f in found[0].keys}] + list(found[0].keys)
            else:
                opaque = True
            continue
        name = w.constant(element.key)
        if name is None:
            opaque = True
            w.use(w.ev(element.key))
        else:
            keys = [k for k in keys if k.name != name]
            keys.append(KeyItem(name, literal_span(w, element.key), value_kind(element.value)))
        w.use(w.ev(element.value))
    return DictVal(w.new_origin(), tuple(keys), opaque)


def dict_call(w: "Walk", node: cst.Call) -> DictVal:
    keys: list[KeyItem] = []
    opaque = False
    for arg in node.args:
        if arg.keyword is not None:
            keys.append(KeyItem(arg.keyword.value, w.span(arg.keyword), value_kind(arg.value)))
        else:
            found = [v for v in w.ev(arg.value) if isinstance(v, DictVal)]
            if len(found) == 1 and not found[0].opaque:
                keys.extend(found[0].keys)
            else:
                opaque = True
            continue
        w.use(w.ev(arg.value))
    return DictVal(w.new_origin(), tuple(keys), opaque)


def set_item(w: "Walk", target: cst.Subscript, value: cst.BaseExpression) -> None:
    """`filters["clerk_org_id"] = org` on a dict bound to a local name."""
    name = target.value.value  # type: ignore[attr-defined]
    current = [v for v in w.env.get(name, ()) if isinstance(v, DictVal)]
    key_node = None
    if len(target.slice) == 1 and isinstance(target.slice[0].slice, cst.Index):
        key_node = target.slice[0].slice.value
    key = w.constant(key_node) if key_node is not None else None
    if key_node is not None and key is None:
        w.use(w.ev(key_node))
    if not current:
        return
    if key is None:
        w.bind(name, tuple(replace(d, opaque=True) for d in current))
        return
    item = KeyItem(key, literal_span(w, key_node), value_kind(value))  # type: ignore[arg-type]
    w.bind(name, tuple(d.with_key(item) for d in current))


def payload_method(w: "Walk", value, name: str, node: cst.Call):
    """dict.update / setdefault / pop and list.append on locals being built."""
    args = node.args
    if isinstance(value, DictVal):
        if name == "update":
            updated = value
            for arg in args:
                if arg.keyword is not None:
                    updated = updated.with_key(KeyItem(arg.keyword.value, w.span(arg.keyword), value_kind(arg.value)))
                    w.use(w.ev(arg.value))
                    continue
                found = [v for v in w.ev(arg.value) if isinstance(v, DictVal)]
                if len(found) == 1 and not found[0].opaque:
                    for key in found[0].keys:
                        updated = updated.with_key(key)
                else:
                    updated = replace(updated, opaque=True)
            return (updated,)
        if name == "setdefault" and args:
            key = w.constant(args[0].value)
            for arg in args[1:]:
                w.use(w.ev(arg.value))
            if key is None:
                return (replace(value, opaque=True),)
            if any(k.name == key for k in value.keys):
                return (value,)
            kind = value_kind(args[1].value) if len(args) > 1 else "literal"
            return (value.with_key(KeyItem(key, literal_span(w, args[0].value), kind)),)
        if name == "pop" and args:
            key = w.constant(args[0].value)
            for arg in args[1:]:
                w.use(w.ev(arg.value))
            # The popped value is what the expression gives; the dict loses the key.
            if key is None:
                return None
            return (replace(value, keys=tuple(k for k in value.keys if k.name != key)),)
        if name == "copy" and not args:
            return (value,)
        return None
    if isinstance(value, ListVal):
        if name == "append" and len(args) == 1:
            found = [v for v in w.ev(args[0].value) if isinstance(v, DictVal)]
            if len(found) == 1:
                return (replace(value, items=value.items + (found[0],)),)
            return (replace(value, opaque=True),)
        if name in ("extend", "insert"):
            for arg in args:
                w.use(w.ev(arg.value))
            return (replace(value, opaque=True),)
    return None
