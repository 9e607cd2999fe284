"""The whole-project knowledge every query check may consult.

Built once per run, before any query is judged (like pyflakes' first pass):
the schema replayed from every migration and the SQLAlchemy model catalog
collected from every Python file, so that a query in one file knows a model
or a column added in another.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Iterable

from orgscope.facts import COLUMN, PARAM, WITH_PARENT, FileFacts, ModelDef, Or, Pred, Query, Value
from orgscope.findings import Note
from orgscope.model import TenancyModel
from orgscope.schema import Schema, order_alembic, replay

if TYPE_CHECKING:
    from orgscope.migration_order import MigrationPlan


@dataclass
class Catalog:
    model: TenancyModel
    schema: Schema
    models: dict[str, list[ModelDef]] = field(default_factory=dict)
    migration_paths: list[str] = field(default_factory=list)
    plan: MigrationPlan | None = None  # tools, order, files not replayed
    warnings: list[Note] = field(default_factory=list)  # odd migration graphs, duplicate index names
    _org_attributes: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)

    def has_column(self, table: str | None, schema: str | None, column: str) -> bool | None:
        """Does `table` have `column`? The replayed schema when it knows the
        table, else the tenancy model; None when neither knows."""
        if table is None:
            return None
        if self.is_org_view(table, schema) and column == self.model.org_column:
            return True
        replayed = self.schema.has_column(table, schema, column)
        if replayed is not None:
            return replayed
        return self.model.has_column_by_model(table, schema, column)

    def org_view_names(self) -> frozenset[str]:
        return frozenset(v.name for key, v in self.schema.views.items() if self.is_org_view(v.name, key[0]))

    def is_org_view(self, table: str | None, schema: str | None) -> bool:
        """A view over org tables that exposes the org column: an org table for queries."""
        view = self.schema.views.get((schema, table)) if table is not None else None
        return view is not None and view.exposes_org and bool(view.org_tables)

    def resolve_model(self, name: str) -> ModelDef | None:
        """A model class (or Table variable) by name; ambiguous names resolve to nothing."""
        found = self.models.get(name)
        if not found:
            return None
        tables = {(m.schema, m.table) for m in found}
        return found[0] if len(tables) == 1 else None


    def org_attributes(self, name: str) -> frozenset[str]:
        """The relationships of a model that go through its org column
        (SPEC section 10): `Agent.org == org` scopes like `Agent.org_id == org.id`.

        A relationship of the model whose `foreign_keys` name the org column,
        or whose target is the table the org column's ForeignKey references,
        and a `backref` that another model's relationship to it creates from
        that table."""
        if name not in self._org_attributes:
            self._org_attributes[name] = self._find_org_attributes(name)
        return self._org_attributes[name]

    def _find_org_attributes(self, name: str) -> frozenset[str]:
        model = self.resolve_model(name)
        if model is None:
            return frozenset()
        column = self.model.org_column
        parent = self.org_parent(model)
        found = set()
        for relationship in model.relationships:
            if relationship.foreign_keys:
                if column in relationship.foreign_keys:
                    found.add(relationship.name)
            elif parent is not None and _same_table(self._table_of(relationship.target), parent):
                found.add(relationship.name)
        if parent is not None:
            for other in (m for defs in self.models.values() for m in defs):
                if not _same_table((other.schema, other.table), parent):
                    continue
                for relationship in other.relationships:
                    if relationship.backref and relationship.target == model.name:
                        found.add(relationship.backref)
        return frozenset(found)

    def org_parent(self, model: ModelDef) -> tuple[str | None, str] | None:
        """(schema, table) that the model's org column references by ForeignKey."""
        from orgscope.model import split_table_name

        referenced = model.foreign_keys.get(self.model.org_column)
        if referenced is None:
            return None
        if referenced.startswith("@"):
            return self._table_of(referenced[1:])
        return split_table_name(referenced)

    def _table_of(self, class_name: str) -> tuple[str | None, str] | None:
        found = self.resolve_model(class_name)
        return (found.schema, found.table) if found is not None else None


def _same_table(model: tuple[str | None, str] | None, referenced: tuple[str | None, str]) -> bool:
    """Is the model's table the one a ForeignKey references? A model whose
    schema orgscope could not read (`__table_args__` computed by a project
    helper) is matched on the table name alone."""
    if model is None:
        return False
    return model == referenced or (model[0] is None and model[1] == referenced[1])


def build_catalog(model: TenancyModel, all_facts: Iterable[FileFacts]) -> Catalog:
    """Replay migrations (SQL in the order of the tool each folder is written
    for, then Alembic by revision graph) and index the models of every Python
    file."""
    from orgscope.migration_order import plan_migrations

    sql_events = {}
    tools = {}
    alembic = []
    models: dict[str, list[ModelDef]] = {}
    for facts in all_facts:
        if facts.kind == "migration":
            sql_events[facts.path] = facts.events
            tools[facts.path] = facts.migration_tool
        elif facts.kind == "alembic" and facts.alembic is not None:
            alembic.append((facts.path, facts.alembic))
        for model_def in facts.models:
            models.setdefault(model_def.name, []).append(model_def)
    plan = plan_migrations([(path, tools.get(path)) for path in sql_events])
    sql_migrations = [(path, sql_events[path]) for path in plan.ordered]
    warnings = [Note(text) for text in plan.notes]
    ordered = [(path, revision.events) for path, revision in order_alembic(alembic, warnings)] if alembic else []
    migrations = sql_migrations + ordered
    schema = replay(migrations)
    warnings.extend(Note(text) for text in schema.warnings)
    warnings.extend(Note(str(refusal)) for refusal in schema.refusals)
    return Catalog(model=model, schema=schema, models=models, migration_paths=[p for p, _ in migrations],
                   warnings=warnings, plan=plan)


def resolve_models(facts: FileFacts, catalog: Catalog) -> None:
    """Fill the table of ORM refs and writes from the project's model catalog.

    An attribute of an object that is no model class (`ctx.org_id` with `ctx`
    imported from the project, `current_user.org_id`) is a value, not a column
    of another table: the front end cannot tell them apart, the catalog can.
    """
    for query in facts.queries:
        values: set[int] = set()
        for block in query.blocks:
            for ref in block.refs:
                if ref.table is None and ref.model:
                    found = catalog.resolve_model(ref.model)
                    if found is not None:
                        ref.table, ref.schema = found.table, found.schema
                    elif ref.model not in catalog.models and query.origin == "sqlalchemy":
                        values.add(ref.id)
        if values:
            _objects_are_values(query, values)
        if query.origin == "sqlalchemy":
            _relationships_as_columns(query, catalog)
        for write in query.writes:
            if write.table is None and write.model:
                found = catalog.resolve_model(write.model)
                if found is not None:
                    write.table, write.schema = found.table, found.schema
            if write.model and write.columns and catalog.model.org_column not in write.columns:
                via = [c for c in write.columns if c in catalog.org_attributes(write.model)]
                if via:  # Agent(org=org) sets the org column through the relationship
                    write.columns[catalog.model.org_column] = write.columns[via[0]]


def _relationships_as_columns(query: Query, catalog: Catalog) -> None:
    """`Agent.org == org`, `filter_by(org=org)`, `with_parent(org)`: the org
    column, when the relationship goes through it."""
    column = catalog.model.org_column
    by_ref: dict[int, frozenset[str]] = {}
    parents: dict[int, ModelDef] = {}
    for block in query.blocks:
        for ref in block.refs:
            if ref.model:
                by_ref[ref.id] = catalog.org_attributes(ref.model)
                found = catalog.resolve_model(ref.model)
                if found is not None:
                    parents[ref.id] = found

    def through(name: str, ref: int | None) -> bool:
        if ref is None or ref not in by_ref:
            return False
        if name in by_ref[ref]:
            return True
        if name == WITH_PARENT:
            return bool(by_ref[ref])
        if name.startswith(WITH_PARENT + ":") and ref in parents:
            # with_parent(org, Org.agents): the parent is a row of the table the org column references
            owner = catalog.resolve_model(name.split(":", 1)[1].split(".", 1)[0])
            parent = catalog.org_parent(parents[ref])
            return owner is not None and parent is not None and _same_table((owner.schema, owner.table), parent)
        return False

    def fix(pred: Pred) -> None:
        if isinstance(pred, Or):
            for branch in pred.branches:
                for p in branch:
                    fix(p)
        elif pred.column.name != column and through(pred.column.name, pred.column.ref):
            pred.column = replace(pred.column, name=column)

    for block in query.blocks:
        for pred in block.where:
            fix(pred)
        for ref in block.refs:
            for pred in ref.on:
                fix(pred)


def _objects_are_values(query: Query, values: set[int]) -> None:
    """`M.org_id == ctx.org_id`: compares M's column with a value; the refs
    that stood for the objects go."""
    def fix(pred: Pred) -> Pred:
        if isinstance(pred, Or):
            return Or([[fix(p) for p in branch] for branch in pred.branches])
        other = pred.value.column if pred.value.kind == COLUMN else None
        if other is not None and other.ref in values and pred.column.ref not in values:
            return replace(pred, value=Value(PARAM))
        if other is not None and pred.column.ref in values and other.ref not in values:
            return replace(pred, column=other, value=Value(PARAM))
        return pred

    for block in query.blocks:
        block.refs = [r for r in block.refs if r.id not in values]
        block.where = [fix(p) for p in block.where]
        block.columns = [c for c in block.columns if c.ref not in values]
        for ref in block.refs:
            ref.on = [fix(p) for p in ref.on]
