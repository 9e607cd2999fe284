"""SQL front end: sqlglot statements -> neutral query facts (SPEC section 3).

Every SELECT body, CTE, UNION branch and subquery becomes its own Block; each
table it reads or changes becomes a Ref; the top-level AND-conjuncts of WHERE
(and of the ON clause of the join that brings a table in) become Preds. Only
comparisons that involve a tenancy-model column are kept: nothing else can
scope a reference. The rules decide what is constrained.
"""

from __future__ import annotations

import re
from typing import Iterable, Iterator

from sqlglot import exp

from orgscope.facts import (
    CALL,
    COLUMN,
    LITERAL,
    PARAM,
    SUBQUERY,
    UNKNOWN,
    Block,
    Column,
    Compare,
    Or,
    Pred,
    Problem,
    Query,
    Ref,
    Span,
    Value,
    Write,
)
from orgscope.model import TenancyModel
from orgscope.sql.clickhouse import is_query_parameter
from orgscope.sql.split import Statement, split_statements

DML_WORDS = frozenset({"SELECT", "WITH", "INSERT", "UPDATE", "DELETE", "MERGE", "COPY", "TRUNCATE", "VALUES"})
DDL_WORDS = frozenset({"CREATE", "ALTER", "DROP", "DO"})
_QUERY_NODES = (exp.Select, exp.SetOperation)


def extract_queries(
    sql_text: str,
    positions,
    *,
    model: TenancyModel,
    dialect: str = "postgres",
    origin: str = "python-sql",
    dynamic: bool = False,
    statement_span: Span | None = None,
) -> tuple[list[Query], list[Problem]]:
    """Facts of every statement in `sql_text` (a string found in Python code).

    `positions` maps offsets in sql_text to file positions (`span(start, end)`).
    """
    queries: list[Query] = []
    problems: list[Problem] = []
    for stmt in split_statements(sql_text, dialect):
        if first_word(stmt.text) not in DML_WORDS:
            continue
        found, trouble = analyze_statement(
            stmt, positions, model=model, origin=origin, dynamic=dynamic, statement_span=statement_span
        )
        queries.extend(found)
        problems.extend(trouble)
    return queries, problems


def analyze_statement(
    stmt: Statement,
    positions,
    *,
    model: TenancyModel,
    origin: str,
    dynamic: bool = False,
    statement_span: Span | None = None,
    params: frozenset[str] = frozenset(),
) -> tuple[list[Query], list[Problem]]:
    """`params`: names that stand for values (a function's parameters and variables)."""
    if stmt.expr is None or isinstance(stmt.expr, exp.Command):
        reason = stmt.error or "statement form not understood"
        return [], problems_for(stmt, positions, model, f"cannot parse SQL: {reason}", statement_span)
    span = statement_span or positions.span(stmt.start, stmt.start + len(stmt.text))
    query = Query(
        kind=_kind(stmt.expr),
        span=span,
        text=" ".join(stmt.text.split()).lower(),
        origin=origin,
        dynamic=dynamic,
    )
    try:
        _Builder(query, positions, stmt.base, model, params).statement(stmt.expr)
    except RecursionError:
        return [], problems_for(stmt, positions, model, "statement too deeply nested to analyse", statement_span)
    return [query], []


def first_word(text: str) -> str:
    from orgscope.sql.split import strip_sql_comments

    match = re.match(r"\(*\s*([A-Za-z]+)", strip_sql_comments(text))
    return match.group(1).upper() if match else ""


def problems_for(stmt: Statement, positions, model: TenancyModel, message: str,
                  statement_span: Span | None = None) -> list[Problem]:
    """ORG900 material, only when the statement names an org table."""
    mention = model.org_table_mention(stmt.text)
    if mention is None:
        return []
    span = positions.span(stmt.start + mention.start, stmt.start + mention.end)
    line = statement_span.line if statement_span else positions.position(stmt.start)[0]
    return [Problem(span=span, message=message, table=mention.name, statement_line=line)]


def _kind(node: exp.Expression) -> str:
    if isinstance(node, exp.Insert):
        return "upsert" if node.args.get("conflict") is not None else "insert"
    if isinstance(node, exp.TruncateTable):
        return "truncate"
    return node.key if node.key in ("update", "delete", "merge", "copy") else "select"


def normalize_identifier(ident: exp.Expression | str | None) -> str | None:
    """PostgreSQL folding: unquoted names are lower-cased, quoted kept as written."""
    if ident is None:
        return None
    if isinstance(ident, str):
        return ident.lower()
    if isinstance(ident, exp.Identifier):
        return ident.this if ident.quoted else ident.this.lower()
    return ident.name.lower()


class _Builder:
    """Walks one parsed statement and fills a Query with blocks, refs and writes."""

    def __init__(self, query: Query, positions, base: int, model: TenancyModel,
                 params: frozenset[str] = frozenset()) -> None:
        self.query = query
        self.positions = positions
        self.base = base
        self.model = model
        # Names that stand for values here: the parameters and variables of
        # the function whose body this is.
        self.params = params
        self.tenancy_columns = model.tenancy_columns
        self.next_ref = 0
        # CTE names visible at this point -> their output columns (None = unknown)
        self.ctes: list[dict[str, frozenset[str] | None]] = []

    # --- positions ------------------------------------------------------------

    def span_of(self, node: exp.Expression) -> Span:
        target = node
        if isinstance(node, (exp.Table, exp.Column)):
            target = node.this
        meta = target.meta if isinstance(target, exp.Expression) else {}
        start = meta.get("start")
        end = meta.get("end")
        if start is None or end is None:
            # Fall back to the first descendant that has a position.
            for child in node.walk():
                m = child.meta if isinstance(child, exp.Expression) else {}
                if "start" in m and "end" in m:
                    start, end = m["start"], m["end"]
                    break
            else:
                return self.query.span
        return self.positions.span(self.base + start, self.base + end + 1)

    # --- statements -----------------------------------------------------------

    def statement(self, node: exp.Expression) -> None:
        if isinstance(node, _QUERY_NODES) or isinstance(node, exp.Subquery):
            self.query_node(node, None)
        elif isinstance(node, exp.Insert):
            self.insert(node, None)
        elif isinstance(node, exp.Update):
            self.update(node, None)
        elif isinstance(node, exp.Delete):
            self.delete(node, None)
        elif isinstance(node, exp.Merge):
            self.merge(node, None)
        elif isinstance(node, exp.Copy):
            self.copy(node)
        elif isinstance(node, exp.TruncateTable):
            self.truncate(node)
        else:
            # Anything else that contains queries (EXPLAIN, a VALUES list ...)
            for sub in self.child_queries(node):
                self.query_node(sub, None)

    def with_ctes(self, node: exp.Expression, parent: int | None) -> bool:
        """Register the CTEs of `node` (scoped to it) and build their blocks."""
        with_ = node.args.get("with_")
        if with_ is None:
            return False
        scope: dict[str, frozenset[str] | None] = {}
        self.ctes.append(scope)
        for cte in with_.expressions:
            name = normalize_identifier(cte.args["alias"].this) if cte.args.get("alias") else None
            if name is None:
                continue
            if with_.args.get("recursive"):
                scope[name] = _output_columns(cte.this)
            self.query_node(cte.this, parent)
            scope[name] = _output_columns(cte.this)
        return True

    def query_node(self, node: exp.Expression, parent: int | None) -> None:
        if isinstance(node, exp.Subquery):
            pushed = self.with_ctes(node, parent)
            self.query_node(node.this, parent)
        elif isinstance(node, exp.SetOperation):
            pushed = self.with_ctes(node, parent)
            self.query_node(node.this, parent)
            self.query_node(node.expression, parent)
        elif isinstance(node, exp.Select):
            pushed = self.with_ctes(node, parent)
            self.select(node, parent)
        elif isinstance(node, (exp.Insert, exp.Update, exp.Delete)):
            # Data-modifying CTEs (WITH x AS (DELETE ... RETURNING ...)).
            pushed = False
            {exp.Insert: self.insert, exp.Update: self.update, exp.Delete: self.delete}[type(node)](node, parent)
        else:
            pushed = False
            for sub in self.child_queries(node):
                self.query_node(sub, parent)
        if pushed:
            self.ctes.pop()

    def new_block(self, parent: int | None) -> Block:
        block = Block(id=len(self.query.blocks), parent=parent)
        self.query.blocks.append(block)
        return block

    def select(self, node: exp.Select, parent: int | None) -> None:
        block = self.new_block(parent)
        from_ = node.args.get("from_")
        if from_ is not None:
            self.source(from_.this, block, "select", [])
        for join in node.args.get("joins") or []:
            self.join(join, block, "select")
        for lateral in node.args.get("laterals") or []:
            self.source(lateral, block, "select", [])
        self.finish_block(node, block, skip=("from_", "joins", "with_", "laterals"))

    def join(self, join: exp.Join, block: Block, op: str) -> None:
        on = join.args.get("on")
        preds = self.preds(on) if on is not None else []
        ref = self.source(join.this, block, op, preds)
        using = join.args.get("using")
        if ref is not None and using:
            self.using_preds(ref, using, block)

    def using_preds(self, ref: Ref, using: list, block: Block) -> None:
        """`JOIN t USING (clerk_org_id)` equates t's column with the earlier relation's."""
        earlier = [r for r in block.refs if r.id != ref.id]
        for ident in using:
            name = normalize_identifier(ident if isinstance(ident, exp.Identifier) else ident.this)
            if name not in self.tenancy_columns or len(earlier) != 1:
                continue
            span = self.span_of(ident)
            other = earlier[0]
            mine = Column(name=name, qualifier=ref.alias, span=span, ref=ref.id)
            theirs = Column(name=name, qualifier=other.alias, span=span, ref=other.id)
            ref.on.append(Compare(column=mine, op="eq", value=Value(COLUMN, theirs)))

    def source(self, node: exp.Expression, block: Block, op: str, on: list[Pred]) -> Ref | None:
        """A relation in FROM / JOIN / USING: a table, CTE, derived table or function."""
        if isinstance(node, exp.Table):
            if not isinstance(node.this, exp.Identifier):
                return None  # a table function such as generate_series(...)
            return self.table_ref(node, block, op, on)
        if isinstance(node, (exp.Subquery, exp.Lateral)):
            inner = node.this if isinstance(node, exp.Lateral) else node
            alias = node.args.get("alias") or (inner.args.get("alias") if isinstance(inner, exp.Expression) else None)
            name = normalize_identifier(alias.this) if alias is not None and alias.this else None
            self.query_node(inner, block.id)
            ref = Ref(
                id=self.take_ref_id(),
                table=name,
                span=self.span_of(node),
                op=op,
                alias=name,
                on=on,
                cte=True,
                columns=_alias_columns(alias) or _output_columns(inner),
            )
            block.refs.append(ref)
            return ref
        for sub in self.child_queries(node):
            self.query_node(sub, block.id)
        return None

    def take_ref_id(self) -> int:
        self.next_ref += 1
        return self.next_ref - 1

    def table_ref(self, node: exp.Table, block: Block, op: str, on: list[Pred]) -> Ref:
        name = normalize_identifier(node.this)
        schema = normalize_identifier(node.args.get("db"))
        if schema == "public":
            schema = None
        alias_node = node.args.get("alias")
        alias = normalize_identifier(alias_node.this) if alias_node is not None and alias_node.this else None
        cte_columns, is_cte = self.lookup_cte(name) if schema is None else (None, False)
        ref = Ref(
            id=self.take_ref_id(),
            table=name,
            schema=schema,
            span=self.span_of(node),
            op=op,
            alias=alias or name,
            on=on,
            cte=is_cte,
            columns=cte_columns,
        )
        block.refs.append(ref)
        return ref

    def lookup_cte(self, name: str | None) -> tuple[frozenset[str] | None, bool]:
        for scope in reversed(self.ctes):
            if name in scope:
                return scope[name], True
        return None, False

    def finish_block(self, node: exp.Expression, block: Block, skip: Iterable[str]) -> None:
        """WHERE conjuncts, tenancy columns and nested subqueries of a block."""
        where = node.args.get("where")
        if where is not None:
            block.where.extend(self.preds(where.this))
        for key, value in node.args.items():
            if key in skip or value is None:
                continue
            for child in value if isinstance(value, list) else [value]:
                if isinstance(child, exp.Expression):
                    self.scan(child, block)
        # Columns in ON clauses belong to the block too.
        for join in node.args.get("joins") or []:
            if join.args.get("on") is not None:
                self.scan(join.args["on"], block)

    def scan(self, node: exp.Expression, block: Block) -> None:
        """Collect tenancy columns; nested queries become blocks of their own."""
        stack = [node]
        while stack:
            current = stack.pop()
            if isinstance(current, _QUERY_NODES) or isinstance(current, (exp.Insert, exp.Update, exp.Delete)):
                self.query_node(current, block.id)
                continue
            if isinstance(current, exp.Column):
                name = normalize_identifier(current.this)
                if name in self.tenancy_columns:
                    block.columns.append(self.column(current))
                continue
            stack.extend(reversed(list(current.iter_expressions())))

    def child_queries(self, node: exp.Expression) -> Iterator[exp.Expression]:
        stack = list(node.iter_expressions())
        while stack:
            current = stack.pop()
            if isinstance(current, _QUERY_NODES):
                yield current
            else:
                stack.extend(current.iter_expressions())

    # --- DML ------------------------------------------------------------------

    def update(self, node: exp.Update, parent: int | None) -> None:
        pushed = self.with_ctes(node, parent)
        block = self.new_block(parent)
        target = self.source(node.this, block, "update", [])
        from_ = node.args.get("from_")
        if from_ is not None:
            self.source(from_.this, block, "select", [])
        for join in node.args.get("joins") or []:
            self.join(join, block, "select")
        if target is not None:
            target.sets.extend(self.set_columns(node.expressions))
        self.finish_block(node, block, skip=("this", "from_", "joins", "with_"))
        if pushed:
            self.ctes.pop()

    def delete(self, node: exp.Delete, parent: int | None) -> None:
        pushed = self.with_ctes(node, parent)
        block = self.new_block(parent)
        self.source(node.this, block, "delete", [])
        for using in node.args.get("using") or []:
            self.source(using, block, "select", [])
        self.finish_block(node, block, skip=("this", "using", "with_"))
        if pushed:
            self.ctes.pop()

    def merge(self, node: exp.Merge, parent: int | None) -> None:
        pushed = self.with_ctes(node, parent)
        block = self.new_block(parent)
        on = node.args.get("on")
        target = self.source(node.this, block, "merge", self.preds(on) if on is not None else [])
        using = node.args.get("using")
        if using is not None:
            self.source(using, block, "select", self.preds(on) if on is not None else [])
        if on is not None:
            self.scan(on, block)
        whens = node.args.get("whens")
        for when in whens.expressions if whens is not None else []:
            then = when.args.get("then")
            if isinstance(then, exp.Insert) and target is not None and target.table:
                self.merge_insert(then, target)
            elif isinstance(then, exp.Update) and target is not None:
                target.sets.extend(self.set_columns(then.expressions))
            if when.args.get("condition") is not None:
                self.scan(when.args["condition"], block)
        if pushed:
            self.ctes.pop()

    def merge_insert(self, then: exp.Insert, target: Ref) -> None:
        columns_node = then.this
        columns = None
        if isinstance(columns_node, exp.Tuple):
            columns = {
                normalize_identifier(c.this): self.span_of(c)
                for c in columns_node.expressions
                if isinstance(c, exp.Column)
            }
        self.query.writes.append(
            Write(table=target.table, schema=target.schema, span=target.span, op="insert", columns=columns)
        )

    def insert(self, node: exp.Insert, parent: int | None) -> None:
        pushed = self.with_ctes(node, parent)
        target = node.this
        columns: dict[str, Span] | None = None
        if isinstance(target, exp.Schema):
            columns = {}
            for ident in target.expressions:
                name = normalize_identifier(ident if isinstance(ident, exp.Identifier) else ident.this)
                columns.setdefault(name, self.span_of(ident))
            target = target.this
        if isinstance(target, exp.Table) and isinstance(target.this, exp.Identifier):
            schema = normalize_identifier(target.args.get("db"))
            write = Write(
                table=normalize_identifier(target.this),
                schema=None if schema == "public" else schema,
                span=self.span_of(target),
                op="upsert" if node.args.get("conflict") is not None else "insert",
                columns=columns,
            )
            conflict = node.args.get("conflict")
            if conflict is not None:
                write.sets = self.set_columns(conflict.expressions or [])
            self.query.writes.append(write)
        source = node.args.get("expression")
        if source is not None:
            if isinstance(source, (exp.Select, exp.SetOperation, exp.Subquery)):
                self.query_node(source, parent)
            else:
                for sub in self.child_queries(source):
                    self.query_node(sub, parent)
        if pushed:
            self.ctes.pop()

    def copy(self, node: exp.Copy) -> None:
        target = node.this
        if isinstance(target, (exp.Subquery, exp.Select, exp.SetOperation)):
            self.query_node(target, None)
            return
        columns = None
        if isinstance(target, exp.Schema):
            columns = {
                normalize_identifier(i if isinstance(i, exp.Identifier) else i.this): self.span_of(i)
                for i in target.expressions
            }
            target = target.this
        if not isinstance(target, exp.Table):
            return
        if node.args.get("kind"):  # COPY ... FROM: rows are written, not read
            schema = normalize_identifier(target.args.get("db"))
            self.query.writes.append(
                Write(
                    table=normalize_identifier(target.this),
                    schema=None if schema == "public" else schema,
                    span=self.span_of(target),
                    op="insert",
                    columns=columns,
                )
            )
            return
        block = self.new_block(None)
        self.table_ref(target, block, "copy", [])

    def truncate(self, node: exp.TruncateTable) -> None:
        block = self.new_block(None)
        for table in node.expressions:
            if isinstance(table, exp.Table):
                self.table_ref(table, block, "truncate", [])

    def set_columns(self, assignments: list) -> list[Column]:
        out = []
        for assignment in assignments:
            left = assignment.this if isinstance(assignment, exp.EQ) else None
            if isinstance(left, exp.Column) and normalize_identifier(left.this) in self.tenancy_columns:
                out.append(self.column(left))
        return out

    # --- predicates -------------------------------------------------------------

    def column(self, node: exp.Column) -> Column:
        qualifier = node.args.get("table")
        return Column(
            name=normalize_identifier(node.this),
            qualifier=normalize_identifier(qualifier) if qualifier is not None else None,
            span=self.span_of(node),
        )

    def preds(self, node: exp.Expression) -> list[Pred]:
        out: list[Pred] = []
        for conjunct in _conjuncts(node):
            pred = self.pred(conjunct)
            if pred is not None:
                out.append(pred)
        return out

    def pred(self, node: exp.Expression) -> Pred | None:
        node = _unparen(node)
        if isinstance(node, exp.Exists):
            return self.membership(node)
        if isinstance(node, exp.Or):
            branches = [self.preds(branch) for branch in _disjuncts(node)]
            if not any(branches):
                return None
            return Or(branches=branches)
        if isinstance(node, (exp.EQ, exp.NullSafeEQ)):
            op = "eq" if isinstance(node, exp.EQ) else "not_distinct"
            left, right = _unparen(_uncast(node.this)), _unparen(_uncast(node.expression))
            if isinstance(right, exp.Any) or isinstance(left, exp.Any):
                column, other = (left, right.this) if isinstance(right, exp.Any) else (right, left.this)
                if self.is_tenancy_column(column):
                    return Compare(self.column(column), "any", self.value(other))
                return None
            if self.is_tenancy_column(left):
                return Compare(self.column(left), op, self.value(right))
            if self.is_tenancy_column(right):
                return Compare(self.column(right), op, self.value(left))
            return None
        if isinstance(node, exp.In) and not node.args.get("unnest"):
            column = _unparen(_uncast(node.this))
            if not self.is_tenancy_column(column):
                return None
            if node.args.get("query") is not None:
                subquery = node.args["query"]
                return Compare(self.column(column), "in_subquery",
                               Value(SUBQUERY, request=self.request_query(subquery)))
            if is_query_parameter(node.args.get("field")):  # ClickHouse's `IN {orgs:Array(String)}`
                return Compare(self.column(column), "in", Value(PARAM))
            values = [self.value(v) for v in node.expressions]
            kinds = {v.kind for v in values}
            if not values or COLUMN in kinds or UNKNOWN in kinds:
                return Compare(self.column(column), "in", Value(UNKNOWN))
            request = all(v.request for v in values)
            return Compare(self.column(column), "in", Value(PARAM if PARAM in kinds else LITERAL, request=request))
        return None

    def is_tenancy_column(self, node: exp.Expression) -> bool:
        return isinstance(node, exp.Column) and normalize_identifier(node.this) in self.tenancy_columns

    def value(self, node: exp.Expression) -> Value:
        node = _unparen(_uncast(node))
        if isinstance(node, (exp.Parameter, exp.Placeholder, exp.SessionParameter)) or is_query_parameter(node):
            return Value(PARAM)
        if isinstance(node, (exp.Literal, exp.Boolean, exp.Null)):
            return Value(LITERAL)
        if isinstance(node, exp.Column):
            if not node.table and normalize_identifier(node.this) in self.params:
                return Value(PARAM)
            return Value(COLUMN, self.column(node))
        if isinstance(node, (exp.Subquery, exp.Select)):
            return Value(SUBQUERY, request=self.request_query(node))
        if node.find(exp.Column) is None:
            return Value(CALL, request=self.is_request(node))
        return Value(UNKNOWN)

    # --- values of the request (row level security, SPEC section 11) ---------

    def membership(self, node: exp.Exists) -> Pred | None:
        """`EXISTS (SELECT 1 FROM memberships m WHERE m.org_id = agents.clerk_org_id
        AND m.user_id = auth.uid())` scopes the outer `agents` like
        `agents.clerk_org_id IN (SELECT m.org_id ... )`: the row's org is one the
        request belongs to. Only a correlation through a qualified outer org
        column, in a subquery that depends on the request, counts."""
        inner = node.this
        while isinstance(inner, exp.Subquery):
            inner = inner.this
        if not isinstance(inner, exp.Select) or not self.request_query(inner):
            return None
        sources = [inner.args["from_"].this] if inner.args.get("from_") is not None else []
        sources += [join.this for join in inner.args.get("joins") or []]
        names = {normalize_identifier(t.args["alias"].this) if t.args.get("alias") else normalize_identifier(t.this)
                 for t in sources if isinstance(t, exp.Table)}
        where = inner.args.get("where")
        for conjunct in _conjuncts(where.this) if where is not None else []:
            if not isinstance(conjunct, exp.EQ):
                continue
            for one, other in ((conjunct.this, conjunct.expression), (conjunct.expression, conjunct.this)):
                one, other = _unparen(_uncast(one)), _unparen(_uncast(other))
                if (isinstance(one, exp.Column) and one.table and normalize_identifier(one.args["table"]) not in names
                        and normalize_identifier(one.this) == self.model.org_column
                        and isinstance(other, exp.Column) and (not other.table
                                                               or normalize_identifier(other.args["table"]) in names)):
                    return Compare(self.column(one), "in_subquery", Value(SUBQUERY, request=True))
        return None

    def is_request(self, node: exp.Expression) -> bool:
        """Does `node` call a function of the request (`auth.jwt()`,
        `current_setting(...)`, `current_user`)?"""
        for current in node.walk():
            session = _SESSION_USERS.get(type(current))
            if session is not None and self.model.is_request_function(session):
                return True
            name = _function_name(current)
            if name is not None and self.model.is_request_function(name):
                return True
        return False

    def request_query(self, node: exp.Expression) -> bool:
        """A subquery whose rows depend on the request: `(SELECT auth.jwt() ->>
        'org_id')`, or a membership lookup whose WHERE compares a column with a
        request value (`SELECT org_id FROM memberships WHERE user_id = auth.uid()`)."""
        while isinstance(node, exp.Subquery):
            node = node.this
        if not isinstance(node, exp.Select):
            return False
        if node.args.get("from_") is None:
            return any(self.is_request(p) for p in node.expressions)
        where = node.args.get("where")
        for conjunct in _conjuncts(where.this) if where is not None else []:
            if isinstance(conjunct, (exp.EQ, exp.NullSafeEQ)):
                sides = [_unparen(_uncast(conjunct.this)), _unparen(_uncast(conjunct.expression))]
                for one, other in (sides, sides[::-1]):
                    if isinstance(one, exp.Column) and not isinstance(other, exp.Column) and (
                            self.is_request(other) if not isinstance(other, (exp.Subquery, exp.Select))
                            else self.request_query(other)):
                        return True
            elif isinstance(conjunct, exp.In) and conjunct.args.get("query") is not None:
                if self.request_query(conjunct.args["query"]):
                    return True
        return False


_SESSION_USERS = {getattr(exp, node): name for node, name in
                  (("CurrentUser", "current_user"), ("SessionUser", "session_user"), ("CurrentRole", "current_role"))
                  if hasattr(exp, node)}


def _function_name(node: exp.Expression) -> str | None:
    """`auth.jwt` for `auth.jwt()`, `current_setting` for `current_setting(...)`."""
    if isinstance(node, exp.Dot) and isinstance(node.expression, exp.Func):
        qualifier = node.this.name if isinstance(node.this, (exp.Identifier, exp.Column)) else None
        inner = node.expression
        name = inner.name if isinstance(inner, exp.Anonymous) else inner.key
        return f"{qualifier.lower()}.{name.lower()}" if qualifier else None
    if isinstance(node, exp.Anonymous) and not isinstance(node.parent, exp.Dot):
        return node.name.lower()
    return None


def _unparen(node: exp.Expression) -> exp.Expression:
    while isinstance(node, exp.Paren):
        node = node.this
    return node


def _uncast(node: exp.Expression) -> exp.Expression:
    while isinstance(node, (exp.Cast, exp.TryCast)):
        node = node.this
    return node


def _conjuncts(node: exp.Expression) -> list[exp.Expression]:
    out, stack = [], [node]
    while stack:
        current = _unparen(stack.pop())
        if isinstance(current, exp.And):
            stack.append(current.expression)
            stack.append(current.this)
        else:
            out.append(current)
    return out


def _disjuncts(node: exp.Expression) -> list[exp.Expression]:
    out, stack = [], [node]
    while stack:
        current = _unparen(stack.pop())
        if isinstance(current, exp.Or):
            stack.append(current.expression)
            stack.append(current.this)
        else:
            out.append(current)
    return out


def _output_columns(node: exp.Expression) -> frozenset[str] | None:
    """Output column names of a query, or None when a `*` hides them."""
    while isinstance(node, exp.Subquery):
        node = node.this
    if isinstance(node, exp.SetOperation):
        return _output_columns(node.this)
    if not isinstance(node, exp.Select):
        return None
    names = set()
    for projection in node.expressions:
        if isinstance(projection, exp.Star) or (
            isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star)
        ):
            return None
        name = projection.alias_or_name
        if name:
            names.add(name.lower())
    return frozenset(names)


def _alias_columns(alias: exp.Expression | None) -> frozenset[str] | None:
    if alias is None or not alias.args.get("columns"):
        return None
    return frozenset(normalize_identifier(c) for c in alias.args["columns"])
