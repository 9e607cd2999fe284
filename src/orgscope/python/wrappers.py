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
from orgscope.python.supabase import CHAIN, literal_span, payloads_of, value_kind
from orgscope.python.values import Chain, DictVal, Handle, KeyItem, ListVal, PCol, PCompare, PredItem, Stmt

if TYPE_CHECKING:
    from orgscope.context import QueryWrapper
    from orgscope.python.walker import Walker


def _callee_matches(w: "Walker", func: cst.BaseExpression, configured: str) -> bool:
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


def _inferred(w: "Walker", func: cst.BaseExpression) -> "QueryWrapper | None":
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
        return index.function(w.names.qualified(func))
    if isinstance(func, cst.Name) and func.value in index.by_name and func.value not in w.env:
        return index.function(w.names.qualified(func))
    return None


def call(w: "Walker", node: cst.Call):
    """Wrapper calls, scoping helpers and `dict(...)`; None for any other call."""
    for wrapper in w.ctx.query_wrappers:
        if _callee_matches(w, node.func, wrapper.call):
            found = _wrapper_call(w, node, wrapper)
            if found is not None:
                return found
    inferred = _inferred(w, node.func) if w.layer.by_name else None
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
            return (_dict_call(w, node),)
    from orgscope.python import rawsql

    return rawsql.passthrough(w, node)


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


def _wrapper_call(w: "Walker", node: cst.Call, wrapper: "QueryWrapper"):
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
            chain = replace(chain, dynamic=True, unseen=f"filters passed to {_described(wrapper)}")
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


def _wrapper_adds_org(w: "Walker", node: cst.Call, positional: list[cst.Arg], wrapper: "QueryWrapper",
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


def _helper_call(w: "Walker", node: cst.Call, helper: str):
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


# --- dicts built in place ----------------------------------------------------------------


def dict_literal(w: "Walker", node: cst.Dict) -> DictVal:
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


def _dict_call(w: "Walker", node: cst.Call) -> DictVal:
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


def set_item(w: "Walker", target: cst.Subscript, value: cst.BaseExpression) -> None:
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


def method(w: "Walker", value, name: str, node: cst.Call):
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
