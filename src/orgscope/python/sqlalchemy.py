"""SQLAlchemy Core and ORM, sync and async (SPEC section 4).

Model catalog facts: classes with `__tablename__` / `__table__` and
`Table("agents", ...)` objects. Query facts: `select(Agent)`,
`session.query(Agent)`, `update(Agent)`, `delete(Agent)`, their
`.where / .filter / .filter_by / .join`, `session.get(Agent, pk)`, and the
writes `insert(Agent).values(...)` and `Agent(...)`.

A model defined in another file is known by name only: the query facts carry
`model="Agent"` and the engine fills the table from the project catalog.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING, Iterable

import libcst as cst

from orgscope.python.nodes import children, statements
from orgscope.facts import (
    CALL, COLUMN, LITERAL, PARAM, SUBQUERY, WITH_PARENT, Block, Column, ModelDef, Query, Ref, Relationship, Write,
)
from orgscope.model import split_table_name
from orgscope.python.names import dotted, is_sqlalchemy, string_value
from orgscope.python.recogniser import Recogniser
from orgscope.python.values import (
    DictVal,
    Entity,
    ExprItem,
    ExprList,
    KeyItem,
    PCol,
    PCompare,
    POr,
    PredItem,
    RefItem,
    Stmt,
    payload_columns,
    pred_columns,
    to_fact,
    value_kind,
)

if TYPE_CHECKING:
    from orgscope.python.recogniser import Walk

_CONSTRUCTORS = frozenset({"select", "update", "delete", "insert", "aliased", "exists"})
_LOGICAL = frozenset({"and_", "or_", "not_", "any_"})
_EXECUTE = frozenset(
    {"all", "first", "one", "one_or_none", "scalar", "scalars", "count", "get", "unique", "fetchall", "fetchone",
     "first_or_404", "get_or_404", "one_or_404", "paginate", "has_rows"}
)
_OTHER_COLUMN_OPS = frozenset(
    {
        "is_", "is_not", "isnot", "like", "ilike", "not_like", "notlike", "not_ilike", "notilike", "not_in",
        "notin_", "startswith", "endswith", "contains", "between", "match", "regexp_match", "op", "bool_op",
        "is_distinct_from", "isnot_distinct_from", "any_", "all_",
    }
)  # fmt: skip


# --- the model catalog -------------------------------------------------------------------


def collect_models(w: "Walk") -> list[ModelDef]:
    """Model classes and Table objects defined anywhere in the module."""
    found: list[ModelDef] = []
    for node in statements(w.module):
        if type(node) is cst.ClassDef:
            model = _model_class(w, node)
            if model is not None:
                found.append(model)
        elif type(node) is cst.Assign and len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            if isinstance(node.value, cst.Call) and (dotted(node.value.func) or "").endswith("SQLAlchemy"):
                w.flask_dbs.add(node.targets[0].target.value)
            table = _table_call(w, node.value)
            if table is not None:
                name = node.targets[0].target
                w.reading(node)
                found.append(ModelDef(name.value, table[1], w.names.module_name, w.span(name), table[0]))
    found.sort(key=lambda m: (m.span.line, m.span.column))
    for model in found:
        w.local_models[model.name] = (model.table, model.schema)
    return found


def _model_class(w: "Walk", node: cst.ClassDef) -> ModelDef | None:
    table = schema = None
    foreign_keys: dict[str, str] = {}
    relationships: list[Relationship] = []
    for target, value, annotation in _class_assignments(node):
        if target == "__tablename__":
            name = w.constant(value)
            if name:
                schema, table = split_table_name(name.strip())
        elif target == "__table__":
            found = _table_call(w, value)
            if found is not None:
                schema, table = found
        elif target == "__table_args__":
            chosen = _schema_argument(w, value)
            if chosen is not None:
                schema = chosen
            foreign_keys.update(_table_foreign_keys(w, value))
        elif isinstance(value, cst.Call):
            kind = (dotted(value.func) or "").rsplit(".", 1)[-1]
            if kind in ("Column", "mapped_column"):
                column, referenced = _column_foreign_key(w, target, value)
                if referenced is not None:
                    foreign_keys[column] = referenced
            elif kind in ("relationship", "relation"):
                found_rel = _relationship(w, target, value, annotation)
                if found_rel is not None:
                    relationships.append(found_rel)
    if table is None:
        return None
    return ModelDef(node.name.value, table, w.names.module_name, w.span(node.name), schema, foreign_keys,
                    relationships)


def _class_assignments(node: cst.ClassDef):
    """(name, value, annotation) of a class body's assignments; a
    `@declared_attr` method that only returns a value counts as assigning it."""
    body = node.body.body if isinstance(node.body, cst.IndentedBlock) else []
    for statement in body:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                target, value = _assignment(small)
                if target is not None and value is not None:
                    yield target, value, small.annotation if isinstance(small, cst.AnnAssign) else None
        elif isinstance(statement, cst.FunctionDef) and any(
            "declared_attr" in (dotted(d.decorator) or "") for d in statement.decorators
        ):
            inner = statement.body.body if isinstance(statement.body, cst.IndentedBlock) else []
            statements = [s for s in inner if not _is_docstring_line(s)]
            if len(statements) == 1 and isinstance(statements[0], cst.SimpleStatementLine):
                returned = statements[0].body[0]
                if isinstance(returned, cst.Return) and returned.value is not None:
                    yield statement.name.value, returned.value, None


def _is_docstring_line(statement: cst.CSTNode) -> bool:
    return (isinstance(statement, cst.SimpleStatementLine) and isinstance(statement.body[0], cst.Expr)
            and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString)))


def _column_foreign_key(w: "Walk", attribute: str, call: cst.Call) -> tuple[str, str | None]:
    """`org_id = Column(Integer, ForeignKey("orgs.id"))` -> ("org_id", "orgs")."""
    name = attribute
    referenced = None
    for arg in call.args:
        if arg.keyword is not None:
            continue
        text = w.constant(arg.value)
        if text is not None and name == attribute and arg is call.args[0]:
            name = text  # Column("org_id", ...): the column's own name
        elif isinstance(arg.value, cst.Call) and (dotted(arg.value.func) or "").endswith("ForeignKey"):
            if arg.value.args:
                referenced = _referenced_table(w, arg.value.args[0].value)
    return name, referenced


def _referenced_table(w: "Walk", node: cst.BaseExpression) -> str | None:
    """"orgs.id" -> "orgs", "events.events.id" -> "events.events", Org.id -> "@Org"."""
    text = w.constant(node)
    if text is not None:
        table = text.rpartition(".")[0]
        return table.lower() or None
    if isinstance(node, cst.Attribute):
        name = dotted(node.value)
        return "@" + name.rsplit(".", 1)[-1] if name else None
    return None


def _table_foreign_keys(w: "Walk", value: cst.BaseExpression) -> dict[str, str]:
    """`ForeignKeyConstraint(["org_id"], ["orgs.id"])` in `__table_args__`."""
    found: dict[str, str] = {}
    elements = [e.value for e in value.elements] if isinstance(value, cst.Tuple) else [value]
    for element in elements:
        if not isinstance(element, cst.Call) or not (dotted(element.func) or "").endswith("ForeignKeyConstraint"):
            continue
        positional = [a.value for a in element.args if a.keyword is None]
        if len(positional) < 2 or not all(isinstance(p, (cst.List, cst.Tuple)) for p in positional[:2]):
            continue
        columns = [w.constant(e.value) for e in positional[0].elements]  # type: ignore[attr-defined]
        targets = [_referenced_table(w, e.value) for e in positional[1].elements]  # type: ignore[attr-defined]
        for column, target in zip(columns, targets):
            if column and target:
                found[column] = target
    return found


def _relationship(w: "Walk", attribute: str, call: cst.Call, annotation) -> Relationship | None:
    """`relationship("Org", backref="agents", foreign_keys=[org_id])`, or the
    target from `Mapped["Org"]`."""
    positional = [a.value for a in call.args if a.keyword is None]
    target = _class_name(w, positional[0]) if positional else None
    if target is None and annotation is not None:
        hint = annotation.annotation
        if isinstance(hint, cst.Subscript) and (dotted(hint.value) or "").endswith("Mapped") and hint.slice:
            inner = hint.slice[0].slice
            target = _class_name(w, inner.value) if isinstance(inner, cst.Index) else None
    if target is None:
        return None
    keys: list[str] = []
    backref = None
    for arg in call.args:
        if arg.keyword is None:
            continue
        if arg.keyword.value == "foreign_keys":
            keys = _column_names(w, arg.value)
        elif arg.keyword.value == "backref":
            value = arg.value
            if isinstance(value, cst.Call) and value.args:
                value = value.args[0].value  # backref("agents", ...)
            backref = w.constant(value)
    return Relationship(attribute, target, keys, backref)


def _class_name(w: "Walk", node: cst.BaseExpression) -> str | None:
    text = w.constant(node)
    if text is not None:
        return text.rsplit(".", 1)[-1].strip() or None
    name = dotted(node)
    return name.rsplit(".", 1)[-1] if name else None


def _column_names(w: "Walk", node: cst.BaseExpression) -> list[str]:
    """`[org_id]`, `org_id`, `Agent.org_id`, `"Agent.org_id"`, `"[Agent.a, Agent.b]"` -> column names."""
    text = w.constant(node)
    if text is not None:
        return [part.rsplit(".", 1)[-1] for part in re.findall(r"[\w.]+", text)]
    elements = [e.value for e in node.elements] if isinstance(node, (cst.List, cst.Tuple)) else [node]
    names = [dotted(e) for e in elements]
    return [n.rsplit(".", 1)[-1] for n in names if n]


def _assignment(small: cst.CSTNode) -> tuple[str | None, cst.BaseExpression | None]:
    if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
        return small.targets[0].target.value, small.value
    if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
        return small.target.value, small.value
    return None, None


def _schema_argument(w: "Walk", value: cst.BaseExpression) -> str | None:
    """`{"schema": "archive"}`, alone or last in a `__table_args__` tuple."""
    if isinstance(value, cst.Tuple) and value.elements:
        value = value.elements[-1].value
    if isinstance(value, cst.Dict):
        for element in value.elements:
            if isinstance(element, cst.DictElement) and string_value(element.key) == "schema":
                chosen = w.constant(element.value)
                if chosen:
                    return None if chosen.lower() == "public" else chosen.lower()
    return None


def _table_call(w: "Walk", value: cst.BaseExpression) -> tuple[str | None, str] | None:
    """`Table("agents", metadata, ..., schema=...)` -> (schema, table)."""
    if not isinstance(value, cst.Call) or not value.args:
        return None
    name = dotted(value.func)
    if name is None or name.rsplit(".", 1)[-1] != "Table":
        return None
    qualified = w.names.qualified(value.func)
    if "." in name and not is_sqlalchemy(qualified):
        return None
    first = w.constant(value.args[0].value)
    if not first:
        return None
    schema, table = split_table_name(first.strip())
    for arg in value.args:
        if arg.keyword is not None and arg.keyword.value == "schema":
            chosen = w.constant(arg.value)
            if chosen:
                schema = None if chosen.lower() == "public" else chosen.lower()
    return schema, table


# --- entities ------------------------------------------------------------------------


def entity_of(w: "Walk", node: cst.BaseExpression) -> Entity | None:
    """The model class or Table object an expression names, if it names one."""
    if isinstance(node, cst.Name):
        for value in w.env.get(node.value, ()):
            if isinstance(value, Entity):
                return value
        if node.value == "cls":
            owner = w.classmethod_owner()
            if owner is not None and owner in w.local_models:
                table, schema = w.local_models[owner]
                return Entity(owner, owner, table, schema)
        if node.value in w.env:
            return None
        if node.value in w.local_models:
            table, schema = w.local_models[node.value]
            return Entity(node.value, node.value, table, schema)
        if w.names.imported_from_project(node.value):
            original = w.names.imports[node.value].rsplit(".", 1)[-1]
            return Entity(original, original, None)
        return None
    if isinstance(node, cst.Attribute) and node.attr.value[:1].isupper():
        # `models.Agent` where `models` is an imported module
        base = node.value
        while isinstance(base, cst.Attribute):
            base = base.value
        if isinstance(base, cst.Name) and base.value not in w.env and w.names.is_module(base.value):
            name = node.attr.value
            if name in w.local_models:
                table, schema = w.local_models[name]
                return Entity(name, name, table, schema)
            return Entity(name, name, None)
        return None
    if isinstance(node, cst.Call) and _sa_function(w, node.func, node) == "aliased":
        return _aliased(w, node)
    return None


def column_of(w: "Walk", node: cst.BaseExpression) -> tuple[Entity, PCol, cst.BaseExpression] | None:
    """`Agent.clerk_org_id`, `agents_table.c.clerk_org_id` -> (entity, column, entity node)."""
    if not isinstance(node, cst.Attribute):
        return None
    name = node.attr.value
    if name[:1].isupper():
        return None
    base = node.value
    if isinstance(base, cst.Attribute) and base.attr.value in ("c", "columns"):
        base = base.value
    entity = entity_of(w, base)
    if entity is None:
        return None
    return entity, PCol(name, w.span(node.attr), entity.key), base


def _aliased(w: "Walk", node: cst.Call) -> Entity | None:
    if not node.args:
        return None
    target = entity_of(w, node.args[0].value)
    if target is None:
        return None
    alias = None
    for arg in node.args[1:]:
        if arg.keyword is not None and arg.keyword.value == "name":
            alias = w.constant(arg.value)
    line, column = w.start(node)
    return Entity(f"alias:{line}:{column}", target.model, target.table, target.schema, alias=alias)


def _sa_function(w: "Walk", func: cst.BaseExpression, node: cst.Call | None = None) -> str | None:
    """`select` for `select`, `sa.select`, `sqlalchemy.future.select` ..."""
    name = dotted(func)
    if name is None:
        return None
    last = name.rsplit(".", 1)[-1]
    if last not in _CONSTRUCTORS and last not in _LOGICAL:
        return None
    qualified = w.names.qualified(func)
    if is_sqlalchemy(qualified):
        return last
    if "." not in name and name not in w.names.imports and name not in w.names.defined and name not in w.env:
        return last  # used without an import orgscope can see
    if name.count(".") == 1 and _is_flask_db(w, name.split(".", 1)[0]):
        # Flask-SQLAlchemy's `db` re-exports SQLAlchemy: `db.and_` is `and_`.
        # A project's own `db.select("agents", ...)` is a data-access call,
        # so a statement needs a model as its first argument.
        if last in _LOGICAL or (node is not None and node.args and entity_of(w, node.args[0].value) is not None):
            return last
    return None


def _is_flask_db(w: "Walk", name: str) -> bool:
    """`db`, by Flask-SQLAlchemy's convention (imported or defined), or a
    name bound to `SQLAlchemy(...)` in this module."""
    if name in w.env and w.env is not w.module_env:
        return False  # a local of that name is something else
    return name == "db" or name in w.flask_dbs


def _entities_in(w: "Walk", node: cst.CSTNode) -> Iterable[tuple[Entity, cst.BaseExpression, PCol | None]]:
    """Entities a select list names: `Agent`, `Agent.id`, `func.count(Agent.id)`."""
    if isinstance(node, cst.BaseExpression):
        column = column_of(w, node)
        if column is not None:
            yield column[0], column[2], column[1]
            return
        entity = entity_of(w, node)
        if entity is not None:
            yield entity, node, None
            return
    if isinstance(node, cst.Call) and _sa_function(w, node.func, node) in ("select", "update", "delete", "insert"):
        return  # a nested statement is a query of its own
    for child in children(node):
        yield from _entities_in(w, child)


def attribute(w: "Walk", node: cst.Attribute):
    """`Agent.query` (Flask-SQLAlchemy) starts a query; `models.Agent` is a model."""
    if node.attr.value == "query":
        entity = entity_of(w, node.value)
        if entity is not None:
            ref = RefItem(entity, w.span(node.value))
            return (Stmt(w.new_origin(), "select", w.span(node), w.statement, refs=(ref,)),)
    entity = entity_of(w, node) if node.attr.value[:1].isupper() else None
    if entity is not None:
        return (entity,)
    return None


# --- constructors -------------------------------------------------------------------------


def name_call(w: "Walk", node: cst.Call):
    """`select(...)`, `update(Agent)`, `aliased(Agent)`, `Agent(...)`."""
    function = _sa_function(w, node.func, node)
    if function is not None:
        return _constructor(w, node, function)
    entity = entity_of(w, node.func)
    if entity is not None and not entity.key.startswith("alias:"):
        return _create(w, node, entity)
    return None


def attribute_call(w: "Walk", node: cst.Call, method: str):
    """Calls on something that is not a value being built: `sa.select(...)`,
    `session.get(Agent, pk)`, `session.query(Agent)`, `models.Agent(...)`."""
    function = _sa_function(w, node.func, node)
    if function is not None:
        return _constructor(w, node, function)
    if method[:1].isupper():
        entity = entity_of(w, node.func)
        if entity is not None:
            return _create(w, node, entity)
    if method in ("get", "get_one", "get_or_404") and len(node.args) >= 2 and node.args[0].keyword is None:
        entity = entity_of(w, node.args[0].value)
        if entity is not None:
            return _session_get(w, node, entity)
    if method == "query" and node.args:
        found = [e for arg in node.args for e in _entities_in(w, arg.value)]
        if found:
            w.use(w.ev(node.func.value))  # type: ignore[attr-defined]
            return (_select(w, node, found),)
    return None


def _constructor(w: "Walk", node: cst.Call, function: str):
    if function == "aliased":
        entity = _aliased(w, node)
        return (entity,) if entity is not None else None
    if function in ("and_", "or_", "not_", "any_"):
        return None
    if function == "exists":
        # exists(select(...)) is that select as a subquery; exists(Tag.id) and
        # exists() build one, like select()
        inner = [v for arg in node.args for v in w.ev(arg.value) if isinstance(v, Stmt)]
        if inner:
            return tuple(inner)
        found = [e for arg in node.args for e in _entities_in(w, arg.value)]
        return (_select(w, node, found),)
    if function == "select":
        found = [e for arg in node.args for e in _entities_in(w, arg.value)]
        if not found and "." not in (dotted(node.func) or "") and not is_sqlalchemy(w.names.qualified(node.func)):
            return None
        return (_select(w, node, found),)
    if not node.args:
        return None
    entity = entity_of(w, node.args[0].value)
    if entity is None:
        return None
    for arg in node.args[1:]:
        w.use(w.ev(arg.value))
    ref = RefItem(entity, w.span(node.args[0].value))
    return (Stmt(w.new_origin(), function, w.span(node), w.statement, refs=(ref,)),)


def _select(w: "Walk", node: cst.Call, found) -> Stmt:
    refs: list[RefItem] = []
    columns: list[PCol] = []
    for entity, where, column in found:
        if all(r.key != entity.key for r in refs):
            refs.append(RefItem(entity, w.span(where)))
        if column is not None and column.name in w.model.tenancy_columns:
            columns.append(column)
    for arg in node.args:
        # arguments that name no entity may still hold values worth a look
        # (a scalar subquery in the select list is correlated with the rest)
        if not list(_entities_in(w, arg.value)):
            w.use(correlated(w.ev(arg.value), refs))
    return Stmt(w.new_origin(), "select", w.span(node), w.statement, refs=tuple(refs), columns=tuple(columns))


def _session_get(w: "Walk", node: cst.Call, entity: Entity):
    w.use(w.ev(node.func.value))  # type: ignore[attr-defined]
    for arg in node.args[1:]:
        w.use(w.ev(arg.value))
    ref = RefItem(entity, w.span(node.args[0].value))
    stmt = Stmt(w.new_origin(), "select", w.span(node), w.statement, refs=(ref,))
    w.use([stmt])
    return ()


def _create(w: "Walk", node: cst.Call, entity: Entity):
    """`Agent(name=..., clerk_org_id=...)`: an ORM create with visible columns."""
    if any(a.keyword is None and not a.star for a in node.args) or not node.args:
        return None  # positional arguments: not a declarative model constructor
    keys: list[KeyItem] = []
    opaque = False
    for arg in node.args:
        if arg.star:
            opaque = True
        elif arg.keyword is not None:
            keys.append(KeyItem(arg.keyword.value, w.span(arg.keyword), value_kind(arg.value)))
        w.use(w.ev(arg.value))
    columns = None if opaque else {k.name: k.span for k in keys}
    span = w.span(node.func.attr if isinstance(node.func, cst.Attribute) else node.func)
    write = Write(table=entity.table, span=span, op="create", columns=columns, schema=entity.schema, model=entity.model)
    if w.emit_queries:
        text = f"sqlalchemy:create:{entity.model}:{','.join(sorted(k.name for k in keys))}"
        w.queries.append(Query(kind="insert", span=w.span(node), text=text, origin="sqlalchemy", writes=[write]))
    return ()


# --- statements being built ---------------------------------------------------------------------


def method(w: "Walk", value, name: str, node: cst.Call):
    if isinstance(value, Entity):
        if name in ("select", "update", "delete", "insert") and value.model:
            ref = RefItem(value, w.span(node.func.value))  # type: ignore[attr-defined]
            for arg in node.args:
                w.use(w.ev(arg.value))
            return (Stmt(w.new_origin(), name, w.span(node), w.statement, refs=(ref,)),)
        return None
    stmt: Stmt = value
    outer = w.span(node)
    if (outer.line, outer.column) == (stmt.span.line, stmt.span.column):
        stmt = replace(stmt, span=outer)
    args = node.args
    if name in ("where", "filter"):
        return (_where(w, stmt, [a for a in args if a.keyword is None]),)
    if name == "filter_by":
        return (_filter_by(w, stmt, args),)
    if name == "with_parent" and args and stmt.refs:
        refs = list(stmt.refs)
        return (replace(stmt, preds=stmt.preds + tuple(PredItem(p) for p in _with_parent(w, node, refs))),)
    if name in ("join", "outerjoin", "join_from", "outerjoin_from"):
        return (_join(w, stmt, name, args),)
    if name == "select_from":
        refs = list(stmt.refs)
        for arg in args:
            entity = entity_of(w, arg.value)
            if entity is not None and all(r.key != entity.key for r in refs):
                refs.append(RefItem(entity, w.span(arg.value)))
            elif entity is None:
                w.use(w.ev(arg.value))
        return (replace(stmt, refs=tuple(refs)),)
    if name == "values":
        return (_values(w, stmt, args),)
    if name in ("correlate", "correlate_except"):
        keys = tuple(e.key for a in args if (e := entity_of(w, a.value)) is not None)
        if name == "correlate":
            return (replace(stmt, outer=stmt.outer + keys),)
        return (replace(stmt, outer_except=keys),)
    if name in ("on_conflict_do_update", "on_conflict_do_nothing"):
        for arg in args:
            w.use(w.ev(arg.value))
        return (replace(stmt, op="upsert") if stmt.op == "insert" else stmt,)
    if name in ("update", "delete") and stmt.op == "select":
        # Query.update({...}) / Query.delete(): runs at once
        stmt = replace(stmt, op=name)
        if name == "update" and args:
            stmt = _values(w, stmt, args[:1])
            args = args[1:]
        for arg in args:
            w.use(w.ev(arg.value))
        w.use([stmt])
        return ()
    for arg in args:
        w.use(w.ev(arg.value))
    if name in _EXECUTE:
        w.use([stmt])
        return ()
    return (stmt,)


def _ensure_ref(w: "Walk", refs: list[RefItem], entity: Entity, where: cst.BaseExpression) -> None:
    if all(r.key != entity.key for r in refs):
        refs.append(RefItem(entity, w.span(where)))


def _where(w: "Walk", stmt: Stmt, conditions: list[cst.Arg]) -> Stmt:
    refs = list(stmt.refs)
    columns: list[PCol] = list(stmt.columns)
    items: list[PredItem] = []
    dynamic = stmt.dynamic
    for condition in conditions:
        for node, conditional in _splatted(w, condition):
            if node is None:
                dynamic = True  # a splatted list orgscope cannot see into
                continue
            items.extend(PredItem(p, conditional) for p in _conditions(w, node, refs, columns))
    return replace(stmt, refs=tuple(refs), preds=stmt.preds + tuple(items), columns=tuple(columns), dynamic=dynamic)


def _splatted(w: "Walk", arg: cst.Arg) -> list[tuple[cst.BaseExpression | None, bool]]:
    """The conditions an argument stands for: itself, or the elements of a
    list splatted into the call (`.where(*filters)`), each with whether only
    some paths added it; (None, False) for a list orgscope cannot see."""
    if arg.star != "*":
        return [(arg.value, False)]
    lists = [v for v in w.ev(arg.value) if isinstance(v, ExprList)]
    if len(lists) != 1:
        return [(None, False)]
    found: list[tuple[cst.BaseExpression | None, bool]] = [(i.node, i.conditional) for i in lists[0].items]
    if lists[0].opaque:
        found.append((None, False))
    return found


def _filter_by(w: "Walk", stmt: Stmt, args) -> Stmt:
    if not stmt.refs:
        for arg in args:
            w.use(w.ev(arg.value))
        return replace(stmt, dynamic=True)
    target = stmt.refs[-1].entity  # filter_by applies to the last entity joined
    preds = []
    columns = list(stmt.columns)
    dynamic = stmt.dynamic
    for arg in args:
        w.use(w.ev(arg.value))
        if arg.keyword is None:
            dynamic = dynamic or arg.star == "**"
            continue
        column = PCol(arg.keyword.value, w.span(arg.keyword), target.key)
        preds.append(PredItem(PCompare(column, "eq", value_kind(arg.value))))
        if column.name in w.model.tenancy_columns:
            columns.append(column)
    return replace(stmt, preds=stmt.preds + tuple(preds), columns=tuple(columns), dynamic=dynamic)


def _join(w: "Walk", stmt: Stmt, name: str, args) -> Stmt:
    positional = [a.value for a in args if a.keyword is None]
    if name.endswith("_from") and positional:
        left = entity_of(w, positional[0])
        refs = list(stmt.refs)
        if left is not None:
            _ensure_ref(w, refs, left, positional[0])
        stmt = replace(stmt, refs=tuple(refs))
        positional = positional[1:]
    for arg in args:
        if arg.keyword is not None:
            w.use(w.ev(arg.value))
    if not positional:
        return stmt
    target = entity_of(w, positional[0])
    if target is None:
        w.use(w.ev(positional[0]))
        for extra in positional[1:]:
            w.use(w.ev(extra))
        return stmt
    refs = [r for r in stmt.refs if r.key != target.key]
    placeholder = RefItem(target, w.span(positional[0]))
    refs.append(placeholder)
    columns = list(stmt.columns)
    on = []
    for extra in positional[1:]:
        on.extend(_conditions(w, extra, refs, columns))
    refs[refs.index(placeholder)] = replace(placeholder, on=tuple(PredItem(p) for p in on))
    return replace(stmt, refs=tuple(refs), columns=tuple(columns))


def _values(w: "Walk", stmt: Stmt, args) -> Stmt:
    keys: list[KeyItem] = []
    opaque = False
    for arg in args:
        if arg.keyword is not None:
            keys.append(KeyItem(arg.keyword.value, w.span(arg.keyword), value_kind(arg.value)))
            w.use(w.ev(arg.value))
            continue
        if arg.star:
            opaque = True
            w.use(w.ev(arg.value))
            continue
        found = [v for v in w.ev(arg.value) if isinstance(v, DictVal)]
        if len(found) == 1 and not found[0].opaque:
            keys.extend(found[0].keys)
        else:
            opaque = True
    if stmt.op in ("insert", "upsert"):
        current = stmt.write
        merged = DictVal(stmt.origin, tuple(keys), opaque)
        if current is not None:
            merged = DictVal(stmt.origin, current.keys + tuple(keys), current.opaque or opaque)
        return replace(stmt, write=merged)
    return replace(stmt, sets=stmt.sets + tuple(keys))


def _conditions(w: "Walk", node: cst.BaseExpression, refs: list[RefItem], columns: list[PCol]) -> list:
    """The AND-ed predicates of one SQLAlchemy condition expression."""
    if isinstance(node, cst.Call):
        function = _sa_function(w, node.func)
        if function == "and_":
            # an element only some paths add scopes nothing
            return [p for a in node.args for n, conditional in _splatted(w, a) if n is not None and not conditional
                    for p in _conditions(w, n, refs, columns)]
        if function == "or_":
            branches = tuple(tuple(_conditions(w, n, refs, columns)) if n is not None and not conditional else ()
                             for a in node.args for n, conditional in _splatted(w, a))
            return [POr(branches)] if branches else []
        if function == "not_":
            _mention_columns(w, node, refs, columns)
            return []
        if _is_with_parent(w, node.func):
            return _with_parent(w, node, refs)
        if isinstance(node.func, cst.Attribute):
            return _column_method(w, node, refs, columns)
    if isinstance(node, cst.BinaryOperation):
        if isinstance(node.operator, cst.BitAnd):
            return _conditions(w, node.left, refs, columns) + _conditions(w, node.right, refs, columns)
        if isinstance(node.operator, cst.BitOr):
            left = tuple(_conditions(w, node.left, refs, columns))
            right = tuple(_conditions(w, node.right, refs, columns))
            return [POr((left, right))]
    if isinstance(node, cst.Comparison) and len(node.comparisons) == 1:
        return _comparison(w, node, refs, columns)
    if isinstance(node, cst.UnaryOperation):
        _mention_columns(w, node, refs, columns)
        return []
    column = column_of(w, node)
    if column is not None:  # a bare boolean column
        _ensure_ref(w, refs, column[0], column[2])
        return []
    values = w.ev(node)
    named = [v for v in values if isinstance(v, ExprList)]
    if isinstance(node, cst.Name) and len(named) == 1:  # `cond = Agent.clerk_org_id == org` (see `assign`)
        return [p for item in named[0].items if not item.conditional
                for p in _conditions(w, item.node, refs, columns)]  # type: ignore[arg-type]
    w.use(correlated(values, refs))  # `.where(has_tag)`, `.where(exists(...))`
    return []


def assign(w: "Walk", name: str, value: cst.BaseExpression) -> bool:
    """`cond = Agent.clerk_org_id == org`: the condition is kept as written for
    the `.where(cond)` that uses it, as an element of a filter list is."""
    if not _is_condition(w, value) or _names_itself(value, name):
        return False
    values = w.ev(value)
    w.bind(name, tuple(values) + (ExprList(w.new_origin(), (ExprItem(value, w.source(value)),)),))
    return True


def _is_condition(w: "Walk", node: cst.BaseExpression) -> bool:
    """A comparison or column method of a model column, and_ / or_ / not_, and `&`, `|`, `~` of them."""
    if isinstance(node, cst.Comparison) and len(node.comparisons) == 1:
        return column_of(w, node.left) is not None or column_of(w, node.comparisons[0].comparator) is not None
    if isinstance(node, cst.Call):
        if _sa_function(w, node.func) in ("and_", "or_", "not_"):
            return True
        return isinstance(node.func, cst.Attribute) and column_of(w, node.func.value) is not None
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, (cst.BitAnd, cst.BitOr)):
        return _is_condition(w, node.left) or _is_condition(w, node.right)
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.BitInvert):
        return _is_condition(w, node.expression)
    return False


def _names_itself(node: cst.CSTNode, name: str) -> bool:
    """`cond = cond & (...)` reads the name it rebinds: kept out, since a kept condition is read where it is used."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, cst.Name) and current.value == name:
            return True
        stack.extend(children(current))
    return False


def correlated(values: Iterable, refs: list[RefItem]) -> tuple:
    """Statements used inside a query whose references `refs` are: as
    SQLAlchemy auto-correlates, an entity of the enclosing query named in the
    subquery is the enclosing row, not a new read."""
    outer = {r.key for r in refs}
    if not outer:
        return tuple(values)
    out = []
    for value in values:
        if isinstance(value, Stmt) and value.op == "select":
            shared = tuple(r.key for r in value.refs if r.key in outer and r.key not in value.outer)
            if shared and len(shared) < len(value.refs):
                value = replace(value, outer=value.outer + shared)
        out.append(value)
    return tuple(out)


def _is_with_parent(w: "Walk", func: cst.BaseExpression) -> bool:
    name = dotted(func) or ""
    if name.rsplit(".", 1)[-1] != "with_parent":
        return False
    return is_sqlalchemy(w.names.qualified(func)) or ("." not in name and name not in w.names.defined)


def _with_parent(w: "Walk", node: cst.Call, refs: list[RefItem]) -> list:
    """`with_parent(org)` / `with_parent(org, Org.agents)`: the query's rows
    whose parent (through a relationship) is that row. Whether the
    relationship goes through the org column only the model catalog knows,
    so the predicate names it for the catalog to resolve."""
    for arg in node.args:
        w.use(w.ev(arg.value))
    if not refs or not node.args:
        return []
    name = WITH_PARENT
    if len(node.args) > 1:
        prop = dotted(node.args[1].value)
        if prop is not None and "." in prop:
            name = f"{WITH_PARENT}:{'.'.join(prop.split('.')[-2:])}"
    span = w.span(node.func.attr if isinstance(node.func, cst.Attribute) else node.func)
    return [PCompare(PCol(name, span, refs[0].key), "eq", PARAM)]


def _mention_columns(w: "Walk", node: cst.CSTNode, refs: list[RefItem], columns: list[PCol]) -> None:
    """A negated condition never scopes, but its columns still count for ORG006."""
    for entity, where, column in _entities_in(w, node):
        _ensure_ref(w, refs, entity, where)
        if column is not None and column.name in w.model.tenancy_columns:
            columns.append(column)


def _comparison(w: "Walk", node: cst.Comparison, refs: list[RefItem], columns: list[PCol]) -> list:
    target = node.comparisons[0]
    left, right = node.left, target.comparator
    found_left, found_right = column_of(w, left), column_of(w, right)
    if found_left is None and found_right is None:
        w.use(w.ev(left))
        w.use(w.ev(right))
        return []
    if found_left is None:
        left, right = right, left
        found_left, found_right = found_right, found_left
    entity, column, base = found_left  # type: ignore[misc]
    _ensure_ref(w, refs, entity, base)
    if column.name in w.model.tenancy_columns:
        columns.append(column)
    op = "eq" if isinstance(target.operator, cst.Equal) else "other"
    if found_right is not None:
        other_entity, other, other_base = found_right
        _ensure_ref(w, refs, other_entity, other_base)
        if other.name in w.model.tenancy_columns:
            columns.append(other)
        return [PCompare(column, op, COLUMN, other)]
    kind = _value(w, right, refs)
    if op == "eq" and isinstance(right, cst.Call) and _sa_function(w, right.func) == "any_":
        op = "any"
    return [PCompare(column, op, kind)]


def _column_method(w: "Walk", node: cst.Call, refs: list[RefItem], columns: list[PCol]) -> list:
    """`Agent.clerk_org_id.in_(orgs)`, `.is_not_distinct_from(v)`, `.is_not(None)` ..."""
    func: cst.Attribute = node.func  # type: ignore[assignment]
    found = column_of(w, func.value)
    if found is None:
        w.use(w.ev(node))
        return []
    entity, column, base = found
    _ensure_ref(w, refs, entity, base)
    if column.name in w.model.tenancy_columns:
        columns.append(column)
    name = func.attr.value
    if not node.args:
        return [PCompare(column, "other", LITERAL)]
    argument = node.args[0].value
    other = column_of(w, argument)
    for arg in node.args[1:]:
        w.use(w.ev(arg.value))
    if other is not None:
        _ensure_ref(w, refs, other[0], other[2])
        op = "not_distinct" if name in ("is_not_distinct_from", "isnot_distinct_from") else "other"
        return [PCompare(column, op, COLUMN, other[1])]
    kind = _value(w, argument, refs)
    if name == "in_":
        return [PCompare(column, "in_subquery" if kind == SUBQUERY else "in", kind)]
    if name in ("is_not_distinct_from",):
        return [PCompare(column, "not_distinct", kind)]
    return [PCompare(column, "other", kind)]


def _value(w: "Walk", node: cst.BaseExpression, refs: list[RefItem] | None = None) -> str:
    """The kind of a Python value compared with a column."""
    kind = value_kind(node)
    if kind == LITERAL:
        return LITERAL
    values = correlated(w.ev(node), refs or [])
    w.use(values)
    if any(isinstance(v, Stmt) for v in values):
        return SUBQUERY
    if isinstance(node, cst.Call):
        name = w.names.qualified(node.func) or ""
        if name.startswith("sqlalchemy.func.") or (dotted(node.func) or "").startswith("func."):
            return CALL
    return PARAM


# --- facts --------------------------------------------------------------------------------


def emit(w: "Walk", stmt: Stmt) -> None:
    text = _text(stmt)
    query = Query(kind=stmt.op, span=stmt.span, text=text, origin="sqlalchemy", dynamic=stmt.dynamic)
    if stmt.op in ("insert", "upsert"):
        for ref in stmt.refs:
            entity = ref.entity
            query.writes.append(
                Write(
                    table=entity.table,
                    span=ref.span,
                    op=stmt.op,
                    columns=payload_columns(stmt.write) if stmt.write is not None else None,
                    schema=entity.schema,
                    model=entity.model,
                    scoped_by=stmt.scoped_by,
                )
            )
        w.queries.append(query)
        return
    stmt = _without_outer_rows(stmt)
    ids = {ref.key: i for i, ref in enumerate(stmt.refs)}

    def ref_of(entity: str | None) -> int | None:
        return ids.get(entity) if entity is not None else None

    block = Block(id=0, parent=None)
    for i, item in enumerate(stmt.refs):
        entity = item.entity
        sets = [Column(k.name, None, k.span, ref=i) for k in stmt.sets] if i == 0 else []
        block.refs.append(
            Ref(
                id=i,
                table=entity.table,
                span=item.span,
                op=stmt.op,
                schema=entity.schema,
                alias=entity.alias,
                on=[to_fact(p.pred, p.conditional, ref_of) for p in item.on],
                model=entity.model,
                scoped_by=stmt.scoped_by,
                sets=sets,
            )
        )
    block.where = [to_fact(p.pred, p.conditional, ref_of) for p in stmt.preds]
    tenancy = w.model.tenancy_columns
    seen = set()
    mentioned = list(stmt.columns) + [c for p in stmt.preds for c in pred_columns(p.pred)]
    mentioned += [c for r in stmt.refs for p in r.on for c in pred_columns(p.pred)]
    for column in mentioned:
        if column.name in tenancy and (column.span, column.name) not in seen:
            seen.add((column.span, column.name))
            block.columns.append(Column(column.name, None, column.span, ref=ref_of(column.entity)))
    block.columns += [Column(k.name, None, k.span, ref=0) for k in stmt.sets if k.name in tenancy]
    query.blocks.append(block)
    w.queries.append(query)


def _without_outer_rows(stmt: Stmt) -> Stmt:
    """The subquery without the enclosing query's rows: their columns in its
    predicates are values from the outer row (`Tag.query_id == Query.id`)."""
    outer = set(stmt.outer)
    if stmt.outer_except is not None:
        outer |= {r.key for r in stmt.refs if r.key not in stmt.outer_except}
    kept = tuple(r for r in stmt.refs if r.key not in outer)
    if not outer or not kept or len(kept) == len(stmt.refs):
        return stmt

    def value_of(pred):
        if isinstance(pred, POr):
            branches = tuple(tuple(p for p in map(value_of, branch) if p is not None) for branch in pred.branches)
            return POr(branches)
        if pred.column.entity in outer:
            if pred.value_column is None or pred.value_column.entity in outer:
                return None  # about the outer row alone
            pred = PCompare(pred.value_column, pred.op if pred.op in ("eq", "not_distinct") else "other", COLUMN,
                            pred.column)
        if pred.value_column is not None and pred.value_column.entity in outer:
            return replace(pred, value=PARAM, value_column=None)
        return pred

    preds = tuple(replace(p, pred=v) for p in stmt.preds if (v := value_of(p.pred)) is not None)
    columns = tuple(c for c in stmt.columns if c.entity not in outer)
    return replace(stmt, refs=kept, preds=preds, columns=columns)


def _text(stmt: Stmt) -> str:
    """The normalised statement for fingerprints: names, never positions."""
    names = {r.key: r.entity.alias or r.entity.model or "?" for r in stmt.refs}

    def pred(p) -> str:
        if isinstance(p, POr):
            return "or(" + "|".join(",".join(pred(x) for x in branch) for branch in p.branches) + ")"
        return f"{p.op}({names.get(p.column.entity, '?')}.{p.column.name})"

    models = ",".join(names[r.key] for r in stmt.refs)
    filters = ",".join(pred(p.pred) for p in stmt.preds)
    return f"sqlalchemy:{stmt.op}:{models}:{filters}"


class SqlAlchemy(Recogniser):
    """SQLAlchemy Core and ORM: model classes, `select(...)`, `session.query(...)`,
    `Model.column == x`, and the statements built from them."""

    receives = (Stmt, Entity)
    emits = (Stmt,)

    def name(self, w, node):
        return entity_of(w, node)

    def attribute(self, w, node):
        return attribute(w, node)

    def method_call(self, w, node, method_name):
        return attribute_call(w, node, method_name)

    def function_call(self, w, node):
        return name_call(w, node)

    def assign(self, w, name, value):
        return assign(w, name, value)

    def method(self, w, value, method_name, node):
        return method(w, value, method_name, node)

    def emit(self, w, value):
        emit(w, value)
