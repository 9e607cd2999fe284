"""Line and column of libcst nodes, computed only where a fact needs one.

libcst knows where a node is only by generating the code of the module
around it (its PositionProvider runs a code-generation pass over the whole
module), and that pass cost as much as parsing the module. Few statements of
a module become facts, so positions are made per statement instead, on
demand:

- CPython's parser (already run on every module, for the nesting check)
  says where each statement starts; libcst's and CPython's statements are
  paired body by body, in order.
- The walker says which statement (or compound-statement header) it reads:
  `focus`. The first position asked for in it generates the code of that
  statement alone, starting where CPython says it starts, which gives every
  node inside it the position the whole-module pass would give.
- A node outside every statement read so far (a model class read before the
  walk, an Alembic operation) falls back to the whole-module pass, once.

A compound statement's header (an `if` test, a `with` item, decorators and
parameters, a `match` subject) is generated from a copy of the statement whose
body is a single `pass`: the header's nodes are the original objects, so they
get their positions, and the body costs nothing.
"""

from __future__ import annotations

import ast
from typing import Sequence

import libcst as cst
from libcst._position import CodePosition, CodeRange
from libcst.metadata import MetadataWrapper, PositionProvider
from libcst.metadata.position_provider import PositionProvidingCodegenState

from orgscope.python.nodes import FORMATTING


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
        if type(node) not in FORMATTING:
            self._stack.append((self.line, self.column))

    def after_codegen(self, node: cst.CSTNode) -> None:
        if type(node) in FORMATTING:
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


def _state(module: cst.Module, provider: PositionProvider) -> _PositionState:
    return _PositionState(default_indent=module.default_indent, default_newline=module.default_newline,
                          provider=provider)


def compute_positions(module: cst.Module) -> dict[cst.CSTNode, CodeRange]:
    """node -> CodeRange (PositionProvider semantics) of every node but the
    formatting ones, in one code-generation pass; MetadataWrapper.resolve
    would add a full, empty visitor pass."""
    provider = PositionProvider()
    try:
        module._codegen(_state(module, provider))
    except (KeyError, IndexError, AttributeError, TypeError):
        # The lean pass leans on how libcst writes code; should a node type
        # it does not expect turn up, libcst's own pass gives the positions.
        return dict(MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider))
    return provider._computed


# --- per statement -------------------------------------------------------------------------------

# libcst statement type -> the CPython statement types it may be.
_SAME_STATEMENT: dict[type, tuple[type, ...]] = {
    cst.Expr: (ast.Expr,), cst.Assign: (ast.Assign,), cst.AnnAssign: (ast.AnnAssign,),
    cst.AugAssign: (ast.AugAssign,), cst.Return: (ast.Return,), cst.Raise: (ast.Raise,), cst.Pass: (ast.Pass,),
    cst.Break: (ast.Break,), cst.Continue: (ast.Continue,), cst.Del: (ast.Delete,), cst.Assert: (ast.Assert,),
    cst.Import: (ast.Import,), cst.ImportFrom: (ast.ImportFrom,), cst.Global: (ast.Global,),
    cst.Nonlocal: (ast.Nonlocal,),
    cst.If: (ast.If,), cst.For: (ast.For, ast.AsyncFor), cst.While: (ast.While,),
    cst.With: (ast.With, ast.AsyncWith), cst.Try: (ast.Try,), cst.FunctionDef: (ast.FunctionDef, ast.AsyncFunctionDef),
    cst.ClassDef: (ast.ClassDef,), cst.Match: (ast.Match,),
}
if hasattr(ast, "TryStar"):
    _SAME_STATEMENT[cst.TryStar] = (ast.TryStar,)

# Compound statements whose header is generated through a copy with a `pass` body.
_HEADED = (cst.If, cst.For, cst.While, cst.With, cst.FunctionDef, cst.ClassDef, cst.Match)
_PASS_BODY = cst.IndentedBlock(body=[cst.SimpleStatementLine(body=[cst.Pass()])])
_PASS_CASES = [cst.MatchCase(pattern=cst.MatchAs(), body=_PASS_BODY)]  # `case _: pass`


class _Unpaired(Exception):
    """libcst and CPython read the module's statements differently."""


class _Anchor:
    """Where one statement's code generation starts: (line, column) of its
    first character (a compound statement: its first leading line), and the
    indentation of the block it is in."""

    __slots__ = ("node", "line", "column", "indent", "elif_")

    def __init__(self, node: cst.CSTNode, line: int, column: int, indent: str, elif_: bool = False) -> None:
        self.node, self.line, self.column, self.indent, self.elif_ = node, line, column, indent, elif_


class NodePositions:
    """node -> CodeRange, computed a statement at a time when first asked for.

    `focus(unit)` names the statement, or compound-statement header part,
    being read; a position not yet known is looked for in the units focused
    so far, the most recent first, and else in the whole-module pass.
    """

    def __init__(self, module: cst.Module, tree: ast.Module | None, text: str) -> None:
        self.module = module
        self._provider = PositionProvider()
        self._computed: dict[cst.CSTNode, CodeRange] = self._provider._computed
        self._anchors: dict[cst.CSTNode, _Anchor] = {}  # statement or header part -> its statement's anchor
        self._generated: set[int] = set()  # id() of anchors generated
        self._pending: list[_Anchor] = []
        self._whole = False
        if tree is not None and _plain_lines(text):
            self._lines = text.split("\n")
            try:
                self._pair(module.body, tree.body, None)
            except (_Unpaired, IndexError, AttributeError):
                self._anchors.clear()
        if not self._anchors:
            self._whole_pass()

    # --- what the walker asks ---------------------------------------------------------------

    def focus(self, unit: cst.CSTNode) -> None:
        anchor = self._anchors.get(unit)
        if anchor is not None and id(anchor) not in self._generated:
            self._pending.append(anchor)

    def __getitem__(self, node: cst.CSTNode) -> CodeRange:
        where = self._computed.get(node)
        if where is not None:
            return where
        anchor = self._anchors.get(node)
        if anchor is not None and self._generate(anchor) and node in self._computed:
            return self._computed[node]
        while self._pending:
            if self._generate(self._pending.pop()) and node in self._computed:
                return self._computed[node]
        if not self._whole:
            self._whole_pass()
        return self._computed[node]

    # --- generating ---------------------------------------------------------------------------

    def _whole_pass(self) -> None:
        self._computed.update(compute_positions(self.module))
        self._whole = True
        self._anchors.clear()
        self._pending.clear()

    def _generate(self, anchor: _Anchor) -> bool:
        """Generate one statement's code from its anchor; False when done already."""
        if id(anchor) in self._generated or self._whole:
            return False
        self._generated.add(id(anchor))
        state = _state(self.module, self._provider)
        state.line, state.column = anchor.line, anchor.column
        state.indent_tokens = [anchor.indent]
        node = anchor.node
        try:
            if isinstance(node, _HEADED):
                copy = node.with_changes(**_without_body(node))
                copy._codegen(state, is_elif=True) if anchor.elif_ else copy._codegen(state)
                self._computed.pop(copy, None)
            else:
                node._codegen(state)
        except (KeyError, IndexError, AttributeError, TypeError, cst.CSTValidationError):
            self._whole_pass()
        return True

    # --- pairing libcst's statements with CPython's ----------------------------------------------

    def _pair(self, body: Sequence[cst.CSTNode], statements: list[ast.stmt], suite_indent: str | None) -> None:
        """Anchor each statement of a libcst body on the CPython statement it
        is. `suite_indent`: the indentation of a one-line suite's owner."""
        at = 0
        for statement in body:
            if isinstance(statement, cst.SimpleStatementLine):
                indent = None
                for small in statement.body:
                    theirs = self._same(small, statements, at)
                    at += 1
                    line, column = self._position(theirs.lineno, theirs.col_offset)
                    if indent is None:
                        indent = self._lines[line - 1][:column]
                    self._anchors[small] = _Anchor(small, line, column, indent)
                continue
            if isinstance(statement, cst.BaseSmallStatement):  # in a one-line suite: `if x: a; b`
                theirs = self._same(statement, statements, at)
                at += 1
                line, column = self._position(theirs.lineno, theirs.col_offset)
                self._anchors[statement] = _Anchor(statement, line, column, suite_indent or "")
                continue
            theirs = self._same(statement, statements, at)
            at += 1
            self._compound(statement, theirs)
        if at != len(statements):
            raise _Unpaired

    def _same(self, ours: cst.CSTNode, statements: list[ast.stmt], at: int) -> ast.stmt:
        theirs = statements[at]
        if not isinstance(theirs, _SAME_STATEMENT.get(type(ours), ())):
            raise _Unpaired
        return theirs

    def _compound(self, node: cst.CSTNode, theirs: ast.stmt, elif_: bool = False) -> None:
        line, column = self._position(theirs.lineno, theirs.col_offset)
        indent = self._lines[line - 1][:column]
        if isinstance(node, _HEADED):
            first = line
            leading = len(node.leading_lines)
            decorators = getattr(node, "decorators", ())
            if decorators:
                first = theirs.decorator_list[0].lineno  # type: ignore[attr-defined]
                leading += len(decorators[0].leading_lines)
            anchor = _Anchor(node, first - leading, 0, indent, elif_)
            for part in _header_parts(node):
                self._anchors[part] = anchor
        self._pair_bodies(node, theirs, indent)

    def _pair_bodies(self, node: cst.CSTNode, theirs: ast.stmt, indent: str) -> None:
        if isinstance(node, cst.Match):
            if len(node.cases) != len(theirs.cases):  # type: ignore[attr-defined]
                raise _Unpaired
            for case, their_case in zip(node.cases, theirs.cases):  # type: ignore[attr-defined]
                self._pair(case.body.body, their_case.body, indent)
            return
        self._pair(node.body.body, theirs.body, indent)  # type: ignore[attr-defined]
        if isinstance(node, (cst.If, cst.For, cst.While)):
            orelse = node.orelse
            if isinstance(orelse, cst.If):
                elif_ = theirs.orelse  # type: ignore[attr-defined]
                if len(elif_) != 1 or not isinstance(elif_[0], ast.If):
                    raise _Unpaired
                self._compound(orelse, elif_[0], elif_=True)
            elif orelse is not None:
                self._pair(orelse.body.body, theirs.orelse, indent)  # type: ignore[attr-defined]
            elif theirs.orelse:  # type: ignore[attr-defined]
                raise _Unpaired
        elif isinstance(node, (cst.Try, cst.TryStar)):
            if len(node.handlers) != len(theirs.handlers):  # type: ignore[attr-defined]
                raise _Unpaired
            for handler, their_handler in zip(node.handlers, theirs.handlers):  # type: ignore[attr-defined]
                self._pair(handler.body.body, their_handler.body, indent)
            for ours, their_body in ((node.orelse, theirs.orelse), (node.finalbody, theirs.finalbody)):  # type: ignore[attr-defined]
                if ours is not None:
                    self._pair(ours.body.body, their_body, indent)
                elif their_body:
                    raise _Unpaired

    def _position(self, line: int, byte_column: int) -> tuple[int, int]:
        """CPython's (line, UTF-8 byte offset) as libcst's (line, character offset)."""
        text = self._lines[line - 1]
        if text.isascii():
            return line, byte_column
        return line, len(text.encode("utf-8")[:byte_column].decode("utf-8", "replace"))


def _without_body(node: cst.CSTNode) -> dict:
    """The changes that leave a compound statement its header and nothing else."""
    if isinstance(node, cst.Match):
        return {"cases": _PASS_CASES}
    return {"body": _PASS_BODY, **({"orelse": None} if hasattr(node, "orelse") else {})}


def _header_parts(node: cst.CSTNode) -> list[cst.CSTNode]:
    """The parts of a compound statement's header the walker reads as units."""
    if isinstance(node, (cst.If, cst.While)):
        return [node.test]
    if isinstance(node, cst.For):
        return [node.iter, node.target]
    if isinstance(node, cst.With):
        return list(node.items)
    if isinstance(node, cst.FunctionDef):
        params = node.params
        every = [*params.posonly_params, *params.params, *params.kwonly_params]
        every += [p for p in (params.star_arg, params.star_kwarg) if isinstance(p, cst.Param)]
        return [*node.decorators, node.name, *every]
    if isinstance(node, cst.ClassDef):
        return [*node.decorators, node.name]
    if isinstance(node, cst.Match):
        return [node.subject]
    return []


def _plain_lines(text: str) -> bool:
    """Lines CPython and `str.split("\\n")` number alike: no lone carriage
    return, no form feed (which CPython's tokenizer treats as indentation
    reset)."""
    return "\x0c" not in text and ("\r" not in text or text.count("\r") == text.count("\r\n"))
