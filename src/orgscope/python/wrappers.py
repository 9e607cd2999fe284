"""The project's own data-access layer and scoping helpers (SPEC section 4).

`query_wrappers` in the config describe calls such as
`db.select("agents", {"clerk_org_id": org})`: they become the same chains as
supabase-py calls. `scoping_helpers` name functions that scope what passes
through them (`scoped(q, org)`) or build a scoped query
(`org_table(sb, "agents", org)`).

Dicts bound to a local name are followed key by key here too
(`filters = {}; filters["clerk_org_id"] = org`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import libcst as cst

from orgscope.facts import PARAM
from orgscope.model import split_table_name
from orgscope.python import instances
from orgscope.python.names import dotted
from orgscope.python.recogniser import Recogniser
from orgscope.python.values import (
    CHAIN, Chain, DictVal, Handle, PCol, PCompare, PredItem, Stmt, dict_call, literal_span, payloads_of,
)

if TYPE_CHECKING:
    from orgscope.context import QueryWrapper
    from orgscope.python.recogniser import Walk


def _callee_matches(w: "Walk", func: cst.BaseExpression, configured: str) -> bool:
    """A bare name matches the called function or method name; a dotted name
    matches the call as written or as resolved through the imports, and
    `Class.method` matches the method called on an instance of that class
    (or a subclass), however the instance was reached."""
    written = dotted(func)
    if "." not in configured:
        if written is None:
            return isinstance(func, cst.Attribute) and func.attr.value == configured
        return written.rsplit(".", 1)[-1] == configured
    if written is not None and (written == configured or w.names.qualified(func) == configured):
        return True
    if isinstance(func, cst.Attribute):
        owner, _, method_name = configured.rpartition(".")
        if func.attr.value == method_name:
            cls = instances.class_of(w, func.value)
            if cls is not None and any(c == owner or c.endswith("." + owner) for c in w.layer.ancestry(cls)):
                return True
    if written is None:
        return False
    # `self.scoped(...)` in a class of this module: module.Class.scoped
    head, _, rest = written.partition(".")
    if head in ("self", "cls") and rest and w.names.module_name:
        return configured.endswith("." + rest) and configured.startswith(w.names.module_name + ".")
    return False


def _inferred(w: "Walk", func: cst.BaseExpression) -> "QueryWrapper | None":
    """The inferred wrapper a call reaches: a method on an instance of its class
    (or a subclass), or a function by its qualified name."""
    index = w.layer
    if isinstance(func, cst.Attribute):
        name = func.attr.value
        if name not in index.by_name:
            return None
        cls = instances.class_of(w, func.value)
        if cls is not None:
            return index.method(cls, name)
        # `Database.select(...)`: a static method called on the class itself
        owner = index.class_named(w.names.qualified(func.value)) if isinstance(func.value, cst.Name) else None
        if owner is not None and func.value.value not in w.env:
            return index.method(owner, name)
        return index.function(w.names.qualified(func))
    if isinstance(func, cst.Name) and func.value in index.by_name and func.value not in w.env:
        return index.function(w.names.qualified(func))
    return None


def call(w: "Walk", node: cst.Call):
    """Wrapper calls, scoping helpers and `dict(...)`; None for any other call."""
    inferred = _inferred(w, node.func) if w.layer.by_name else None
    for wrapper in w.ctx.query_wrappers:
        if _callee_matches(w, node.func, wrapper.call):
            if inferred is not None:
                # The config corrects the positions; what the wrapper adds itself stays known.
                wrapper = replace(wrapper, org=inferred.org, org_params=inferred.org_params, params=inferred.params)
            found = _wrapper_call(w, node, wrapper)
            if found is not None:
                w.configured_calls.add(wrapper.call)
                return found
    if inferred is not None:
        found = _wrapper_call(w, node, inferred)
        if found is not None:
            return found
    for helper in w.ctx.scoping_helpers:
        if _callee_matches(w, node.func, helper):
            return _helper_call(w, node, helper)
    if isinstance(node.func, cst.Name) and node.func.value == "dict" and "dict" not in w.env:
        # `dict(k=v)`, `dict(**base, k=v)`, `dict(base, k=v)`
        rest = node.args[1:] if node.args and node.args[0].keyword is None and not node.args[0].star else node.args
        if all(a.keyword is not None or a.star == "**" for a in rest):
            return (dict_call(w, node),)
    return None


def _positional(node: cst.Call) -> list[cst.Arg] | None:
    out = []
    for arg in node.args:
        if arg.star:
            return None if not out else out  # what follows a *args is not visible
        if arg.keyword is None:
            out.append(arg)
    return out


def _argument(node: cst.Call, positional: list[cst.Arg], index: int | None, name: str | None) -> cst.Arg | None:
    """The argument passed for a parameter, by position or by keyword."""
    if name is not None:
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value == name:
                return arg
    if index is not None and 0 <= index < len(positional):
        return positional[index]
    return None


def _is_none(node: cst.BaseExpression) -> bool:
    return isinstance(node, cst.Name) and node.value == "None"


def _described(wrapper: "QueryWrapper") -> str:
    return wrapper.call.split(".", wrapper.call.count(".") - 1)[-1] if wrapper.owner else wrapper.call.rsplit(".", 1)[-1]


def _wrapper_call(w: "Walk", node: cst.Call, wrapper: "QueryWrapper"):
    positional = _positional(node) or []
    table_arg_node = _argument(node, positional, wrapper.table, wrapper.table_param)
    if table_arg_node is None:
        return None
    table_arg = table_arg_node.value
    name = w.constant(table_arg)
    if name is None:
        return None
    schema, table = split_table_name(name.strip())
    chain = Chain(
        origin=w.new_origin(),
        source="wrapper",
        op=wrapper.op,
        table=table,
        schema=schema,
        table_span=literal_span(w, table_arg),
        span=w.span(node),
        statement=w.statement,
    )
    values = {id(arg): (w.ev(arg.value) if arg.value is not table_arg else ()) for arg in node.args}
    filters_arg = _argument(node, positional, wrapper.filters, wrapper.filters_param)
    if filters_arg is not None and not _is_none(filters_arg.value):
        dicts = [v for v in values[id(filters_arg)] if isinstance(v, DictVal)]
        visible = len(dicts) == 1 and (not dicts[0].opaque or any(k.name == w.model.org_column for k in dicts[0].keys))
        if visible:
            preds = tuple(
                PredItem(PCompare(PCol(k.name, k.span, CHAIN), "eq", k.value), k.conditional) for k in dicts[0].keys
            )
            chain = replace(chain, preds=preds)
        else:
            # The filters are built where orgscope cannot follow them.
            chain = replace(chain, dynamic=True, unseen=(
                f"the filters passed to {_described(wrapper)} (they are built where orgscope cannot follow them; "
                f"build them as a dict literal in this function)"))
    elif wrapper.inferred and wrapper.filters_param is None and wrapper.op != "insert":
        # Inference saw the table but not how the other parameters are used: a
        # dict passed to one may well be the filters. Unknown, not unscoped.
        payload_node = _argument(node, positional, wrapper.payload, wrapper.payload_param)
        if any(isinstance(v, DictVal) for arg in node.args if arg is not table_arg_node and arg is not payload_node
               for v in values[id(arg)]):
            chain = replace(chain, dynamic=True, unseen=(
                f"how {_described(wrapper)} uses the dict passed to it (orgscope inferred its table, not its "
                f"filters; describe it in query_wrappers)"))
    chain = _wrapper_adds_org(w, node, positional, wrapper, chain)
    payload_arg = _argument(node, positional, wrapper.payload, wrapper.payload_param)
    if payload_arg is not None:
        payload_values = values[id(payload_arg)]
        if wrapper.op == "update":
            dicts = [v for v in payload_values if isinstance(v, DictVal)]
            chain = replace(chain, sets=dicts[0].keys if len(dicts) == 1 else ())
        elif wrapper.op in ("insert", "upsert"):
            chain = replace(chain, payloads=payloads_of(payload_values), payload_span=w.span(payload_arg.value))
    elif wrapper.op in ("insert", "upsert"):
        chain = replace(chain, payloads=(None,))
    for found in values.values():
        w.use(found)
    return (chain,)


def _wrapper_adds_org(w: "Walk", node: cst.Call, positional: list[cst.Arg], wrapper: "QueryWrapper",
                      chain: Chain) -> Chain:
    """The org filter the wrapper applies itself: always, or only when one of
    its org parameters is passed a value (SPEC section 10)."""
    if wrapper.org == "never" or wrapper.op in ("insert", "upsert"):
        return chain
    conditional = wrapper.org == "conditional"
    if conditional and wrapper.org_params:
        for param in wrapper.org_params:
            index = wrapper.params.index(param) if param in wrapper.params else None
            arg = _argument(node, positional, index, param)
            if arg is not None and not _is_none(arg.value):
                conditional = False
    column = PCol(w.model.org_column, chain.table_span, CHAIN)
    return replace(chain, preds=chain.preds + (PredItem(PCompare(column, "eq", PARAM), conditional),))


def _helper_call(w: "Walk", node: cst.Call, helper: str):
    """A scoping helper: what passes through it, or what it builds, is scoped."""
    results = []
    table_arg = None
    for arg in node.args:
        values = w.ev(arg.value)
        scoped = [replace(v, scoped_by=helper) for v in values if isinstance(v, (Chain, Stmt, Handle))]
        if scoped:
            results.extend(scoped)
        else:
            w.use(values)
            if table_arg is None and arg.keyword is None and w.constant(arg.value):
                table_arg = arg.value
    if results:
        return tuple(results)
    if table_arg is not None:
        schema, table = split_table_name(w.constant(table_arg).strip())  # type: ignore[union-attr]
        return (Handle(table, schema, literal_span(w, table_arg), scoped_by=helper),)
    return ()


class Wrappers(Recogniser):
    """The project's data-access layer: configured `query_wrappers`, the
    wrappers inferred from it, `scoping_helpers`, and `dict(...)` payloads."""

    def call(self, w, node):
        return call(w, node)
