"""When is a table reference constrained by the org column? (SPEC section 3)

Shared by ORG001 (unscoped), ORG003 (client_id scoping), ORG006 (column
mix-up) and ORG900 (dynamic queries), so the question is answered in one place
and exactly once per query.

For a reference R in a block, P(R) is the block's WHERE conjuncts plus the ON
conjuncts of the join that brings R in. R is constrained when P(R) holds

1. `R.org = V` (or IN, = ANY, IS NOT DISTINCT FROM) where V is a parameter,
   literal, call, subquery, or a column of another *constrained* reference;
2. `R.org = S.org` with S constrained in this or an enclosing block;
3. a disjunction every branch of which constrains R.

Rule 2 makes this a fixpoint: scoping one reference can scope another.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

from orgscope.facts import COLUMN, SCOPING_OPS, UNKNOWN, Block, Column, Compare, Or, Pred, Query, Ref


@dataclass
class RefVerdict:
    ref: Ref
    block: Block
    is_org: bool
    constrained: bool = False
    conditional: bool = False  # an org filter exists, but only on some code paths
    client_columns: list[Column] = field(default_factory=list)  # legacy-column scoping of this ref


@dataclass
class QueryScoping:
    verdicts: dict[int, RefVerdict]  # ref id -> verdict

    def org_verdicts(self) -> Iterator[RefVerdict]:
        for verdict in self.verdicts.values():
            if verdict.is_org:
                yield verdict


class _Resolver:
    """Resolves columns to references the way PostgreSQL resolves names."""

    def __init__(self, query: Query, catalog) -> None:
        self.catalog = catalog
        self.blocks = {b.id: b for b in query.blocks}
        self.refs: dict[int, tuple[Ref, Block]] = {r.id: (r, b) for b in query.blocks for r in b.refs}

    def has_column(self, ref: Ref, column: str) -> bool | None:
        """None only for a derived relation whose columns a `*` hides; a table
        that neither the schema nor the model knows to have it does not."""
        if ref.cte:
            if ref.columns is None:
                return None
            return column in ref.columns
        return bool(self.catalog.has_column(ref.table, ref.schema, column))

    def resolve(self, column: Column, block: Block) -> Ref | None:
        if column.ref is not None:
            found = self.refs.get(column.ref)
            return found[0] if found else None
        current: Block | None = block
        while current is not None:
            if column.qualifier is not None:
                for ref in current.refs:
                    if ref.alias == column.qualifier or (ref.alias is None and ref.table == column.qualifier):
                        return ref
            else:
                candidates = [r for r in current.refs if self.has_column(r, column.name) is not False]
                definite = [r for r in candidates if self.has_column(r, column.name)]
                if len(candidates) == 1 and definite:
                    return candidates[0]
                if len(candidates) > 1:
                    return None  # ambiguous: PostgreSQL would refuse it, it scopes nothing
            current = self.blocks.get(current.parent) if current.parent is not None else None
        return None


def analyze(query: Query, catalog, model, *, request_values: bool = False) -> QueryScoping:
    """`request_values`: V must come from the request (a row level security
    policy has no bind parameters; a constant there pins every request to
    one organization, SPEC section 11)."""
    resolver = _Resolver(query, catalog)
    org_column, legacy = model.org_column, model.legacy_column
    verdicts: dict[int, RefVerdict] = {}
    for block in query.blocks:
        for ref in block.refs:
            is_org = not ref.cte and (model.is_org_table(ref.table, ref.schema) or _is_org_view(catalog, ref))
            verdicts[ref.id] = RefVerdict(ref=ref, block=block, is_org=is_org, constrained=bool(ref.scoped_by))

    def value_ok(compare: Compare, ref: Ref, block: Block) -> bool:
        value = compare.value
        if value.kind == UNKNOWN:
            return False
        if value.kind != COLUMN:
            return value.request or not request_values
        other = resolver.resolve(value.column, block)
        return other is not None and other.id != ref.id and verdicts[other.id].constrained

    def constrains(pred: Pred, ref: Ref, block: Block) -> bool:
        if isinstance(pred, Or):
            return all(any(constrains(p, ref, block) for p in branch) for branch in pred.branches)
        if pred.op not in SCOPING_OPS or pred.conditional:
            return False
        if pred.column.name == org_column and resolver.resolve(pred.column, block) is ref:
            return value_ok(pred, ref, block)
        # The mirrored form `S.org = R.org` with S constrained.
        value = pred.value
        if value.kind == COLUMN and value.column.name == org_column and pred.op in ("eq", "not_distinct"):
            if resolver.resolve(value.column, block) is ref:
                other = resolver.resolve(pred.column, block)
                return other is not None and other.id != ref.id and verdicts[other.id].constrained
        return False

    changed = True
    while changed:
        changed = False
        for verdict in verdicts.values():
            if verdict.constrained:
                continue
            ref, block = verdict.ref, verdict.block
            if any(constrains(p, ref, block) for p in (*block.where, *ref.on)):
                verdict.constrained = True
                changed = True

    # Conditional org filters and legacy-column scoping, per org reference.
    for block in query.blocks:
        preds = list(block.where)
        for ref in block.refs:
            preds.extend(ref.on)
        for compare in _compares(preds):
            for column in _columns_of(compare):
                target = resolver.resolve(column, block)
                if target is None or not verdicts[target.id].is_org:
                    continue
                if column.name == legacy and compare.op in SCOPING_OPS:
                    verdicts[target.id].client_columns.append(column)
                elif column.name == org_column and compare.conditional:
                    verdicts[target.id].conditional = True
        for ref in block.refs:
            if verdicts[ref.id].is_org:
                verdicts[ref.id].client_columns.extend(c for c in ref.sets if c.name == legacy)
    for verdict in verdicts.values():
        _dedupe(verdict.client_columns)
    return QueryScoping(verdicts=verdicts)


def _is_org_view(catalog, ref: Ref) -> bool:
    is_org_view = getattr(catalog, "is_org_view", None)  # test catalogs may not know views
    return bool(is_org_view and is_org_view(ref.table, ref.schema))


def resolve_column(query: Query, catalog, column: Column, block: Block) -> Ref | None:
    return _Resolver(query, catalog).resolve(column, block)


def _compares(preds: list[Pred]) -> Iterator[Compare]:
    for pred in preds:
        if isinstance(pred, Or):
            for branch in pred.branches:
                yield from _compares(branch)
        else:
            yield pred


def _columns_of(compare: Compare) -> Iterator[Column]:
    yield compare.column
    if compare.value.kind == COLUMN and compare.value.column is not None:
        yield compare.value.column


def _dedupe(columns: list[Column]) -> None:
    seen = set()
    keep = []
    for column in columns:
        if column.span not in seen:
            seen.add(column.span)
            keep.append(column)
    columns[:] = keep
