"""Alembic revisions as migrations (SPEC section 5).

A module that assigns `revision` and `down_revision` at module level and
defines `upgrade()` is a revision. Its schema events come from `upgrade()`
only, in order: `op.create_table`, `op.add_column`, `op.create_index`,
`op.execute("...DDL...")` and the rest, also inside
`with op.batch_alter_table(...) as batch_op:`. Spans point at the name
literals (table, column, index), so ORG002 / ORG004 land on them.
"""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING, Iterator

import libcst as cst

from orgscope.python.nodes import children
from orgscope.facts import (
    AddColumn,
    AlembicRevision,
    AlterColumnType,
    CreateIndex,
    CreateTable,
    DropColumn,
    DropIndex,
    DropTable,
    IndexDef,
    Problem,
    RenameColumn,
    RenameTable,
    SchemaEvent,
    Span,
)
from orgscope.postgres import constraint_index_name
from orgscope.python.names import dotted
from orgscope.python.values import literal_span

if TYPE_CHECKING:
    from orgscope.python.walker import Walker

# SQLAlchemy type names -> the PostgreSQL type they create.
_TYPES = {
    "text": "TEXT",
    "unicodetext": "TEXT",
    "string": "VARCHAR",
    "unicode": "VARCHAR",
    "varchar": "VARCHAR",
    "nvarchar": "VARCHAR",
    "char": "CHAR",
    "nchar": "CHAR",
    "integer": "INTEGER",
    "int": "INTEGER",
    "biginteger": "BIGINT",
    "bigint": "BIGINT",
    "smallinteger": "SMALLINT",
    "smallint": "SMALLINT",
    "boolean": "BOOLEAN",
    "datetime": "TIMESTAMP",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
    "time": "TIME",
    "float": "FLOAT",
    "double": "DOUBLE PRECISION",
    "double_precision": "DOUBLE PRECISION",
    "real": "REAL",
    "numeric": "NUMERIC",
    "decimal": "NUMERIC",
    "uuid": "UUID",
    "json": "JSON",
    "jsonb": "JSONB",
    "largebinary": "BYTEA",
    "bytea": "BYTEA",
    "interval": "INTERVAL",
    "inet": "INET",
    "citext": "CITEXT",
}
_SIZED = {"VARCHAR", "CHAR", "NUMERIC", "FLOAT"}


def revision_info(module: cst.Module) -> tuple[cst.BaseExpression, cst.BaseExpression, cst.FunctionDef] | None:
    """(revision value, down_revision value, upgrade()) when the module is a revision."""
    assigned: dict[str, cst.BaseExpression] = {}
    upgrade = None
    for statement in module.body:
        if isinstance(statement, cst.FunctionDef) and statement.name.value == "upgrade":
            upgrade = statement
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if isinstance(small, cst.Assign):
                for target in small.targets:
                    if isinstance(target.target, cst.Name):
                        assigned[target.target.value] = small.value
            elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) and small.value is not None:
                assigned[small.target.value] = small.value
    if upgrade is None or "revision" not in assigned or "down_revision" not in assigned:
        return None
    return assigned["revision"], assigned["down_revision"], upgrade


def looks_like_revision(text: str) -> bool:
    """A cheap look before parsing: does the text assign both names and define upgrade()?"""
    return (
        re.search(r"^revision\s*[:=]", text, re.M) is not None
        and re.search(r"^down_revision\s*[:=]", text, re.M) is not None
        and re.search(r"^(?:async\s+)?def\s+upgrade\s*\(", text, re.M) is not None
    )


def graph_only_revision(text: str) -> AlembicRevision | None:
    """The revision's place in the graph, read without libcst, for a revision
    that names nothing of the tenancy model (SPEC section 10: every revision
    links the graph). None when the file must be read in full instead: it is
    no revision, its ids are not plain strings, or its upgrade() drops
    something (an index dropped by a name that does not mention its table is
    still the drop of an org table's index)."""
    if not looks_like_revision(text):
        return None
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    values: dict[str, ast.expr] = {}
    upgrade = None
    for statement in tree.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)) and statement.name == "upgrade":
            upgrade = statement
        elif isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            if isinstance(statement.targets[0], ast.Name):
                values[statement.targets[0].id] = statement.value
        elif isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name) and statement.value:
            values[statement.target.id] = statement.value
    if upgrade is None or "revision" not in values or "down_revision" not in values:
        return None
    body = "\n".join(text.splitlines()[upgrade.lineno - 1:upgrade.end_lineno])
    if "drop" in body.lower():
        return None
    revision_id = values["revision"]
    down = values["down_revision"]
    elements = down.elts if isinstance(down, (ast.Tuple, ast.List)) else [down]
    if not _plain_string(revision_id) or not all(_plain_string(e) or _is_none(e) for e in elements):
        return None
    downs = [e.value for e in elements if _plain_string(e)]
    return AlembicRevision(revision=revision_id.value, down_revisions=downs, events=[])  # type: ignore[attr-defined]


def _plain_string(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def revision(w: "Walker", info) -> AlembicRevision:
    revision_node, down_node, upgrade = info
    rev = w.constant(revision_node) or ""
    downs: list[str] = []
    if isinstance(down_node, (cst.Tuple, cst.List)):
        for element in down_node.elements:
            value = w.constant(element.value)
            if value:
                downs.append(value)
    else:
        value = w.constant(down_node)
        if value:
            downs.append(value)
    reader = _Reader(w)
    reader.body(upgrade.body)
    return AlembicRevision(revision=rev, down_revisions=downs, events=reader.events)


def sql_events(w: "Walker", sql_node: cst.BaseExpression) -> list[SchemaEvent]:
    """The schema events of SQL text executed by a migration (a literal, a
    local or module constant, `text(...)`), as `op.execute()` reads them."""
    reader = _Reader(w)
    reader.op_execute(sql_node, [sql_node], None)  # type: ignore[arg-type]
    return reader.events


class _Reader:
    def __init__(self, w: "Walker") -> None:
        self.w = w
        self.events: list[SchemaEvent] = []
        self.batches: dict[str, tuple[str, str | None, Span]] = {}  # batch_op -> table

    def body(self, node: cst.CSTNode) -> None:
        for call in self._calls(node):
            try:
                self.call(call)
            except RecursionError:
                continue
            except Exception as exc:  # one op call must not cost the revision its other events
                if self.w.mentions_org(call):
                    self.w.problems.append(Problem(self.w.span(call), f"internal error while reading this call: {exc}"))

    def _calls(self, node: cst.CSTNode) -> Iterator[cst.Call]:
        """Calls in source order; `with op.batch_alter_table(...) as b:` names b."""
        if isinstance(node, cst.BaseSmallStatement):
            self.w.reading(node)
        if isinstance(node, cst.With):
            for item in node.items:
                self.w.reading(item)
                yield from self._calls(item.item)
                self._batch(item)
            yield from self._calls(node.body)
            return
        if isinstance(node, cst.Call):
            yield node
        if isinstance(node, (cst.FunctionDef, cst.ClassDef, cst.Lambda)):
            return
        for child in children(node):
            yield from self._calls(child)

    def _batch(self, item: cst.WithItem) -> None:
        call = item.item
        if not (isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)):
            return
        if call.func.attr.value != "batch_alter_table" or item.asname is None:
            return
        if not isinstance(item.asname.name, cst.Name) or not call.args:
            return
        table = self.w.constant(call.args[0].value)
        if table:
            schema = self._keyword_text(call, "schema")
            self.batches[item.asname.name.value] = (table, schema, literal_span(self.w, call.args[0].value))

    def call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute) or not isinstance(func.value, cst.Name):
            return
        receiver = func.value.value
        batch = self.batches.get(receiver)
        if receiver != "op" and batch is None:
            if self.w.names.qualified(func.value) != "alembic.op":
                return
        handler = getattr(self, f"op_{func.attr.value}", None)
        if handler is None:
            return
        args = [a.value for a in node.args if a.keyword is None and not a.star]
        if batch is not None:
            # batch_op.add_column(col) == op.add_column(table, col)
            args = [_Known(batch[0], batch[2])] + args  # type: ignore[list-item]
            if func.attr.value in ("create_index", "create_unique_constraint", "create_primary_key", "drop_constraint"):
                args = args[1:2] + args[:1] + args[2:]
        handler(node, args, batch[1] if batch else self._keyword_text(node, "schema"))

    # --- helpers -------------------------------------------------------------------

    def text(self, node) -> str | None:
        if isinstance(node, _Known):
            return node.value
        if isinstance(node, cst.Call) and (dotted(node.func) or "").rsplit(".", 1)[-1] == "f" and node.args:
            return self.w.constant(node.args[0].value)  # op.f("name")
        return self.w.constant(node)

    def span(self, node) -> Span:
        if isinstance(node, _Known):
            return node.span
        if isinstance(node, cst.Call) and node.args:
            return literal_span(self.w, node.args[0].value)
        return literal_span(self.w, node)

    def _keyword(self, node: cst.Call, name: str) -> cst.BaseExpression | None:
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value == name:
                return arg.value
        return None

    def _keyword_text(self, node: cst.Call, name: str) -> str | None:
        value = self._keyword(node, name)
        text = self.w.constant(value) if value is not None else None
        if text is None or text.lower() == "public":
            return None
        return text.lower()

    def _flag(self, node: cst.Call, name: str) -> bool:
        value = self._keyword(node, name)
        return isinstance(value, cst.Name) and value.value == "True"

    def name(self, node) -> str | None:
        text = self.text(node)
        return text.lower() if text else None

    # --- op calls --------------------------------------------------------------------------

    def op_create_table(self, node: cst.Call, args, schema) -> None:
        if not args:
            return
        table = self.name(args[0])
        if table is None:
            return
        columns: dict[str, str] = {}
        spans: dict[str, Span] = {}
        primary: list[str] = []
        primary_span = None
        indexes: list[IndexDef] = []
        later: list[SchemaEvent] = []

        for arg in args[1:]:
            if not isinstance(arg, cst.Call):
                continue
            kind = (dotted(arg.func) or "").rsplit(".", 1)[-1]
            if kind == "Column":
                column = self._column(arg)
                if column is None:
                    continue
                name, type_, span = column
                columns[name] = type_
                spans[name] = span
                if self._flag(arg, "primary_key"):
                    primary.append(name)
                    primary_span = primary_span or span
                if self._flag(arg, "unique"):
                    indexes.append(IndexDef(constraint_index_name(table, [name], False), table, [name], span,
                                            unique=True, schema=schema))
                if self._flag(arg, "index"):
                    later.append(CreateIndex(IndexDef(f"ix_{table}_{name}", table, [name], span, schema=schema)))
            elif kind in ("PrimaryKeyConstraint", "UniqueConstraint"):
                names = [self.name(a.value) for a in arg.args if a.keyword is None and not a.star]
                if not names or None in names:
                    continue
                is_primary = kind == "PrimaryKeyConstraint"
                given = self._keyword_text(arg, "name")
                index_name = given or constraint_index_name(table, names, is_primary)  # type: ignore[arg-type]
                first = next(a.value for a in arg.args if a.keyword is None)
                indexes.append(IndexDef(index_name, table, names, literal_span(self.w, first), unique=True,
                                        schema=schema))  # type: ignore[arg-type]
            elif kind == "Index":
                index_args = [a.value for a in arg.args if a.keyword is None and not a.star]
                if index_args:
                    later.append(self._index(arg, index_args[0], table, self.span(args[0]), index_args[1:], schema))
        if primary:
            indexes.insert(0, IndexDef(constraint_index_name(table, primary, True), table, primary,
                                       primary_span or self.span(args[0]), unique=True, schema=schema))
        self.events.append(CreateTable(table, self.span(args[0]), columns, spans, indexes, schema,
                                       self._flag(node, "if_not_exists")))
        self.events.extend(later)

    def _column(self, node: cst.Call) -> tuple[str, str, Span] | None:
        positional = [a.value for a in node.args if a.keyword is None and not a.star]
        if not positional:
            return None
        name = self.name(positional[0])
        if name is None:
            return None
        type_node = self._keyword(node, "type_")
        if type_node is None and len(positional) > 1:
            type_node = positional[1]
        return name, self.type_name(type_node), self.span(positional[0])

    def type_name(self, node: cst.BaseExpression | None) -> str:
        if node is None:
            return ""
        call = node if isinstance(node, cst.Call) else None
        name = dotted(call.func if call is not None else node)
        if name is None:
            return ""
        last = name.rsplit(".", 1)[-1]
        if last == "ARRAY" and call is not None and call.args:
            return self.type_name(call.args[0].value) + "[]"
        base = _TYPES.get(last.lower(), last.upper())
        if call is None:
            return base
        if last.lower() in ("datetime", "timestamp", "time") and self._flag(call, "timezone"):
            return "TIMESTAMPTZ" if base == "TIMESTAMP" else "TIMETZ"
        sizes = [a.value for a in call.args if a.keyword is None and isinstance(a.value, cst.Integer)]
        if not sizes:
            length = self._keyword(call, "length")
            sizes = [length] if isinstance(length, cst.Integer) else []
        if sizes and base in _SIZED:
            return f"{base}({','.join(s.value for s in sizes)})"  # type: ignore[attr-defined]
        return base

    def op_add_column(self, node: cst.Call, args, schema) -> None:
        if len(args) < 2 or not isinstance(args[1], cst.Call):
            return
        table = self.name(args[0])
        column = self._column(args[1])
        if table is None or column is None:
            return
        name, type_, span = column
        self.events.append(AddColumn(table, name, type_, span, schema))
        if self._flag(args[1], "unique"):

            index = IndexDef(constraint_index_name(table, [name], False), table, [name], span, unique=True, schema=schema)
            self.events.append(CreateIndex(index))
        if self._flag(args[1], "index"):
            self.events.append(CreateIndex(IndexDef(f"ix_{table}_{name}", table, [name], span, schema=schema)))

    def op_drop_column(self, node: cst.Call, args, schema) -> None:
        if len(args) >= 2:
            table, column = self.name(args[0]), self.name(args[1])
            if table and column:
                self.events.append(DropColumn(table, column, self.span(args[1]), schema))

    def op_alter_column(self, node: cst.Call, args, schema) -> None:
        if len(args) < 2:
            return
        table, column = self.name(args[0]), self.name(args[1])
        if not table or not column:
            return
        type_node = self._keyword(node, "type_")
        if type_node is not None:
            self.events.append(AlterColumnType(table, column, self.type_name(type_node), self.span(args[1]), schema))
        new_name = self._keyword(node, "new_column_name")
        new = self.name(new_name) if new_name is not None else None
        if new:
            self.events.append(RenameColumn(table, column, new, self.span(new_name), schema))

    def op_rename_table(self, node: cst.Call, args, schema) -> None:
        if len(args) >= 2:
            old, new = self.name(args[0]), self.name(args[1])
            if old and new:
                self.events.append(RenameTable(old, new, self.span(args[0]), schema))

    def op_drop_table(self, node: cst.Call, args, schema) -> None:
        if args:
            table = self.name(args[0])
            if table:
                self.events.append(DropTable(table, self.span(args[0]), schema))

    def op_create_index(self, node: cst.Call, args, schema) -> None:
        if len(args) < 3:
            return
        table = self.name(args[1])
        if table:
            self.events.append(self._index(node, args[0], table, self.span(args[1]), [args[2]], schema))

    def _index(self, node: cst.Call, name_node, table: str, table_span: Span, column_args, schema) -> CreateIndex:
        columns: list[str | None] = []
        for arg in column_args:
            elements = [e.value for e in arg.elements] if isinstance(arg, (cst.List, cst.Tuple)) else [arg]
            for element in elements:
                text = self.w.constant(element)
                # a string holding an expression (`lower(email)`) is an expression index
                columns.append(text.lower() if text and re.fullmatch(r"\s*\w+\s*", text) else None)
        name = self.name(name_node)
        partial = any(self._keyword(node, k) is not None for k in ("postgresql_where", "sqlite_where"))
        span = self.span(name_node) if name else table_span
        return CreateIndex(
            IndexDef(
                name,
                table,
                [c.strip() if c else None for c in columns],
                span,
                unique=self._flag(node, "unique"),
                partial=partial,
                schema=schema,
                if_not_exists=self._flag(node, "if_not_exists"),
            )
        )

    def op_drop_index(self, node: cst.Call, args, schema) -> None:
        if args and not isinstance(args[0], _Known):
            name = self.name(args[0])
        elif len(args) > 1:
            name = self.name(args[1])  # batch_op.drop_index("idx") after the table was put first
            args = args[1:]
        else:
            return
        if name:
            self.events.append(DropIndex([name], self.span(args[0])))

    def _constraint(self, node: cst.Call, args, schema, primary: bool) -> None:
        if len(args) < 3:
            return
        table = self.name(args[1])
        columns_node = args[2]
        elements = [e.value for e in columns_node.elements] if isinstance(columns_node, (cst.List, cst.Tuple)) else []
        columns = [self.name(e) for e in elements]
        if not table or not columns or None in columns:
            return

        name = self.name(args[0]) or constraint_index_name(table, columns, primary)  # type: ignore[arg-type]
        span = self.span(args[0]) if self.name(args[0]) else self.span(args[1])
        self.events.append(CreateIndex(IndexDef(name, table, columns, span, unique=True, schema=schema)))  # type: ignore[arg-type]

    def op_create_unique_constraint(self, node: cst.Call, args, schema) -> None:
        self._constraint(node, args, schema, primary=False)

    def op_create_primary_key(self, node: cst.Call, args, schema) -> None:
        self._constraint(node, args, schema, primary=True)

    def op_drop_constraint(self, node: cst.Call, args, schema) -> None:
        kind = self._keyword_text(node, "type_")
        if kind not in (None, "unique", "primary") or not args:
            return
        name = self.name(args[0])
        if name:
            self.events.append(DropIndex([name], self.span(args[0]), constraint=True))

    def op_execute(self, node: cst.Call, args, schema) -> None:
        if not args:
            return
        sql_node = args[0]
        if isinstance(sql_node, cst.Call) and (dotted(sql_node.func) or "").rsplit(".", 1)[-1] == "text" and sql_node.args:
            sql_node = sql_node.args[0].value
        from orgscope.python import rawsql
        from orgscope.python.template import render
        from orgscope.sql.ddl import schema_events
        from orgscope.sql.functions import function_queries, is_function
        from orgscope.sql.split import split_statements

        if isinstance(sql_node, cst.Name):
            found = self.w.lookup(sql_node.value)
            pieces = found[0].pieces if len(found) == 1 and hasattr(found[0], "pieces") else None
        elif isinstance(sql_node, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)):
            pieces = rawsql.literal_pieces(self.w, sql_node)
        else:
            pieces = None
        if pieces is None:
            if self.w.mentions_org(sql_node):
                self.w.problems.append(Problem(self.w.span(sql_node), "cannot read the SQL of this op.execute()"))
            return
        rendered = render(pieces)
        text = rendered.text.text
        if rendered.dynamic and self.w.mentions_org(sql_node):
            self.w.problems.append(
                Problem(self.w.span(sql_node), "op.execute() builds its SQL at run time; orgscope cannot replay it")
            )
        for stmt in split_statements(text, self.w.ctx.dialect):
            events, problems = schema_events(stmt, rendered.text, self.w.ctx.dialect, model=self.w.model)
            self.events.extend(events)
            self.w.problems.extend(problems)
            if is_function(stmt):
                # A function body runs per request: its queries are checked (SPEC section 11).
                queries, problems = function_queries(stmt, rendered.text, self.w.model, self.w.ctx.dialect)
                self.w.queries.extend(queries)
                self.w.problems.extend(problems)


class _Known:
    """The table of a batch_alter_table block standing in for an argument."""

    def __init__(self, value: str, span: Span) -> None:
        self.value = value
        self.span = span
