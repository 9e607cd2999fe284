"""The legacy tenant must not become the org (SPEC section 10).

A value read from the legacy column (`x.get("client_id")`, `x["client_id"]`,
`x.client_id`, a name `client_id`) that is assigned to an org-named variable
or passed as an org-named keyword argument, directly or as one operand of
`or` / a conditional expression, makes a legacy client's id stand for an
organization. A call that maps one to the other (`org_of_client(client_id)`)
is not such a flow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from orgscope.facts import LegacyFlow
from orgscope.python.names import string_value

if TYPE_CHECKING:
    from orgscope.python.walker import Walker


def is_org_name(w: "Walker", name: str) -> bool:
    lowered = name.lower()
    legacy = w.model.legacy_column
    return lowered != legacy and legacy.split("_")[0] not in lowered and (
        lowered == w.model.org_column or "org" in lowered.split("_") or lowered.startswith(("org", "organization"))
    )


def check(w: "Walker", target: str, value: cst.BaseExpression) -> None:
    if not is_org_name(w, target):
        return
    for operand in _operands(value):
        legacy = _legacy_token(w, operand)
        if legacy is not None:
            w.legacy_flows.append(LegacyFlow(legacy, target, w.statement.line))


def _operands(value: cst.BaseExpression) -> list[cst.BaseExpression]:
    if isinstance(value, cst.BooleanOperation) and isinstance(value.operator, cst.Or):
        return _operands(value.left) + _operands(value.right)
    if isinstance(value, cst.IfExp):
        return _operands(value.body) + _operands(value.orelse)
    return [value]


def _legacy_token(w: "Walker", node: cst.BaseExpression):
    """The span of the legacy column's name when `node` reads it."""
    from orgscope.python.values import literal_span

    legacy = w.model.legacy_column
    if isinstance(node, cst.Name) and node.value.lower() == legacy:
        return w.span(node)
    if isinstance(node, cst.Attribute) and node.attr.value.lower() == legacy:
        return w.span(node.attr)
    if isinstance(node, cst.Subscript) and len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
        key = node.slice[0].slice.value
        if (string_value(key) or "").lower() == legacy:
            return literal_span(w, key)
    if (isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "get"
            and node.args and node.args[0].keyword is None):
        key = node.args[0].value
        if (string_value(key) or "").lower() == legacy:
            return literal_span(w, key)
    return None
