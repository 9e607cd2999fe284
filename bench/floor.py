"""The floor: the least work any checker of this repository must do.

    python bench/floor.py [--prepare] TREE

In one process, timed: read every .py and .sql file; libcst-parse the Python
modules that hold a query candidate; sqlglot-parse every statement of the
.sql files (the migrations must all be replayed) and the SQL strings of the
candidate modules. Nothing is analysed and nothing is cached.

Which modules hold a candidate is decided first, untimed, by a reference
check written here and nowhere else: slow and obvious, on Python's `ast`
(every node visited), and independent of orgscope's own gate. A module is a
candidate when it has

* a string that has the shape of a SQL statement: SELECT ... FROM, INSERT
  INTO, UPDATE x SET, DELETE FROM, WITH x AS (, MERGE INTO, COPY, TRUNCATE,
  after whitespace, SQL comments and parentheses; the pieces of an implicit
  or `+` concatenation, of an f-string and of `sql = ...; sql += ...` in one
  function are joined first;
* a call that takes a table name: `.table()`, `.from_()`, `Table()`,
  `Identifier()`;
* a use of a model class (a class with `__tablename__` anywhere in the tree);
* a tenancy column (`clerk_org_id`, `client_id`, `clerk_organization_id`) in
  a string or a name;
* a PostgREST URL (`/rest/v1/`);
* a suppression comment (`# orgscope: ignore...`, `# noqa: ORG...`);
* or it is not valid Python and names an org table.

The decision is kept in TREE/.floor-candidates.json (`--prepare` makes it and
stops), so that the timed runs time the reading and parsing alone. It prints
one JSON object with what it did.
"""

from __future__ import annotations

import ast
import hashlib
import json
import logging
import os
import re
import sys
import time

import libcst
import sqlglot
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ErrorLevel
from sqlglot.tokens import TokenType

ORG_TABLES = ("agents", "calls", "voices", "knowledge_bases", "tools", "contacts", "contact_folders",
              "campaigns", "webhook_endpoints")
TENANCY_COLUMNS = ("clerk_org_id", "client_id", "clerk_organization_id")
TABLE_CALLS = {"table", "from_", "Table", "Identifier"}
SKIP_DIRS = {".git", ".orgscope_cache", "__pycache__", ".venv", "venv", "node_modules"}
CANDIDATES_FILE = ".floor-candidates.json"

_ORG_WORD = re.compile(r"\b(?:%s)\b" % "|".join(ORG_TABLES), re.IGNORECASE)
_TENANCY = re.compile(r"(?:^|[^a-z0-9])(?:%s)(?:$|[^a-z0-9])" % "|".join(TENANCY_COLUMNS), re.IGNORECASE)
_MODEL = re.compile(r"class\s+(\w+)\s*\([^)]*\)\s*:(?:(?!\nclass\s).)*?__tablename__\s*=", re.DOTALL)
_SQL_SHAPE = re.compile(
    r"(?:\s|--[^\n]*(?:\n|$)|/\*.*?\*/|\()*"
    r"(?:select\b.*?\bfrom\b|insert\s+into\b|update\s+(?:only\s+)?\S+\s+(?:(?:as\s+)?\w+\s+)?set\b"
    r"|delete\s+from\b|with\s+(?:recursive\s+)?\S+\s*(?:\([^)]*\)\s*)?as\s+(?:not\s+)?(?:materialized\s+)?\("
    r"|merge\s+into\b|copy\b|truncate\b)",
    re.IGNORECASE | re.DOTALL,
)
_SUPPRESSION = re.compile(r"#\s*(?:orgscope:\s*ignore|noqa:\s*ORG\d)", re.IGNORECASE)

# sqlglot warns on statements it keeps as a generic Command; the floor only parses.
logging.getLogger("sqlglot").setLevel(logging.ERROR)


def source_files(root: str) -> list[str]:
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        found.extend(os.path.join(folder, f) for f in sorted(files) if f.endswith((".py", ".sql")))
    return found


# --- the reference check (untimed) ------------------------------------------------------


def _text(node: ast.AST) -> str | None:
    """The text of a string expression, interpolations as `{}`; None when not a string."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)):
        return node.value if isinstance(node.value, str) else node.value.decode("latin-1")
    if isinstance(node, ast.JoinedStr):
        return "".join(_text(v) or "" if isinstance(v, ast.Constant) else "{}" for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _text(node.left), _text(node.right)
        if left is not None or right is not None:
            return (left if left is not None else "{}") + (right if right is not None else "{}")
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return _text(node.left)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return _text(node.func.value)
    return None


def _sql_strings(tree: ast.AST) -> list[str]:
    """Every string expression with the shape of a SQL statement, and the
    `name = ...; name += ...` strings of each function joined in order."""
    found: list[str] = []
    scopes = [tree] + [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    for scope in scopes:
        built: dict[str, str] = {}
        for node in ast.walk(scope):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                text = _text(node.value)
                if text is not None:
                    built[node.targets[0].id] = text
            elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) and node.target.id in built:
                built[node.target.id] += _text(node.value) or "{}"
        found.extend(text for text in built.values() if _SQL_SHAPE.match(text))
    for node in ast.walk(tree):
        text = _text(node)
        if text is not None and _SQL_SHAPE.match(text):
            found.append(text)
    return found


def is_candidate(text: str, models: set[str]) -> tuple[bool, list[str]]:
    """(does the module hold a query candidate, its SQL strings)."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return bool(_ORG_WORD.search(text)), []
    sql = _sql_strings(tree)
    if sql or _SUPPRESSION.search(text):
        return True, sql
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if "/rest/v1/" in node.value or _TENANCY.search(node.value):
                return True, sql
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
            if name in TABLE_CALLS:
                return True, sql
        elif isinstance(node, ast.Name):
            if node.id in models or _TENANCY.search(node.id):
                return True, sql
        elif isinstance(node, ast.Attribute):
            if node.attr in models or _TENANCY.search(node.attr):
                return True, sql
        elif isinstance(node, ast.alias):
            if node.name.rsplit(".", 1)[-1] in models:
                return True, sql
        elif isinstance(node, (ast.arg, ast.keyword)):
            if (node.arg or "") and _TENANCY.search(node.arg or ""):
                return True, sql
    return False, sql


def reference(root: str, paths: list[str]) -> dict:
    """The candidate modules and their SQL strings, computed once per tree."""
    digest = hashlib.blake2b(digest_size=16)
    for path in paths:
        digest.update(f"{path}\0{os.path.getsize(path)}\0".encode())
    cache = os.path.join(root, CANDIDATES_FILE)
    try:
        with open(cache, encoding="utf-8") as handle:
            saved = json.load(handle)
        if saved.get("digest") == digest.hexdigest():
            return saved
    except (OSError, ValueError):
        pass
    texts = {p: open(p, "rb").read().decode("utf-8", errors="replace") for p in paths if p.endswith(".py")}
    models = {name for text in texts.values() if "__tablename__" in text for name in _MODEL.findall(text)}
    candidates: dict[str, list[str]] = {}
    for path, text in texts.items():
        holds, sql = is_candidate(text, models)
        if holds:
            candidates[os.path.relpath(path, root)] = sql
    saved = {"digest": digest.hexdigest(), "models": sorted(models), "candidates": candidates}
    with open(cache, "w", encoding="utf-8") as handle:
        json.dump(saved, handle)
    return saved


# --- the timed work -----------------------------------------------------------------------


def parse_sql_statements(text: str, dialect: Dialect) -> tuple[int, int]:
    """Parse every statement of `text`: (parsed, failed)."""
    try:
        tokens = dialect.tokenize(text)
    except Exception:
        return 0, 1
    parsed = failed = 0
    chunk: list = []
    for token in tokens + [None]:
        if token is None or token.token_type == TokenType.SEMICOLON:
            if chunk:
                try:
                    dialect.parser(error_level=ErrorLevel.RAISE).parse(chunk, text)
                    parsed += 1
                except Exception:
                    failed += 1
            chunk = []
        else:
            chunk.append(token)
    return parsed, failed


def floor(root: str) -> dict:
    paths = source_files(root)
    chosen = reference(root, paths)
    candidates = chosen["candidates"]

    started = time.perf_counter()
    dialect = Dialect.get_or_raise("postgres")
    texts: dict[str, str] = {}
    total_bytes = 0
    for path in paths:
        with open(path, "rb") as handle:
            data = handle.read()
        total_bytes += len(data)
        texts[path] = data.decode("utf-8", errors="replace")
    read_seconds = time.perf_counter() - started

    python_seconds = sql_seconds = 0.0
    python_parsed = sql_statements = sql_failures = sql_strings = 0
    for path, text in texts.items():
        if path.endswith(".sql"):
            mark = time.perf_counter()
            parsed, failed = parse_sql_statements(text, dialect)
            sql_seconds += time.perf_counter() - mark
            sql_statements += parsed
            sql_failures += failed
            continue
        literals = candidates.get(os.path.relpath(path, root))
        if literals is None:
            continue
        mark = time.perf_counter()
        try:
            libcst.parse_module(text)
        except Exception:
            pass
        python_parsed += 1
        python_seconds += time.perf_counter() - mark
        mark = time.perf_counter()
        for literal in literals:
            sql_strings += 1
            try:
                sqlglot.parse(literal, read="postgres")
            except Exception:
                sql_failures += 1
        sql_seconds += time.perf_counter() - mark
    return {
        "files": len(texts),
        "bytes": total_bytes,
        "python_files": sum(1 for p in texts if p.endswith(".py")),
        "model_classes": len(chosen["models"]),
        "python_parsed": python_parsed,
        "sql_statements_parsed": sql_statements,
        "sql_strings_parsed": sql_strings,
        "sql_failures": sql_failures,
        "seconds_inside": round(time.perf_counter() - started, 3),
        "read_seconds": round(read_seconds, 3),
        "python_parse_seconds": round(python_seconds, 3),
        "sql_parse_seconds": round(sql_seconds, 3),
    }


def main(argv: list[str]) -> int:
    prepare = argv[:1] == ["--prepare"]
    args = argv[1:] if prepare else argv
    if len(args) != 1 or not os.path.isdir(args[0]):
        print("usage: python bench/floor.py [--prepare] TREE", file=sys.stderr)
        return 2
    if prepare:
        chosen = reference(args[0], source_files(args[0]))
        print(json.dumps({"candidates": len(chosen["candidates"]), "model_classes": len(chosen["models"])}))
    else:
        print(json.dumps(floor(args[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
