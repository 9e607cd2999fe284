"""Raw SQL in Python strings (SPEC section 4, "Raw SQL").

Builds the SQL text of string expressions (literals, implicit and `+`
concatenation, f-strings, `.format()`, `%` templates, `sql += ...`) with the
file position of every character, and hands the text to the SQL front end.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Sequence

import libcst as cst

from orgscope.facts import PARAM, Column, Compare, Value
from orgscope.model import find_names
from orgscope.python.mapped import MappedText, Pos, decode, split_prefix
from orgscope.python.names import dotted
from orgscope.python.template import (
    Chunk,
    Hole,
    Piece,
    apply_format,
    apply_percent,
    looks_like_sql,
    render,
)
from orgscope.python.recogniser import Recogniser
from orgscope.python.values import Tmpl

if TYPE_CHECKING:
    from orgscope.python.recogniser import Walk

_STRING_NODES = (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)
# Calls that hand their string argument on unchanged, as far as SQL goes.
_PASSTHROUGH = frozenset({"dedent", "cleandoc", "text", "literal_column", "SQL", "sql.SQL", "Composed"})
_PASSTHROUGH_METHODS = frozenset({"strip", "lstrip", "rstrip"})


def literal(w: "Walk", node: cst.BaseExpression) -> Tmpl:
    return Tmpl(w.new_origin(), literal_pieces(w, node), w.statement)


def literal_pieces(w: "Walk", node: cst.BaseExpression) -> tuple[Piece, ...]:
    """The decoded text of a string literal expression, with positions."""
    if isinstance(node, cst.ConcatenatedString):
        return literal_pieces(w, node.left) + literal_pieces(w, node.right)
    if isinstance(node, cst.SimpleString):
        prefix, quote, body = split_prefix(node.value)
        line, column = w.start(node)
        flags = prefix.lower()
        text, where = decode(body, (line, column + len(prefix) + len(quote)), raw="r" in flags, is_bytes="b" in flags)
        return (Chunk(text, tuple(where), key=(id(node), 0)),)
    if isinstance(node, cst.FormattedString):
        raw = "r" in node.start.lower()
        pieces: list[Piece] = []
        for part in node.parts:
            if isinstance(part, cst.FormattedStringText):
                text, where = decode(part.value, w.start(part), raw=raw, braces=True)
                if text:
                    pieces.append(Chunk(text, tuple(where), key=(id(part), 0)))
            elif isinstance(part, cst.FormattedStringExpression):
                inlined = inline(w, part.expression)
                if inlined is not None:
                    pieces.extend(inlined)
                else:
                    w.use(w.ev(part.expression))
                    if part.format_spec:
                        for spec in part.format_spec:
                            if isinstance(spec, cst.FormattedStringExpression):
                                w.use(w.ev(spec.expression))
                    pieces.append(Hole(w.start(part), key=(id(part), "hole")))
        return tuple(pieces)
    return ()


def inline(w: "Walk", expr: cst.BaseExpression) -> tuple[Piece, ...] | None:
    """The pieces of an interpolated value known without running the code:
    a string literal, or a name bound to a string here or at module level."""
    if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString)):
        return literal_pieces(w, expr)
    if isinstance(expr, cst.Call) and (dotted(expr.func) or "").rsplit(".", 1)[-1] == "Identifier":
        # psycopg's sql.Identifier("voices") names a table or column: its text is the SQL.
        if len(expr.args) == 1 and isinstance(expr.args[0].value, (cst.SimpleString, cst.ConcatenatedString)):
            return literal_pieces(w, expr.args[0].value)
        return None
    if isinstance(expr, cst.Name):
        found = w.lookup(expr.value)
        if len(found) == 1 and isinstance(found[0], Tmpl):
            w.absorb(found)
            if expr.value not in w.env:
                # A module constant used in a function: report at the use, not
                # at the constant every query shares.
                start = w.start(expr)
                return tuple(
                    Chunk(p.text, (start,) * len(p.text), key=(id(expr), i)) if isinstance(p, Chunk)
                    else Hole(start, key=(id(expr), i))
                    for i, p in enumerate(found[0].pieces)
                )
            return found[0].pieces
        if not found and expr.value not in w.env:
            text = w.names.constants.get(expr.value)
            if text is not None:
                start = w.start(expr)
                return (Chunk(text, (start,) * len(text), key=(id(expr), 0)),)
    return None


def add_operands(node: cst.BaseExpression) -> list[cst.BaseExpression]:
    """`a + b + c` -> [a, b, c] (without recursion on long chains)."""
    operands: list[cst.BaseExpression] = []
    while isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add) and not node.lpar:
        operands.append(node.right)
        node = node.left
    operands.append(node)
    operands.reverse()
    return operands


def _stringish(w: "Walk", node: cst.BaseExpression) -> bool:
    if isinstance(node, _STRING_NODES):
        return True
    if isinstance(node, cst.Name):
        found = w.lookup(node.value)
        if found:
            return len(found) == 1 and isinstance(found[0], Tmpl)
        return node.value in w.names.constants and node.value not in w.env
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Modulo):
        return _stringish(w, node.left)
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "format":
        return _stringish(w, node.func.value)
    return False


def operand_pieces(w: "Walk", node: cst.BaseExpression) -> tuple[Piece, ...]:
    """What one operand of a string concatenation contributes."""
    if isinstance(node, _STRING_NODES):
        return literal_pieces(w, node)
    inlined = inline(w, node)
    if inlined is not None:
        return inlined
    values = w.ev(node)
    if len(values) == 1 and isinstance(values[0], Tmpl):
        w.absorb(values)
        return values[0].pieces
    w.use(values)
    return (Hole(w.start(node), key=(id(node), "hole")),)


def binary(w: "Walk", node: cst.BinaryOperation) -> Tmpl | None:
    """`"..." + x` and `"... %s" % args`; None when the operation is not on strings."""
    if isinstance(node.operator, cst.Add):
        operands = add_operands(node)
        if not any(_stringish(w, op) for op in operands):
            return None
        pieces = tuple(p for op in operands for p in operand_pieces(w, op))
        return Tmpl(w.new_origin(), pieces, w.statement)
    if isinstance(node.operator, cst.Modulo) and _stringish(w, node.left):
        left = w.ev(node.left)
        if len(left) != 1 or not isinstance(left[0], Tmpl):
            w.use(left)
            w.use(w.ev(node.right))
            return None
        template = left[0]
        elements = _percent_arguments(node.right)
        used: set[int] = set()
        pieces = apply_percent(template.pieces, _resolver(w, elements.get, used))
        _use_rest(w, node.right, elements, used)
        return Tmpl(template.origin, pieces, template.statement)
    return None


def _resolver(w: "Walk", argument: Callable[[str], cst.BaseExpression | None], used: set[int]):
    """The field resolver of `%` and `.format`: a field whose argument's text
    is known (a constant) is inlined, and that argument recorded in `used`;
    any other field is a hole."""

    def resolve(field: str, position: Pos) -> Sequence[Piece] | None:
        expr = argument(field)
        if expr is None:
            return None
        found = inline(w, expr)
        if found is not None:
            used.add(id(expr))
        return found

    return resolve


def _percent_arguments(right: cst.BaseExpression) -> dict[str, cst.BaseExpression]:
    if isinstance(right, cst.Tuple):
        return {str(i): e.value for i, e in enumerate(right.elements) if isinstance(e, cst.Element)}
    if isinstance(right, cst.Dict):
        out = {}
        for element in right.elements:
            if isinstance(element, cst.DictElement) and isinstance(element.key, cst.SimpleString):
                key = element.key.evaluated_value
                if isinstance(key, str):
                    out[key] = element.value
        return out
    return {"0": right}


def _use_rest(w: "Walk", right: cst.BaseExpression, elements: dict, used: set[int]) -> None:
    """Evaluate (once) the arguments that were not inlined into the text."""
    if isinstance(right, (cst.Tuple, cst.Dict)):
        for element in right.elements:
            value = getattr(element, "value", None)
            if value is not None and id(value) not in used:
                w.use(w.ev(value))
    elif id(right) not in used:
        w.use(w.ev(right))


def method(w: "Walk", template: Tmpl, name: str, node: cst.Call) -> tuple | None:
    if name == "format":
        positional = [a.value for a in node.args if a.keyword is None and not a.star]
        named = {a.keyword.value: a.value for a in node.args if a.keyword is not None}
        used: set[int] = set()

        def argument(field: str) -> cst.BaseExpression | None:
            return positional[int(field)] if field.isdigit() and int(field) < len(positional) else named.get(field)

        pieces = apply_format(template.pieces, _resolver(w, argument, used))
        for arg in node.args:
            if id(arg.value) not in used:
                w.use(w.ev(arg.value))
        return (Tmpl(template.origin, pieces, template.statement),)
    if name in _PASSTHROUGH_METHODS and not node.args:
        return (template,)
    return None


def passthrough(w: "Walk", node: cst.Call) -> tuple | None:
    """`text("SELECT ...")`, `dedent(\"\"\"...\"\"\")`: the argument is the SQL."""
    name = dotted(node.func)
    if name is None or len(node.args) != 1 or node.args[0].keyword is not None or node.args[0].star:
        return None
    last = name.rsplit(".", 1)[-1]
    if last not in _PASSTHROUGH and name not in _PASSTHROUGH:
        return None
    values = w.ev(node.args[0].value)
    return values


def emit(w: "Walk", template: Tmpl) -> None:
    """Query facts for a string that is SQL; nothing for any other string."""
    from orgscope.sql.extract import extract_queries

    org = w.model.org_column
    kept: list[Piece] = []
    conditional_scope: list[Chunk] = []
    for piece in template.pieces:
        # A piece appended only on some paths that holds the org filter is
        # left out of the text and recorded as a conditional filter.
        if piece.conditional and isinstance(piece, Chunk) and any(find_names(piece.text, {org})):
            conditional_scope.append(piece)
        else:
            kept.append(piece)
    rendered = render(kept)
    text = rendered.text.text
    if not looks_like_sql(text):
        return
    queries, problems = extract_queries(
        text,
        rendered.text,
        model=w.model,
        dialect=w.ctx.dialect,
        origin="python-sql",
        dynamic=rendered.dynamic,
        statement_span=template.statement,
    )
    for chunk in conditional_scope:
        mapped = MappedText(chunk.text, list(chunk.positions))
        for mention in find_names(chunk.text, {org}):
            span = mapped.span(mention.start, mention.end)
            for query in queries:
                for block in query.blocks:
                    if block.parent is not None:
                        continue
                    for ref in block.refs:
                        if not ref.cte and w.model.is_org_table(ref.table, ref.schema):
                            column = Column(org, None, span, ref=ref.id)
                            block.where.append(Compare(column, "eq", Value(PARAM), conditional=True))
    w.queries.extend(queries)
    w.problems.extend(problems)


def _assign(w: "Walk", name: str, value: cst.BaseExpression) -> bool:
    """`sql = sql + "..."`: the same statement, grown."""
    operands = add_operands(value)
    current = w.env.get(name, ())
    if (
        len(operands) > 1
        and isinstance(operands[0], cst.Name)
        and operands[0].value == name
        and current
        and all(isinstance(v, Tmpl) for v in current)
    ):
        _append_to(w, name, current, operands[1:])
        return True
    return False


def _augment(w: "Walk", node: cst.AugAssign) -> bool:
    """`sql += "..."` on a local holding SQL text."""
    if not (isinstance(node.operator, cst.AddAssign) and isinstance(node.target, cst.Name)):
        return False
    current = w.env.get(node.target.value, ())
    if current and all(isinstance(v, Tmpl) for v in current):
        _append_to(w, node.target.value, current, [node.value])
        return True
    return False


def _append_to(w: "Walk", name: str, current: tuple, additions) -> None:
    pieces = tuple(p for addition in additions for p in operand_pieces(w, addition))
    grown = tuple(Tmpl(v.origin, v.pieces + pieces, v.statement) for v in current if isinstance(v, Tmpl))
    w.bind(name, grown)


class RawSql(Recogniser):
    """SQL written as Python strings: literals, f-strings, `+`, `%` and
    `.format`, `text(...)` / `sql.SQL(...)`; emitted as SQL queries."""

    receives = (Tmpl,)
    emits = (Tmpl,)

    def string(self, w, node):
        return literal(w, node)

    def binary(self, w, node):
        return binary(w, node)

    def call(self, w, node):
        return passthrough(w, node)

    def method(self, w, value, method_name, node):
        return method(w, value, method_name, node)

    def assign(self, w, name, value):
        return _assign(w, name, value)

    def augment(self, w, node):
        return _augment(w, node)

    def emit(self, w, value):
        emit(w, value)
