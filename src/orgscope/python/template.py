"""SQL text assembled from Python: literal chunks and interpolation holes.

A `Template` is what a Python expression contributes to a SQL statement:
decoded literal text (with file positions) and holes for the values that
f-strings, `.format()` and `%` formatting put in at run time. Rendering turns
every hole into SQL by looking at where it stands: a hole in a value position
(`= {org}`, `IN ({ids})`, `LIMIT {n}`) becomes a bind parameter, a hole that
is a fragment (`{where}`, `FROM {table}`, `ORDER BY {order}`) is left out,
which makes the statement partially dynamic.

This module knows nothing of libcst: the Python front end resolves what it can
(module constants, local SQL pieces) before a hole reaches this stage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Callable, Sequence, Union

from orgscope.python.mapped import MappedText, Pos
from orgscope.sql.split import strip_sql_comments


@dataclass(frozen=True)
class Chunk:
    """Literal text; `positions[i]` is where text[i] is in the file."""

    text: str
    positions: tuple[Pos, ...]
    key: object = None
    conditional: bool = False


@dataclass(frozen=True)
class Hole:
    """An interpolated value not known until run time."""

    position: Pos  # the `{` of an f-string field, the `%` of a `%s`, a `+` operand
    key: object = None
    conditional: bool = False


Piece = Union[Chunk, Hole]


def plain_text(pieces: Sequence[Piece]) -> str | None:
    """The text when there is no hole, else None."""
    if any(isinstance(p, Hole) for p in pieces):
        return None
    return "".join(p.text for p in pieces)  # type: ignore[union-attr]


# --- run-time formatting -------------------------------------------------------

FieldResolver = Callable[[str, Pos], Sequence[Piece] | None]


def apply_format(pieces: Sequence[Piece], resolve: FieldResolver) -> tuple[Piece, ...]:
    """`"...{name}...".format(...)`: replace each replacement field.

    `resolve(field_name, position)` returns the pieces to put in (a known
    constant) or None for a hole. Auto-numbered fields `{}` are passed as
    "0", "1", ... like str.format does.
    """
    out: list[Piece] = []
    auto = 0
    for piece in pieces:
        if isinstance(piece, Hole):
            out.append(piece)
            continue
        text, where = piece.text, piece.positions
        start = i = 0
        while i < len(text):
            ch = text[i]
            if ch in "{}" and text[i + 1 : i + 2] == ch:
                _emit(out, piece, start, i + 1)  # keep one brace
                start = i = i + 2
                continue
            if ch != "{":
                i += 1
                continue
            close = _field_end(text, i)
            if close == -1:
                i += 1
                continue
            _emit(out, piece, start, i)
            name = re.split(r"[!:\[.]", text[i + 1 : close], maxsplit=1)[0].strip()
            if name == "":
                name = str(auto)
                auto += 1
            inlined = resolve(name, where[i])
            if inlined is None:
                out.append(Hole(where[i], key=(piece.key, i), conditional=piece.conditional))
            else:
                out.extend(replace(p, conditional=p.conditional or piece.conditional) for p in inlined)
            start = i = close + 1
        _emit(out, piece, start, len(text))
    return tuple(out)


def _field_end(text: str, i: int) -> int:
    depth = 0
    for j in range(i, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return j
    return -1


_PERCENT_SPEC = re.compile(r"%(?:\((?P<name>[^)]*)\))?[#0\- +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?(?P<type>[diouxXeEfFgGcrsa%])")


def apply_percent(pieces: Sequence[Piece], resolve: FieldResolver) -> tuple[Piece, ...]:
    """`"... %s ..." % args`: replace each conversion; `%%` is a percent sign.

    Conversions are numbered "0", "1", ...; `%(name)s` passes its name.
    """
    out: list[Piece] = []
    index = 0
    for piece in pieces:
        if isinstance(piece, Hole):
            out.append(piece)
            continue
        text, where = piece.text, piece.positions
        start = 0
        for match in _PERCENT_SPEC.finditer(text):
            if match.group("type") == "%":
                _emit(out, piece, start, match.start() + 1)
                start = match.end()
                continue
            _emit(out, piece, start, match.start())
            name = match.group("name")
            if name is None:
                name = str(index)
                index += 1
            inlined = resolve(name, where[match.start()])
            if inlined is None:
                out.append(Hole(where[match.start()], key=(piece.key, match.start()), conditional=piece.conditional))
            else:
                out.extend(replace(p, conditional=p.conditional or piece.conditional) for p in inlined)
            start = match.end()
        _emit(out, piece, start, len(text))
    return tuple(out)


def _emit(out: list[Piece], piece: Chunk, start: int, end: int) -> None:
    if end > start:
        out.append(Chunk(piece.text[start:end], piece.positions[start:end], (piece.key, start), piece.conditional))


# --- is it SQL? ----------------------------------------------------------------

_NAME = r'(?:"[^"]+"|[A-Za-z_][\w$]*)(?:\s*\.\s*(?:"[^"]+"|[A-Za-z_][\w$]*))*'
_SHAPES = {
    "SELECT": re.compile(r"SELECT\b(?P<list>[\s\S]*?)\bFROM\b", re.I),
    "WITH": re.compile(
        rf"WITH\s+(?:RECURSIVE\s+)?{_NAME}\s*(?:\([^)]*\)\s*)?AS\s+(?:NOT\s+)?(?:MATERIALIZED\s+)?\(", re.I
    ),
    "INSERT": re.compile(r"INSERT\s+INTO\b", re.I),
    "UPDATE": re.compile(rf"UPDATE\s+(?:ONLY\s+)?{_NAME}\s+(?:(?:AS\s+)?[A-Za-z_]\w*\s+)?SET\b", re.I),
    "DELETE": re.compile(r"DELETE\s+FROM\b", re.I),
    "MERGE": re.compile(r"MERGE\s+INTO\b", re.I),
    "COPY": re.compile(rf"COPY\s+(?:\(|{_NAME}\s*(?:\([^)]*\)\s*)?(?:FROM|TO)\b)", re.I),
    "TRUNCATE": re.compile(
        rf"TRUNCATE\s+(?:TABLE\s+)?(?:ONLY\s+)?{_NAME}(?:\s*,\s*(?:ONLY\s+)?{_NAME})*\s*"
        r"(?:;|$|CASCADE\b|RESTRICT\b|RESTART\b|CONTINUE\b)",
        re.I,
    ),
}
_FIRST_WORD = re.compile(r"[A-Za-z]+")
# Words that make a run of bare words in a select list SQL rather than prose.
_SELECT_LIST_WORDS = frozenset(
    "as distinct all case when then else end and or not null is in between like ilike over partition by "
    "filter within group cast interval true false exists any some array".split()
)


def looks_like_sql(text: str) -> bool:
    """Does the text start (after whitespace and comments) with a statement?

    Prose that merely starts with a keyword ("Select which agents to call",
    "Update calls when done") does not have the shape of a statement.
    """
    body = strip_sql_comments(text)
    while body.startswith("("):  # (SELECT ...) UNION (SELECT ...)
        body = strip_sql_comments(body[1:])
    first = _FIRST_WORD.match(body)
    if not first:
        return False
    shape = _SHAPES.get(first.group(0).upper())
    if shape is None:
        return False
    match = shape.match(body)
    if match is None:
        return False
    if "list" in shape.groupindex:
        return not _prose_select_list(match.group("list"))
    return True


def _prose_select_list(select_list: str) -> bool:
    """A select item is an expression and at most an alias: three or more bare
    words in a row with no SQL keyword among them is a sentence."""
    for item in _split_top_level(select_list):
        words = item.split()
        if len(words) >= 3 and all(re.fullmatch(r"[A-Za-z]+", w) for w in words):
            if not any(w.lower() in _SELECT_LIST_WORDS for w in words):
                return True
    return False


def _split_top_level(text: str) -> list[str]:
    items, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append(text[start:i])
            start = i + 1
    items.append(text[start:])
    return items


# --- rendering -------------------------------------------------------------------

VALUE, PREDICATE, NAME, ASSIGNMENT, EMPTY = "value", "predicate", "name", "assignment", "empty"

_TOKEN = re.compile(
    r"""(?P<string>'(?:[^']|'')*(?P<close>')?)
      | (?P<comment>--[^\n]*|/\*[\s\S]*?(?:\*/|$))
      | (?P<quoted>"[^"]*"?)
      | (?P<param>:[A-Za-z_]\w*|\$\d+|%\(\w+\)s|%s)
      | (?P<word>[A-Za-z_][\w$]*)
      | (?P<number>\d+(?:\.\d*)?)
      | (?P<op>::|<=|>=|<>|!=|\|\||[=<>+\-*/%(),\[\].;])
      | (?P<space>\s+)
      | (?P<other>.)""",
    re.X,
)
_VALUE_OPS = frozenset({"=", "<", ">", "<=", ">=", "<>", "!=", "+", "-", "/", "%", "||", "["})
_VALUE_KEYWORDS = frozenset(
    {"LIMIT", "OFFSET", "LIKE", "ILIKE", "BETWEEN", "THEN", "ELSE", "IS", "ESCAPE", "INTERVAL", "IN", "DISTINCT"}
)
_PREDICATE_KEYWORDS = frozenset({"WHERE", "AND", "OR", "ON", "HAVING", "NOT", "WHEN"})
_NAME_KEYWORDS = frozenset(
    {"SELECT", "BY", "FROM", "JOIN", "UPDATE", "INTO", "TABLE", "USING", "ONLY", "RETURNING", "DISTINCT"}
)
_VALUE_PAREN_WORDS = frozenset({"IN", "VALUES", "ANY", "ALL", "ARRAY", "SOME"})
# A word before `(` that names a relation, not a function: its parentheses hold columns.
_RELATION_KEYWORDS = frozenset({"INTO", "TABLE", "JOIN", "FROM", "UPDATE", "USING", "REFERENCES", "ON", "INDEX"})
_CLAUSE_KEYWORDS = frozenset(
    {"SELECT", "FROM", "WHERE", "GROUP", "ORDER", "BY", "SET", "VALUES", "RETURNING", "HAVING", "LIMIT", "JOIN", "ON"}
)
_SQL_KEYWORDS = _VALUE_KEYWORDS | _PREDICATE_KEYWORDS | _NAME_KEYWORDS | _VALUE_PAREN_WORDS | _RELATION_KEYWORDS | {
    "SET",
    "VALUES",
    "GROUP",
    "ORDER",
    "CASE",
    "END",
    "AS",
    "WITH",
}


def hole_role(prefix: str) -> str:
    """What a hole at the end of `prefix` stands for in the statement."""
    tokens: list[tuple[str, str]] = []  # (kind, upper-cased text)
    parens: list[int] = []  # index in tokens of each open `(`
    in_string = False
    for match in _TOKEN.finditer(prefix):
        kind = "string" if match.group("string") is not None else (match.lastgroup or "other")
        text = match.group(0)
        if kind in ("space", "comment"):
            continue
        in_string = kind == "string" and match.group("close") is None
        if kind == "op" and text == "(":
            parens.append(len(tokens))
        elif kind == "op" and text == ")" and parens:
            parens.pop()
        tokens.append((kind, text.upper()))
    if in_string:
        return VALUE
    if not tokens:
        return EMPTY
    kind, text = tokens[-1]
    if kind == "op":
        if text in _VALUE_OPS:
            return VALUE
        if text == "*":
            before = tokens[-2][1] if len(tokens) > 1 else ""
            return EMPTY if before in ("SELECT", ",", ".", "(", "DISTINCT") else VALUE
        if text == "(":
            if _value_paren(tokens, len(tokens) - 1):
                return VALUE
            before = tokens[-2] if len(tokens) > 1 else ("", "")
            if before[1] in _PREDICATE_KEYWORDS:
                return PREDICATE
            return NAME if before[0] in ("word", "quoted") else EMPTY
        if text == ",":
            if parens:
                return VALUE if _value_paren(tokens, parens[-1]) else NAME
            clause = _current_clause(tokens)
            if clause == "SET":
                return ASSIGNMENT
            return VALUE if clause == "VALUES" else NAME
        if text == "::":
            return NAME
        return EMPTY
    if kind == "word":
        if text == "AND" and _between_pending(tokens):
            return VALUE
        if text in _VALUE_KEYWORDS and text != "DISTINCT":
            return VALUE
        if text in _PREDICATE_KEYWORDS:
            return PREDICATE
        if text == "SET":
            return ASSIGNMENT
        if text in _NAME_KEYWORDS:
            return NAME
    return EMPTY


def _before(tokens: list[tuple[str, str]], index: int) -> str:
    return tokens[index - 1][1] if index > 0 else ""


def _value_paren(tokens: list[tuple[str, str]], index: int) -> bool:
    """Does the `(` at tokens[index] open a list of values (IN, VALUES, a call)?"""
    kind, word = tokens[index - 1] if index > 0 else ("", "")
    if word in _VALUE_PAREN_WORDS:
        return True
    if kind == "word" and word not in _SQL_KEYWORDS:
        # a function call, unless the word is a relation name: INSERT INTO t (...)
        return _before(tokens, index - 1) not in _RELATION_KEYWORDS and _before(tokens, index - 2) != "INTO"
    if word in (",", ")") or kind == "":
        return _current_clause(tokens[:index]) == "VALUES"
    return word in _VALUE_OPS


def _current_clause(tokens: list[tuple[str, str]]) -> str:
    depth = 0
    for kind, text in reversed(tokens):
        if text == ")":
            depth += 1
        elif text == "(":
            if depth == 0:
                return ""
            depth -= 1
        elif depth == 0 and kind == "word" and text in _CLAUSE_KEYWORDS:
            return text
    return ""


def _between_pending(tokens: list[tuple[str, str]]) -> bool:
    for kind, text in reversed(tokens[:-1]):
        if kind == "word" and text == "BETWEEN":
            return True
        if kind == "word" and text in ("AND", "OR", "WHERE", "ON", "SELECT", "FROM"):
            return False
    return False


@dataclass
class Rendered:
    text: MappedText
    dynamic: bool  # a hole was an SQL fragment and was left out
    params: int


def render(pieces: Sequence[Piece]) -> Rendered:
    """SQL text for the pieces: value holes become `:p1`, `:p2`, ...; fragment
    holes become the least SQL that keeps the statement parseable."""
    chars: list[str] = []
    where: list[Pos] = []
    dynamic = False
    params = 0
    for piece in pieces:
        if isinstance(piece, Chunk):
            chars.append(piece.text)
            where.extend(piece.positions)
            continue
        prefix = "".join(chars)
        role = hole_role(prefix)
        if role == VALUE:
            params += 1
            text = f":p{params}"
            if _last_word(prefix) == "IN":
                text = f"({text})"
        else:
            dynamic = dynamic or fragment_may_scope(prefix, role)
            text = {PREDICATE: "TRUE", NAME: "dynamic_fragment", ASSIGNMENT: "dynamic_fragment = NULL"}.get(role, " ")
        if prefix and (prefix[-1].isalnum() or prefix[-1] == "_") and text[0].isalnum():
            text = " " + text
        chars.append(text)
        where.extend([piece.position] * len(text))
    return Rendered(MappedText("".join(chars), where), dynamic, params)


# Clauses where a fragment cannot hold a predicate (SPEC section 10): the select
# list, ORDER BY / GROUP BY, LIMIT, RETURNING.
_NO_PREDICATE_CLAUSES = frozenset({"SELECT", "ORDER", "GROUP", "BY", "LIMIT", "RETURNING"})
# Keywords a table (or schema) name follows.
_TABLE_NAME_KEYWORDS = frozenset({"FROM", "JOIN", "UPDATE", "INTO", "TABLE", "ONLY"})


def fragment_may_scope(prefix: str, role: str) -> bool:
    """Could a fragment interpolated after `prefix` hold the org predicate?
    Not in the select list, ORDER BY, LIMIT or RETURNING, nor as the table
    name itself: the visible WHERE is then judged as usual."""
    if role == PREDICATE:
        return True
    tokens = [(m.lastgroup, m.group(0).upper()) for m in _TOKEN.finditer(prefix)
              if m.lastgroup not in ("space", "comment")]
    if not tokens:
        return True
    if role == NAME and tokens[-1][1] in _TABLE_NAME_KEYWORDS:
        return False
    return _current_clause(tokens) not in _NO_PREDICATE_CLAUSES


def _last_word(prefix: str) -> str:
    match = re.search(r"([A-Za-z_]\w*)\s*$", prefix)
    return match.group(1).upper() if match else ""
