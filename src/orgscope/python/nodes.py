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

import libcst as cst
from libcst._position import CodePosition, CodeRange
from libcst.metadata import MetadataWrapper, PositionProvider
from libcst.metadata.position_provider import PositionProvidingCodegenState

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
    for name in _fields(type(node)):
        value = getattr(node, name, None)
        if isinstance(value, cst.CSTNode):
            if type(value) not in _FORMATTING:
                out.append(value)
        elif isinstance(value, (list, tuple)):
            out.extend(item for item in value if isinstance(item, cst.CSTNode) and type(item) not in _FORMATTING)
    return out


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


_FORMATTING = _concrete((
    cst.BaseParenthesizableWhitespace, cst.EmptyLine, cst.TrailingWhitespace, cst.Newline, cst.Comment,
    cst.LeftParen, cst.RightParen, cst.LeftSquareBracket, cst.RightSquareBracket, cst.LeftCurlyBrace,
    cst.RightCurlyBrace, cst.Dot, cst.Comma, cst.Colon, cst.Semicolon, cst.AssignEqual,
))


class _PositionState(PositionProvidingCodegenState):
    """libcst's position-recording code generator, leaner: a cheaper
    line/column update (no regex split for the common token without a
    carriage return), no positions for formatting nodes (whitespace, commas,
    brackets: never asked for), and a plain object instead of a generator
    for each syntactic position."""

    __slots__ = ()

    def _update_position(self, value: str) -> None:
        if "\r" in value:
            PositionProvidingCodegenState._update_position(self, value)
            return
        newline = value.rfind("\n")
        if newline < 0:
            self.column += len(value)
        else:
            self.line += value.count("\n")
            self.column = len(value) - newline - 1

    def before_codegen(self, node: cst.CSTNode) -> None:
        if type(node) not in _FORMATTING:
            self._stack.append((self.line, self.column))

    def after_codegen(self, node: cst.CSTNode) -> None:
        if type(node) in _FORMATTING:
            return
        line, column = self._stack.pop()
        computed = self.provider._computed
        if node not in computed:  # a syntactic position, recorded inside, wins
            computed[node] = CodeRange(CodePosition(line, column), CodePosition(self.line, self.column))

    def record_syntactic_position(self, node: cst.CSTNode, *, start_node: cst.CSTNode | None = None,
                                  end_node: cst.CSTNode | None = None) -> "_SyntacticPosition":
        return _SyntacticPosition(self, node, start_node, end_node)


class _SyntacticPosition:
    """What PositionProvidingCodegenState.record_syntactic_position does, as a
    context manager without a generator."""

    __slots__ = ("state", "node", "start_node", "end_node", "line", "column")

    def __init__(self, state: _PositionState, node: cst.CSTNode, start_node: cst.CSTNode | None,
                 end_node: cst.CSTNode | None) -> None:
        self.state, self.node, self.start_node, self.end_node = state, node, start_node, end_node

    def __enter__(self) -> None:
        self.line, self.column = self.state.line, self.state.column

    def __exit__(self, *exc: object) -> bool:
        state = self.state
        computed = state.provider._computed
        # A start or end node that is formatting has no position of its own
        # here (`from m import (a, b)` ends at its closing parenthesis). Such a
        # node is always the first or last token written inside this block,
        # so where the block begins or ends is where that node does.
        start_range = computed.get(self.start_node) if self.start_node is not None else None
        end_range = computed.get(self.end_node) if self.end_node is not None else None
        start = start_range.start if start_range is not None else CodePosition(self.line, self.column)
        end = end_range.end if end_range is not None else CodePosition(state.line, state.column)
        computed[self.node] = CodeRange(start, end)
        return False


def compute_positions(module: cst.Module) -> dict[cst.CSTNode, CodeRange]:
    """node -> CodeRange (PositionProvider semantics) of every node but the
    formatting ones, in one code-generation pass; MetadataWrapper.resolve
    would add a full, empty visitor pass."""
    provider = PositionProvider()
    state = _PositionState(default_indent=module.default_indent, default_newline=module.default_newline,
                           provider=provider)
    try:
        module._codegen(state)
    except (KeyError, IndexError, AttributeError, TypeError):
        # The lean pass leans on how libcst writes code; should a node type
        # it does not expect turn up, libcst's own pass gives the positions.
        return dict(MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider))
    return provider._computed
