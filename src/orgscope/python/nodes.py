"""A fast `children` for libcst nodes.

`CSTNode.children` runs a visitor over the node to collect its children; it
dominated the front end's profile. Reading the dataclass fields directly is
an order of magnitude cheaper. Whitespace, brackets and operator tokens are
left out (no analysis looks at them), and the few node types whose fields are
not declared in source order get their order spelled out, so walks still see
code in the order it is written.
"""

from __future__ import annotations

import dataclasses
from typing import Iterator

import libcst as cst

# Fields that hold only formatting: never analysed.
_SKIP_FIELDS = frozenset({
    "leading_lines", "lines_after_decorators", "whitespace_before", "whitespace_after", "whitespace_before_colon",
    "whitespace_after_def", "whitespace_after_name", "whitespace_before_params", "whitespace_after_class",
    "whitespace_after_func", "whitespace_before_args", "whitespace_after_arg", "whitespace_after_star",
    "whitespace_after_as", "whitespace_before_as", "whitespace_after_at", "whitespace_after_async",
    "whitespace_after_await", "whitespace_after_cases", "whitespace_after_except", "whitespace_after_for",
    "whitespace_after_if", "whitespace_after_import", "whitespace_after_in", "whitespace_after_lambda",
    "whitespace_after_return", "whitespace_after_test", "whitespace_after_while", "whitespace_after_with",
    "whitespace_before_from", "whitespace_before_if", "whitespace_before_in", "whitespace_before_else",
    "whitespace_after_else", "whitespace_after_from", "whitespace_after_del", "whitespace_after_global",
    "whitespace_after_nonlocal", "whitespace_after_raise", "whitespace_after_assert", "whitespace_after_match",
    "whitespace_after_case", "whitespace_after_type", "whitespace_after_yield", "whitespace_after_try",
    "whitespace_after_walrus", "whitespace_before_walrus", "whitespace_after_indicator",
    "whitespace_before_indicator", "whitespace_after_param", "whitespace_before_value", "whitespace_after_value",
    "header", "footer", "trailing_whitespace", "lpar", "rpar", "lbracket", "rbracket", "lbrace", "rbrace",
    "comma", "semicolon", "dot", "equal", "colon", "star", "operator", "asynchronous", "newline",
})

# Node types whose fields are not declared in source order.
_ORDER: dict[type, tuple[str, ...]] = {
    cst.ExceptHandler: ("type", "name", "body"),
    cst.Arg: ("keyword", "value"),
    cst.ClassDef: ("decorators", "name", "type_parameters", "bases", "keywords", "body"),
    cst.FunctionDef: ("decorators", "name", "type_parameters", "params", "returns", "body"),
    cst.IfExp: ("body", "test", "orelse"),
    cst.MatchCase: ("pattern", "guard", "body"),
    cst.Parameters: ("posonly_params", "posonly_ind", "params", "star_arg", "kwonly_params", "star_kwarg"),
}

_FIELDS: dict[type, tuple[str, ...]] = {}


def _fields(node_type: type) -> tuple[str, ...]:
    names = _FIELDS.get(node_type)
    if names is None:
        declared = [f.name for f in dataclasses.fields(node_type) if f.name not in _SKIP_FIELDS]
        order = _ORDER.get(node_type)
        if order is not None:
            names = tuple(n for n in order if n in declared) + tuple(n for n in declared if n not in order)
        else:
            names = tuple(declared)
        _FIELDS[node_type] = names
    return names


def children(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The child nodes that carry meaning, in source order."""
    out: list[cst.CSTNode] = []
    meaningful = _MEANINGFUL
    for name in _fields(type(node)):
        value = getattr(node, name, None)
        if type(value) in meaningful:
            out.append(value)
        elif type(value) in (list, tuple):
            out.extend(item for item in value if type(item) in meaningful)
    return out


def statements(module: cst.Module) -> Iterator[cst.CSTNode]:
    """Every statement of the module, small and compound, those in function
    and class bodies and in branches too, in source order. Statements are
    only ever in bodies, so no expression or header is looked into."""
    stack: list[cst.CSTNode] = list(reversed(module.body))
    while stack:
        node = stack.pop()
        if type(node) is cst.SimpleStatementLine:
            yield from node.body
            continue
        yield node
        stack.extend(reversed(_nested(node)))


def _nested(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The statements directly inside a compound statement, in source order
    (an `elif` is a statement of its own)."""
    if isinstance(node, cst.Match):
        return [inner for case in node.cases for inner in case.body.body]
    if not isinstance(node, cst.BaseCompoundStatement):
        return []
    found = list(node.body.body)
    if isinstance(node, (cst.Try, cst.TryStar)):
        for handler in node.handlers:
            found += handler.body.body
        for clause in (node.orelse, node.finalbody):
            if clause is not None:
                found += clause.body.body
        return found
    orelse = getattr(node, "orelse", None)
    if isinstance(orelse, cst.If):
        found.append(orelse)
    elif orelse is not None:
        found += orelse.body.body
    return found


def _concrete(classes: tuple[type, ...]) -> frozenset[type]:
    """Every concrete class of these (an exact-type test is much cheaper than
    isinstance against libcst's abstract base classes)."""
    found: set[type] = set()
    stack = list(classes)
    while stack:
        cls = stack.pop()
        found.add(cls)
        stack.extend(cls.__subclasses__())
    return frozenset(found)


FORMATTING = _concrete((
    cst.BaseParenthesizableWhitespace, cst.EmptyLine, cst.TrailingWhitespace, cst.Newline, cst.Comment,
    cst.LeftParen, cst.RightParen, cst.LeftSquareBracket, cst.RightSquareBracket, cst.LeftCurlyBrace,
    cst.RightCurlyBrace, cst.Dot, cst.Comma, cst.Colon, cst.Semicolon, cst.AssignEqual,
))
# Every node type but the formatting ones: an exact-type test in the hot walk.
_MEANINGFUL = _concrete((cst.CSTNode,)) - FORMATTING
