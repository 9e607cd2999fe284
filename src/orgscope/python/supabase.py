"""supabase-py / postgrest chains (SPEC section 4).

`sb.table("agents")` (or `.from_("agents")`) gives a table handle; the
operation (`.select / .update / .delete / .insert / .upsert`) starts a chain;
filters add predicates; `.execute()` runs it. A chain kept in a local
(`q = q.eq(...)`) is the same chain: the walker carries it from statement to
statement. The data-access-layer wrappers produce the same kind of chain.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

import libcst as cst

from orgscope.facts import PARAM, Block, Column, Query, Ref, Span, Write
from orgscope.model import split_table_name
from orgscope.python.mapped import decode, split_prefix
from orgscope.python.recogniser import Recogniser
from orgscope.python.values import (
    CHAIN,
    Chain,
    DictVal,
    Handle,
    KeyItem,
    PCol,
    PCompare,
    PredItem,
    literal_span,
    payload_columns,
    payloads_of,
    pred_columns,
    to_fact,
    value_kind,
)

if TYPE_CHECKING:
    from orgscope.python.recogniser import Walk

OPERATIONS = frozenset({"select", "insert", "update", "delete", "upsert"})
# Filters that narrow rows; only eq and in_ can scope (SPEC section 4).
_FILTERS = frozenset(
    {
        "eq", "neq", "gt", "gte", "lt", "lte", "like", "ilike", "like_all_of", "like_any_of", "ilike_all_of",
        "ilike_any_of", "is_", "in_", "contains", "contained_by", "cs", "cd", "ov", "overlaps", "range_gt",
        "range_gte", "range_lt", "range_lte", "range_adjacent", "sl", "sr", "nxl", "nxr", "adj", "fts", "plfts",
        "phfts", "wfts", "text_search",
    }
)  # fmt: skip
_SCOPING_FILTERS = {"eq": "eq", "in_": "in"}
_FILTER_OPERATORS = {"eq": "eq", "in": "in"}


def table_call(w: "Walk", node: cst.Call, method: str):
    """`X.table("agents")` / `X.from_("agents")` -> a table handle."""
    if method not in ("table", "from_") or len(node.args) != 1:
        return None
    arg = node.args[0]
    if arg.keyword is not None or arg.star:
        return None
    name = w.constant(arg.value)
    if name is None:
        if w.model.mentions(w.source(arg.value)):
            from orgscope.facts import Problem

            w.problems.append(
                Problem(w.span(arg.value), "cannot resolve the table name of this supabase call", None, w.statement.line)
            )
        return None
    schema, table = split_table_name(name.strip())
    receiver = node.func.value  # type: ignore[attr-defined]
    if (
        isinstance(receiver, cst.Call)
        and isinstance(receiver.func, cst.Attribute)
        and receiver.func.attr.value == "schema"
        and len(receiver.args) == 1
    ):
        chosen = w.constant(receiver.args[0].value)
        if chosen:
            schema = None if chosen.lower() == "public" else chosen.lower()
    return (Handle(table, schema, literal_span(w, arg.value)),)


def attribute(w: "Walk", node: cst.Attribute, base: tuple):
    """`q.not_`: the next filter is negated, so it never scopes."""
    if node.attr.value == "not_":
        chains = tuple(replace(v, negate=True) for v in base if isinstance(v, Chain))
        if chains:
            return chains
    return None


def start(w: "Walk", handle: Handle, op: str, node: cst.Call, source: str = "supabase") -> Chain:
    return Chain(
        origin=w.new_origin(),
        source=source,
        op=op,
        table=handle.table,
        schema=handle.schema,
        table_span=handle.table_span,
        span=w.span(node),
        statement=w.statement,
        scoped_by=handle.scoped_by,
    )


def method(w: "Walk", value, name: str, node: cst.Call):
    if isinstance(value, Handle):
        if name in OPERATIONS:
            return (operation(w, start(w, value, name, node), name, node),)
        if name in _FILTERS or name in ("match", "filter", "or_", "execute", "limit", "order", "single"):
            # A helper-built handle used directly: it reads.
            return method(w, start(w, value, "select", node), name, node)
        return None
    chain: Chain = value
    if _same_expression(chain.span, w.span(node)):
        chain = replace(chain, span=w.span(node))
    args = node.args
    if name == "execute":
        _use_args(w, node)
        w.use([chain])
        return ()
    if name in _FILTERS:
        op = "other" if chain.negate else _SCOPING_FILTERS.get(name, "other")
        chain = replace(chain, negate=False)
        if not args:
            return (chain,)
        return (_filter(w, chain, args[0].value, op, args[1:], node),)
    if name == "filter" and len(args) >= 2:
        operator = w.constant(args[1].value)
        op = "other" if chain.negate or operator is None else _FILTER_OPERATORS.get(operator.strip().lower(), "other")
        chain = replace(chain, negate=False)
        return (_filter(w, chain, args[0].value, op, [a for i, a in enumerate(args) if i != 0], node),)
    if name == "match" and args:
        values = w.ev(args[0].value)
        dicts = [v for v in values if isinstance(v, DictVal)]
        _use_args(w, node, skip=1)
        if len(dicts) != 1 or dicts[0].opaque:
            return (replace(chain, dynamic=True, negate=False),)
        op = "other" if chain.negate else "eq"
        preds = tuple(
            PredItem(PCompare(PCol(k.name, k.span, CHAIN), op, k.value), k.conditional) for k in dicts[0].keys
        )
        return (replace(chain, preds=chain.preds + preds, negate=False),)
    if name in OPERATIONS and name != "select":
        return (operation(w, replace(chain, op=name), name, node),)
    # or_() never scopes; order(), limit(), single() ... change no rows.
    _use_args(w, node)
    return (replace(chain, negate=False) if name == "or_" else chain,)


def _same_expression(current: Span, outer: Span) -> bool:
    return (outer.line, outer.column) == (current.line, current.column)


def _filter(w: "Walk", chain: Chain, column_node: cst.BaseExpression, op: str, rest, node) -> Chain:
    column = w.constant(column_node)
    for arg in rest:
        w.use(w.ev(arg.value))
    if column is None:
        w.use(w.ev(column_node))
        return replace(chain, dynamic=True)  # the filtered column is not visible
    qualifier, _, name = column.strip().rpartition(".")
    kind = value_kind(rest[-1].value) if rest else PARAM
    col = PCol(name, literal_span(w, column_node), None if qualifier else CHAIN, qualifier or None)
    return replace(chain, preds=chain.preds + (PredItem(PCompare(col, op, kind)),))


def operation(w: "Walk", chain: Chain, name: str, node: cst.Call) -> Chain:
    args = node.args
    first = args[0].value if args and args[0].keyword is None and not args[0].star else None
    if name == "select":
        if first is not None:
            chain = replace(chain, selected=_selected(w, first))
        _use_args(w, node)
        return chain
    if name == "delete":
        _use_args(w, node)
        return chain
    values = w.ev(first) if first is not None else ()
    _use_args(w, node, skip=1 if first is not None else 0)
    if name == "update":
        dicts = [v for v in values if isinstance(v, DictVal)]
        return replace(chain, sets=dicts[0].keys if len(dicts) == 1 else ())
    return replace(chain, payloads=payloads_of(values), payload_span=w.span(first) if first is not None else None)


def _selected(w: "Walk", node: cst.BaseExpression) -> tuple[PCol, ...]:
    """Plain column names of a select string, for the column mix-up rule."""
    if not isinstance(node, cst.SimpleString):
        return ()
    prefix, quote, body = split_prefix(node.value)
    line, column = w.start(node)
    text, where = decode(body, (line, column + len(prefix) + len(quote)), raw="r" in prefix.lower())
    columns = []
    for match in re.finditer(r"(?<![\w.(])([A-Za-z_]\w*)(?![\w.(])", text):
        end_line, end_column = where[match.end() - 1]
        span = Span(where[match.start()][0], where[match.start()][1], end_line, end_column + 1)
        columns.append(PCol(match.group(1), span, CHAIN))
    return tuple(columns)


def _use_args(w: "Walk", node: cst.Call, skip: int = 0) -> None:
    for arg in node.args[skip:]:
        w.use(w.ev(arg.value))


def emit(w: "Walk", chain: Chain) -> None:
    filters = ",".join(f"{p.pred.op}({p.pred.column.name})" for p in chain.preds if isinstance(p.pred, PCompare))
    text = f"{chain.source}:{chain.table}:{chain.op}:{filters}"
    query = Query(kind=chain.op, span=chain.span, text=text, origin=chain.source, dynamic=chain.dynamic,
                  unseen=chain.unseen)
    if chain.op in ("insert", "upsert"):
        unseen = [r for r in chain.payloads if payload_columns(r, w.model.org_column) is None]
        if chain.payload_span is not None and unseen and not chain.scoped_by:
            if w.model.is_org_table(chain.table, chain.schema):
                from orgscope.facts import Problem

                w.problems.append(Problem(
                    chain.payload_span,
                    f"cannot see the payload of this {chain.op} into {chain.table}: it is built where orgscope "
                    f"cannot follow it, so whether it sets {w.model.org_column} is unknown; build it as a dict "
                    f"literal in this function",
                    chain.table, chain.statement.line,
                ))
        for row in chain.payloads or (None,):
            query.writes.append(
                Write(
                    table=chain.table,
                    span=chain.table_span,
                    op=chain.op,
                    columns=payload_columns(row, w.model.org_column),
                    schema=chain.schema,
                    scoped_by=chain.scoped_by,
                )
            )
        w.queries.append(query)
        return

    def ref_of(entity: str | None) -> int | None:
        return 0 if entity == CHAIN else None

    ref = Ref(
        id=0,
        table=chain.table,
        span=chain.table_span,
        op=chain.op,
        schema=chain.schema,
        scoped_by=chain.scoped_by,
        sets=[Column(k.name, None, k.span, ref=0) for k in chain.sets],
    )
    block = Block(id=0, parent=None, refs=[ref])
    block.where = [to_fact(p.pred, p.conditional, ref_of) for p in chain.preds]
    tenancy = w.model.tenancy_columns
    mentioned = [c for p in chain.preds for c in pred_columns(p.pred)] + list(chain.selected)
    block.columns = [Column(c.name, c.qualifier, c.span, ref=ref_of(c.entity)) for c in mentioned if c.name in tenancy]
    block.columns += [Column(k.name, None, k.span, ref=0) for k in chain.sets if k.name in tenancy]
    query.blocks.append(block)
    w.queries.append(query)


__all__ = ["KeyItem", "emit", "method", "table_call"]


class Supabase(Recogniser):
    """supabase-py chains: `client.table("agents").select(...).eq(...)`."""

    receives = (Chain, Handle)
    emits = (Chain,)

    def attribute_of(self, w, node, base):
        return attribute(w, node, base)

    def unknown_method_call(self, w, node, method_name):
        return table_call(w, node, method_name)

    def method(self, w, value, method_name, node):
        return method(w, value, method_name, node)

    def emit(self, w, value):
        emit(w, value)
