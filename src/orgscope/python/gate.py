"""Which Python modules can hold a query: the gate in front of libcst.

libcst (parse, positions, the walker) is the dearest stage of a run. In the
code of a product whose tables are called agents, calls and voices, most
modules name them in docstrings, comments, log messages and identifiers
without ever reaching the database, so naming an org table (the prefilter)
is not reason enough to parse. A module goes to libcst only when one of its
tokens can start a fact:

* a string that can begin a SQL statement: after whitespace, SQL comments,
  parentheses and interpolation fields it starts with SELECT, WITH, INSERT,
  UPDATE, DELETE, MERGE, COPY or TRUNCATE, and the word the statement needs
  next (FROM, INTO, SET, AS) is in one of the module's strings (the pieces of
  a concatenation need not be in order);
* a PostgREST URL (`/rest/v1/`);
* a tenancy column (`clerk_org_id`, `client_id`, ...) anywhere: filters,
  payload keys, the legacy tenant flowing into an org id;
* in code (not in strings or comments), a name that reaches a table: the
  calls that take a table name (`.table()`, `.from_()`, `Table()`,
  `Identifier()`), the configured query wrappers, and the names the catalog
  phase hands over (model classes and Table variables, and whatever else it
  learns binds an org table);
* a suppression comment, which must be checked for ORG901.

A module whose strings name an org table only as a bare word (a metrics key,
a cache key) is parsed by CPython's own parser (twenty times cheaper than
libcst) and goes to libcst only when it is not valid Python, so that it still
gets its ORG900. A module whose strings cannot be delimited (an unterminated
literal) always goes through.

The tokens are found with one regular expression over the text: comments and
string literals, left to right as Python's tokenizer meets them. The
implicitly concatenated pieces of one SQL keyword ("SEL" "ECT") and, from
Python 3.12, an f-string that reuses its own quote inside a replacement field
are not recognised.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from functools import lru_cache

from orgscope.model import TenancyModel, mentions
from orgscope.python.template import looks_like_sql

# Calls whose argument is a table name: supabase / postgrest, SQLAlchemy Core,
# psycopg's sql.Identifier.
TABLE_CALLS = frozenset({"table", "from_", "Table", "Identifier"})

# Comments and string literals (their prefixes do not matter here), and a
# quote that starts no complete literal. Each body is an "unrolled loop"
# (plain run, then escape or lone quote and plain run, ...): linear however
# the text ends, where a nested repetition would backtrack exponentially on an
# unterminated literal.
_TOKEN = re.compile(
    r"#[^\r\n]*"
    r"|'''[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*'''"
    r'|"""[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*"""'
    r"|'''"
    r'|"""'
    r"|'[^'\\\r\n]*(?:\\.[^'\\\r\n]*)*'"
    r'|"[^"\\\r\n]*(?:\\.[^"\\\r\n]*)*"'
    r"""|['"]""",
    re.S,
)
_ESCAPED_SPACE = re.compile(r"\\(?:[ntrfv]|\r?\n)")
# What may stand before the first keyword of a statement inside one literal:
# whitespace (also escaped), SQL comments, opening parentheses, and
# interpolation fields ({...}, %s, %(name)s).
_LEAD = r"(?:\s|\\[ntrfv]|\\\r?\n|\(|--[^\n]*?(?:\n|\\n|$)|/\*.*?\*/|\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\}|%\(\w+\)s|%s)*"
_STATEMENT_START = re.compile(_LEAD + r"(select|with|insert|update|delete|merge|copy|truncate)\b", re.I | re.S)
_FIELD = re.compile(r"[{%]")
_FROM = re.compile(r"\bfrom\b", re.I)
# After its keyword, the shape a statement needs next, either complete in
# one literal (ending in the word the shape needs) or stopping inside it (a
# later piece may continue it): "MERGE " can become MERGE INTO, "Merge the
# pending quota" never can, nor can "Update the voices of every agent".
_NAME = r'(?:"[^"]*"|\{[^{}]*\}|[A-Za-z_][\w$]*)(?:\s*\.\s*(?:"[^"]*"|\{[^{}]*\}|[A-Za-z_][\w$]*))*'
_ALIAS = r"(?:as\s+)?[A-Za-z_]\w*"
_SHAPE_NEXT = {  # keyword -> (complete, stops inside)
    "insert": (re.compile(r"\s+into\b", re.I), re.compile(r"\s*$")),
    "merge": (re.compile(r"\s+into\b", re.I), re.compile(r"\s*$")),
    "delete": (re.compile(r"\s+from\b", re.I), re.compile(r"\s*$")),
    "update": (re.compile(rf"\s+(?:only\s+)?{_NAME}\s+(?:{_ALIAS}\s+)?set\b", re.I),
               re.compile(rf"\s*(?:only\s+)?(?:{_NAME}\s*(?:{_ALIAS}\s*)?)?$", re.I)),
    "with": (re.compile(rf"\s+(?:recursive\s+)?{_NAME}\s*(?:\([^)]*\)\s*)?as\b", re.I),
             re.compile(rf"\s*(?:recursive\s+)?(?:{_NAME}\s*(?:\([^)]*\)\s*)?)?$", re.I)),
}
# The word a statement begun in one literal needs from a later piece.
_NEXT_WORD = {
    "select": re.compile(r"\bfrom\b"),
    "delete": re.compile(r"\bfrom\b"),
    "insert": re.compile(r"\binto\b"),
    "merge": re.compile(r"\binto\b"),
    "update": re.compile(r"\bset\b"),
    "with": re.compile(r"\bas\b"),
}


@dataclass(frozen=True)
class CandidateGate:
    """Decides, from a module's text alone, whether libcst must see it."""

    tables: frozenset[str]  # org table names, lower case
    columns: frozenset[str]  # tenancy columns, lower case
    names: frozenset[str]  # identifiers (exact case) that reach a table when used in code

    @classmethod
    def for_model(cls, model: TenancyModel, names: frozenset[str] = frozenset(),
                  wrapper_calls: tuple[str, ...] = ()) -> "CandidateGate":
        """`names`: what the catalog phase knows reaches an org table (model
        classes, Table variables, constants, inferred wrappers);
        `wrapper_calls`: the configured query wrappers' call names."""
        tables = frozenset(table.lower() for _, table in model.org_tables)
        calls = {call.rsplit(".", 1)[-1] for call in wrapper_calls}
        return cls(tables=tables, columns=frozenset(c.lower() for c in model.tenancy_columns),
                   names=frozenset(names) | TABLE_CALLS | calls)

    def admits(self, text: str, has_suppressions: bool = False) -> bool:
        """True when the module can hold a query fact or finding, or cannot be
        told from its tokens; False only when libcst would find nothing."""
        if has_suppressions or "rest/v1" in text:
            return True
        if mentions(text, self.columns):
            return True
        strings: list[str] = []
        code: list[str] = []
        position = 0
        for match in _TOKEN.finditer(text):
            code.append(text[position:match.start()])
            position = match.end()
            token = match.group()
            if token[0] == "#":
                continue
            if token in ("'", '"', "'''", '"""'):
                return True  # an unterminated literal: the tokens cannot be trusted
            quote = 3 if token[:3] in ("'''", '"""') else 1
            strings.append(token[quote:len(token) - quote])
        code.append(text[position:])
        if mentions(" ".join(code), frozenset(), self.names):
            return True
        if _sql_shaped(strings):
            return True
        # Not a query when valid Python; when not, the ORG900 says it was not read.
        return self._passes_a_table(text) and not _valid_python(text)

    def _passes_a_table(self, text: str) -> bool:
        """Is an org table's name passed as an argument (`db.query("agents")`,
        `table="calls"`)? Not a dict key or a list item."""
        return _argument_pattern(self.tables).search(text) is not None


@lru_cache(maxsize=16)
def _argument_pattern(tables: frozenset[str]) -> re.Pattern:
    words = "|".join(re.escape(t) for t in sorted(tables))
    return re.compile(rf"""[(,=]\s*[rRbBuU]?(['"])(?:{words})\1\s*[,)]""", re.I)


def _sql_shaped(strings: list[str]) -> bool:
    """Can one of these literals be the first piece of a SQL statement?"""
    wanted: set[str] = set()
    for body in strings:
        match = _STATEMENT_START.match(body)
        if match is None:
            continue
        keyword = match.group(1).lower()
        if keyword in ("copy", "truncate"):
            return True
        rest = _ESCAPED_SPACE.sub(" ", body[match.end():])
        if keyword == "select":
            found = _FROM.search(rest)
            if found is None:
                wanted.add(keyword)  # the FROM may come in a later piece
            elif _FIELD.search(rest, 0, found.start()) or looks_like_sql("select" + rest):
                return True
            continue
        complete, stops_inside = _SHAPE_NEXT[keyword]
        if complete.match(rest):
            return True
        if stops_inside.match(rest):
            wanted.add(keyword)  # a later piece may complete the shape
        # else prose: the literal goes on with words the statement cannot have
    if not wanted:
        return False
    joined = "\n".join(strings).lower()
    return any(_NEXT_WORD[keyword].search(joined) for keyword in wanted)


def _valid_python(text: str) -> bool:
    try:
        compile(text, "<gate>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except (SyntaxError, ValueError, OverflowError, RecursionError, MemoryError):
        return False
    return True
