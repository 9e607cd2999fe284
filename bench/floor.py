"""The floor: the least work any checker of this repository must do.

    python bench/floor.py TREE

Reads every .py and .sql file; libcst-parses every Python file that mentions
an org table (as a word) or a model class (as an identifier); sqlglot-parses
the statements of .sql files that mention an org table; and, as a stand-in
for the SQL inside Python, sqlglot-parses the string literals of those Python
files that start with SELECT / INSERT / UPDATE / DELETE / WITH (found with
the `ast` module, which is cheap). Single process, no caching.

It runs as its own process so that, like `orgscope check`, its time includes
starting Python and importing libcst and sqlglot. It prints one JSON object
with what it did.
"""

from __future__ import annotations

import ast
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
SKIP_DIRS = {".git", ".orgscope_cache", "__pycache__", ".venv", "venv", "node_modules"}
_ORG_WORD = re.compile(r"\b(?:%s)\b" % "|".join(ORG_TABLES), re.IGNORECASE)
_MODEL = re.compile(r"class\s+(\w+)\s*\([^)]*\)\s*:(?:(?!\nclass\s).)*?__tablename__\s*=\s*['\"](\w+)['\"]",
                    re.DOTALL)
_SQL_START = re.compile(r"\s*(?:select|insert|update|delete|with)\b", re.IGNORECASE)

# sqlglot warns on statements it keeps as a generic Command; the floor only parses.
logging.getLogger("sqlglot").setLevel(logging.ERROR)


def source_files(root: str) -> list[str]:
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
        found.extend(os.path.join(folder, f) for f in sorted(files) if f.endswith((".py", ".sql")))
    return found


def parse_sql_statements(text: str, dialect: Dialect) -> tuple[int, int]:
    """Parse the statements of `text` that mention an org table: (parsed, failed)."""
    try:
        tokens = dialect.tokenize(text)
    except Exception:
        return 0, 1
    parsed = failed = 0
    chunk: list = []
    for token in tokens + [None]:
        if token is None or token.token_type == TokenType.SEMICOLON:
            if chunk:
                body = text[chunk[0].start: chunk[-1].end + 1]
                if _ORG_WORD.search(body):
                    try:
                        dialect.parser(error_level=ErrorLevel.RAISE).parse(chunk, text)
                        parsed += 1
                    except Exception:
                        failed += 1
            chunk = []
        else:
            chunk.append(token)
    return parsed, failed


def sql_literals(text: str) -> list[str]:
    """String constants that start like a SQL statement."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError):
        return []
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and _SQL_START.match(node.value)]


def floor(root: str) -> dict:
    started = time.perf_counter()
    dialect = Dialect.get_or_raise("postgres")
    texts: dict[str, str] = {}
    total_bytes = 0
    for path in source_files(root):
        with open(path, "rb") as handle:
            data = handle.read()
        total_bytes += len(data)
        texts[path] = data.decode("utf-8", errors="replace")

    models = sorted({name for path, text in texts.items()
                     if path.endswith(".py") and "__tablename__" in text
                     for name, _ in _MODEL.findall(text)})
    model_word = re.compile(r"\b(?:%s)\b" % "|".join(models)) if models else None

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
        if not (_ORG_WORD.search(text) or (model_word is not None and model_word.search(text))):
            continue
        mark = time.perf_counter()
        try:
            libcst.parse_module(text)
        except Exception:
            pass
        python_parsed += 1
        literals = sql_literals(text)
        python_seconds += time.perf_counter() - mark
        mark = time.perf_counter()
        for literal in literals:
            if not _ORG_WORD.search(literal):
                continue
            sql_strings += 1
            try:
                sqlglot.parse(literal, read="postgres")
            except Exception:
                sql_failures += 1
        sql_seconds += time.perf_counter() - mark
    return {
        "files": len(texts),
        "bytes": total_bytes,
        "model_classes": len(models),
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
    if len(argv) != 1 or not os.path.isdir(argv[0]):
        print("usage: python bench/floor.py TREE", file=sys.stderr)
        return 2
    print(json.dumps(floor(argv[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
