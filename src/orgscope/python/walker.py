"""Walk a Python module statement by statement and evaluate what matters.

The walker follows each function body in statement order with an environment
of local names (see `values`). Branches (`if`, `for`, `while`, `try`, `match`)
run on copies of the environment that are joined where the paths meet, so a
filter applied on one path only comes out conditional. A branch that leaves
the function (`return`, `raise`) does not reach the join, and a guard such as
`if not org_id: raise ...` makes a later `if org_id:` always taken.

Each query-like value is emitted once, when it is used (executed, returned,
passed on) or when its scope ends. The walker knows no query style: it is
handed an ordered list of recognisers (recogniser.py, listed in extract.py)
that match code and turn the values into facts.
"""

from __future__ import annotations

from dataclasses import replace
from functools import reduce
from typing import Iterable, Sequence

import libcst as cst
from libcst.metadata import CodeRange

from orgscope.python.nodes import children
from orgscope.facts import Problem, Query, Span
from orgscope.python import instances, legacy
from orgscope.context import DataLayer
from orgscope.python.mapped import Pos
from orgscope.python.names import Names, dotted
from orgscope.python.recogniser import HOOKS, Recogniser, hooks
from orgscope.python.values import (
    QUERY_VALUES, Chain, DictVal, Entity, ExprItem, ExprList, Instance, ListVal, Tmpl, Value, dict_literal,
    join_values, payload_method, same_query, set_item,
)

Env = dict[str, tuple[Value, ...]]

_TERMINAL = (cst.Return, cst.Raise, cst.Continue, cst.Break)


class Scope:
    """The local names of one function, class or module body."""

    def __init__(self, parent: "Scope | None", kind: str, name: str = "") -> None:
        self.parent = parent
        self.kind = kind  # module | class | function
        self.name = name
        self.guarded: set[str] = set()  # names a guard proved truthy
        self.returns: list[Value] = []  # lists of conditions the function returns

    def helper_key(self, name: str) -> str:
        """How a function defined in this scope is known: `f`, or `Class.f` for a method."""
        return f"{self.name}.{name}" if self.kind == "class" else name


class Walker:
    """Everything the front end learns from one parsed module."""

    def __init__(self, module: cst.Module, positions, names: Names, ctx, recognisers: Sequence[Recogniser], *,
                 emit_queries: bool = True) -> None:
        self.module = module
        self.recognisers = tuple(recognisers)
        # Each hook's implementations, in the order given, looked up once.
        self._on = {hook: hooks(self.recognisers, hook) for hook in HOOKS}
        self._receivers = tuple((r.receives, r.method) for r in self.recognisers if r.receives)
        self._emitters = tuple((r.emits, r.emit) for r in self.recognisers if r.emits)
        self.positions = positions  # NodePositions: node -> CodeRange
        self.names = names
        self.ctx = ctx
        self.model = ctx.model
        self.emit_queries = emit_queries
        self.queries: list[Query] = []
        self.problems: list[Problem] = []
        self.local_models: dict[str, tuple[str, str | None]] = {}  # class/Table name -> (table, schema)
        self.flask_dbs: set[str] = set()  # names bound to flask_sqlalchemy.SQLAlchemy(...)
        self.helpers: dict[str, tuple[Value, ...]] = {}  # function -> the condition lists it returns
        # function or Class.method -> its definition, and the argument it returns (read when first called)
        self.functions: dict[str, tuple[cst.FunctionDef, bool]] = {}
        self.pass_through: dict[str, int | None] = {}
        self._next_origin = 0
        self.order: list[int] = []  # origins in creation order
        self.latest: dict[int, Value] = {}
        self.snapshots: dict[int, list[Value]] = {}
        self.absorbed: set[int] = set()
        self.legacy_flows: list = []  # LegacyFlow facts
        self.configured_calls: set[str] = set()  # configured query_wrappers that matched a call here
        self.doubles: set[int] = set()  # origins built as test-double configuration: never queries
        # The statement being walked; its span (which takes suppressions on its
        # first line) is only computed when a fact needs it.
        self._unit: cst.CSTNode | None = None
        self.scope = Scope(None, "module")
        self.layer = instances.index_of(getattr(ctx, "data_layer", None) or DataLayer())
        self.classes: list[str | None] = []  # qualified names of the classes being walked
        self.module_env: Env = {}
        self.env: Env = self.module_env

    # --- positions -------------------------------------------------------------

    @property
    def _statement_node(self) -> cst.CSTNode | None:
        return self._unit

    @_statement_node.setter
    def _statement_node(self, node: cst.CSTNode | None) -> None:
        # The positions of a statement are generated when first asked for: say
        # which one is being read.
        self._unit = node
        if node is not None:
            self.positions.focus(node)

    def reading(self, statement: cst.CSTNode) -> None:
        """A statement is read outside the walk (a model class, an Alembic
        operation): the positions asked for next are in it."""
        self.positions.focus(statement)

    @property
    def statement(self) -> Span:
        node = self._unit
        return Span(1, 1, 1, 2) if node is None else self.span(node)

    def span(self, node: cst.CSTNode) -> Span:
        where: CodeRange = self.positions[node]
        return Span(where.start.line, where.start.column + 1, where.end.line, where.end.column + 1)

    def start(self, node: cst.CSTNode) -> Pos:
        where: CodeRange = self.positions[node]
        return where.start.line, where.start.column + 1

    def source(self, node: cst.CSTNode) -> str:
        try:
            return self.module.code_for_node(node)
        except Exception:
            return ""

    def mentions_org(self, node: cst.CSTNode) -> bool:
        return self.model.mentions(self.source(node))

    # --- origins and emission ------------------------------------------------------

    def new_origin(self) -> int:
        self._next_origin += 1
        self.order.append(self._next_origin)
        return self._next_origin

    def created(self, value: Value) -> Value:
        origin = getattr(value, "origin", None)
        if origin is not None and isinstance(value, QUERY_VALUES):
            self.latest[origin] = value
        return value

    def adopt_origin(self, value: Value, origin: int) -> Value:
        """`value` is another state of the query created at `origin`: its own origin is forgotten."""
        own = value.origin  # type: ignore[union-attr]
        self.latest.pop(own, None)
        for state in self.snapshots.pop(own, []):
            self.snapshots.setdefault(origin, []).append(replace(state, origin=origin))
        return replace(value, origin=origin)  # type: ignore[type-var]

    def use(self, values: Iterable[Value]) -> None:
        """The values are consumed here: executed, returned, passed on."""
        for value in values:
            if isinstance(value, QUERY_VALUES):
                self.snapshots.setdefault(value.origin, []).append(value)

    def absorb(self, values: Iterable[Value]) -> None:
        """The values became part of a larger SQL text: not a statement of their own."""
        for value in values:
            if isinstance(value, Tmpl):
                self.absorbed.add(value.origin)

    def finish(self) -> None:
        """Turn every query-like value into facts, each origin once."""
        for origin in self.order:
            if origin in self.doubles:
                continue
            states = self.snapshots.get(origin)
            if not states:
                if origin in self.absorbed or origin not in self.latest:
                    continue
                states = [self.latest[origin]]
            value = reduce(lambda a, b: a.join(b), states)  # type: ignore[arg-type, return-value]
            try:
                self.emit(value)
            except RecursionError:
                continue
            except Exception as exc:  # one value must not cost the file its other facts
                self.problems.append(Problem(span=getattr(value, "span", None) or value.statement,
                                             message=f"internal error while analysing this query: {exc}"))

    def emit(self, value: Value) -> None:
        if not self.emit_queries:
            return
        for kinds, emit in self._emitters:
            if isinstance(value, kinds):
                emit(self, value)
                return

    # --- names -------------------------------------------------------------------------

    def lookup(self, name: str) -> tuple[Value, ...]:
        env = self.env
        if name in env:
            return env[name]
        if env is not self.module_env and name in self.module_env and self.scope.kind != "module":
            return tuple(v for v in self.module_env[name] if isinstance(v, (Tmpl, Instance)))
        return ()

    def bind(self, name: str, values: Sequence[Value]) -> None:
        # `a = aliased(Agent)`: the alias is known by its variable name
        values = [
            replace(v, alias=name) if isinstance(v, Entity) and v.alias is None and v.key.startswith("alias:") else v
            for v in values
        ]
        if values:
            self.env[name] = tuple(values)
            for value in values:
                self.created(value)
        else:
            self.env.pop(name, None)

    def constant(self, node: cst.BaseExpression) -> str | None:
        """A string known without running the code: a literal, or a local or
        module-level name bound to one."""
        from orgscope.python.names import string_value

        value = string_value(node)
        if value is not None:
            return value
        if isinstance(node, cst.Name):
            found = self.lookup(node.value)
            if len(found) == 1 and isinstance(found[0], Tmpl):
                from orgscope.python.template import plain_text

                text = plain_text(found[0].pieces)
                if text is not None:
                    return text
            if node.value not in self.env:
                found = self.names.constants.get(node.value)
                if found is None and node.value in self.names.imports:
                    found = self.layer.constant(self.names.imports[node.value])
                return found
        if isinstance(node, cst.Attribute):  # `tables.CALLS` of an imported module
            qualified = self.names.qualified(node)
            return self.layer.constant(qualified)
        return None

    # --- statements ----------------------------------------------------------------

    def run_module(self) -> None:
        self.env = self.module_env
        self.functions = _module_functions(self.module)
        self.run_body(self.module.body, docstring=True)
        self.flush(self.module_env)
        self.finish()

    def run_body(self, body: Sequence[cst.CSTNode], docstring: bool = False) -> bool:
        """Run statements on self.env; False when every path left the body."""
        for index, statement in enumerate(body):
            if docstring and index == 0 and _is_docstring(statement):
                continue
            try:
                if not self.run_statement(statement):
                    return False
            except RecursionError:
                self._statement_failed(statement, "statement too deeply nested to analyse")
            except Exception as exc:
                self._statement_failed(statement, f"internal error while analysing this statement: {exc}")
        return True

    def _statement_failed(self, statement: cst.CSTNode, message: str) -> None:
        if self.mentions_org(statement):
            self.problems.append(Problem(span=self.span(statement), message=message))

    def run_statement(self, statement: cst.CSTNode) -> bool:
        if isinstance(statement, cst.SimpleStatementLine):
            for small in statement.body:
                self._statement_node = small
                if not self.run_small(small):
                    return False
            return True
        handler = getattr(self, f"run_{type(statement).__name__}", None)
        if handler is not None:
            return handler(statement)
        # Anything else (an unfamiliar compound statement): look at its expressions.
        self._statement_node = statement
        for child in children(statement):
            if isinstance(child, cst.BaseExpression):
                self.use(self.ev(child))
        return True

    def run_small(self, small: cst.BaseSmallStatement) -> bool:
        if isinstance(small, cst.Expr):
            self.expression_statement(small.value)
        elif isinstance(small, cst.Assign):
            self.assign([t.target for t in small.targets], small.value)
        elif isinstance(small, cst.AnnAssign):
            if small.value is not None:
                self.assign([small.target], small.value)
        elif isinstance(small, cst.AugAssign):
            self.aug_assign(small)
        elif isinstance(small, (cst.Return, cst.Raise)):
            for child in children(small):
                if isinstance(child, cst.BaseExpression):
                    values = self.ev(child)
                    if isinstance(small, cst.Return):
                        self.scope.returns.extend(v for v in values if isinstance(v, ExprList))
                    self.use(values)
            return False
        elif isinstance(small, (cst.Continue, cst.Break)):
            return False
        elif isinstance(small, cst.Assert):
            self.use(self.ev(small.test))
            guarded = _truthy_name(small.test)
            if guarded:
                self.scope.guarded.add(guarded)
        elif isinstance(small, cst.Del):
            for name in _target_names(small.target):
                self.env.pop(name, None)
        else:
            for child in children(small):
                if isinstance(child, cst.BaseExpression):
                    self.use(self.ev(child))
        return True

    def expression_statement(self, expr: cst.BaseExpression) -> None:
        values = self.ev(expr)
        # Builders that change themselves in place: `q.eq(...)`,
        # `filters.update(...)`, `rows.append({...})`.
        root = _call_root(expr)
        if root is not None and root in self.env:
            mine = {getattr(v, "origin", None) for v in self.env[root]} - {None}
            kept = tuple(v for v in values if isinstance(v, (Chain, DictVal, ListVal, ExprList)) and v.origin in mine)
            if kept:
                self.bind(root, kept)
                self.use(v for v in values if v not in kept)
                return
        self.use(values)

    def assign(self, targets: list[cst.BaseExpression], value: cst.BaseExpression) -> None:
        if len(targets) == 1 and isinstance(targets[0], cst.Name):
            if any(assign(self, targets[0].value, value) for assign in self._on["assign"]):
                return
        values = self.ev(value)
        for target in targets:
            if isinstance(target, cst.Name):
                legacy.check(self, target.value, value)
                self.bind(target.value, values)
            elif isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name):
                self.use(values)
                set_item(self, target, value)
            else:
                self.use(values)
                for name in _target_names(target):
                    self.env.pop(name, None)
                for child in _target_expressions(target):
                    if _configures_double(target):
                        self.ev_double(child)
                    else:
                        self.use(self.ev(child))
        if not targets:
            self.use(values)

    def aug_assign(self, node: cst.AugAssign) -> None:
        if any(augment(self, node) for augment in self._on["augment"]):
            return
        if isinstance(node.operator, cst.AddAssign) and isinstance(node.target, cst.Name):
            current = self.env.get(node.target.value, ())
            if current and all(isinstance(v, ExprList) for v in current):
                added = [v for v in self.ev(node.value) if isinstance(v, ExprList)]
                grown = [
                    x.extended(added[0].items) if len(added) == 1 else replace(x, opaque=True)
                    for x in current
                ]
                self.bind(node.target.value, grown)
                return
        self.use(self.ev(node.value))
        if isinstance(node.target, cst.Name):
            self.env.pop(node.target.value, None)

    # --- compound statements ----------------------------------------------------------

    def branch(self, body: Sequence[cst.CSTNode] | cst.CSTNode | None, env: Env) -> Env | None:
        """Run a body on a copy of `env`; None when it always leaves."""
        saved = self.env
        self.env = dict(env)
        try:
            if body is None:
                return self.env
            statements = body.body if isinstance(body, (cst.IndentedBlock, cst.SimpleStatementSuite)) else body
            if isinstance(statements, cst.CSTNode):
                statements = [statements]
            return self.env if self.run_body(statements) else None
        finally:
            self.env = saved

    def join(self, *envs: Env | None) -> Env | None:
        live = [e for e in envs if e is not None]
        if not live:
            return None
        result: Env = dict(live[0])
        for env in live[1:]:
            for name, values in env.items():
                result[name] = join_values(result.get(name, ()), values) if name in result else values
        for name, values in result.items():
            for value in values:
                self.created(value)
        return result

    def _adopt(self, env: Env | None) -> bool:
        if env is None:
            return False
        self.env.clear()
        self.env.update(env)
        return True

    def run_If(self, node: cst.If) -> bool:
        self._statement_node = node.test
        self.use(self.ev(node.test))
        name = _truthy_name(node.test)
        if name is not None and name in self.scope.guarded:
            # A guard already left when the name was falsy: this branch always runs.
            return self._adopt(self.branch(node.body, self.env))
        before = dict(self.env)
        taken = self.branch(node.body, before)
        if node.orelse is None:
            other = before
        elif isinstance(node.orelse, cst.If):
            saved = self.env
            self.env = dict(before)
            try:
                other = self.env if self.run_If(node.orelse) else None
            finally:
                self.env = saved
        else:
            other = self.branch(node.orelse.body, before)
        guarded = _falsy_name(node.test)
        if guarded is not None and taken is None:
            self.scope.guarded.add(guarded)
        return self._adopt(self.join(taken, other))

    def _loop(self, node: cst.For | cst.While, head: Iterable[cst.BaseExpression]) -> bool:
        for expr in head:
            self.use(self.ev(expr))
        if isinstance(node, cst.For):
            for name in _target_names(node.target):
                self.env.pop(name, None)
        before = dict(self.env)
        after_body = self.branch(node.body, before)
        merged = self.join(before, after_body)
        if node.orelse is not None and merged is not None:
            merged = self.join(self.branch(node.orelse.body, merged))
        return self._adopt(merged) or True  # a loop may run zero times: never "always leaves"

    def run_For(self, node: cst.For) -> bool:
        self._statement_node = node.iter
        return self._loop(node, [node.iter])

    def run_While(self, node: cst.While) -> bool:
        self._statement_node = node.test
        return self._loop(node, [node.test])

    def run_Try(self, node: cst.Try | cst.TryStar) -> bool:
        before = dict(self.env)
        body_end = self.branch(node.body, before)
        handler_start = self.join(before, body_end) or before
        ends = [self.branch(node.orelse.body, body_end) if node.orelse is not None and body_end is not None else body_end]
        for handler in node.handlers:
            start = dict(handler_start)
            if handler.name is not None:
                for name in _target_names(handler.name.name):
                    start.pop(name, None)
            ends.append(self.branch(handler.body, start))
        merged = self.join(*ends)
        if node.finalbody is not None:
            after = self.branch(node.finalbody.body, merged if merged is not None else handler_start)
            if merged is not None:
                merged = after
        return self._adopt(merged)

    run_TryStar = run_Try

    def run_With(self, node: cst.With) -> bool:
        for item in node.items:
            self._statement_node = item
            self.use(self.ev(item.item))
            if item.asname is not None:
                for name in _target_names(item.asname.name):
                    self.env.pop(name, None)
        return self._adopt(self.branch(node.body, self.env))

    def run_Match(self, node: cst.Match) -> bool:
        self._statement_node = node.subject
        self.use(self.ev(node.subject))
        before = dict(self.env)
        ends = [self.branch(case.body, before) for case in node.cases]
        irrefutable = any(
            isinstance(case.pattern, cst.MatchAs) and case.pattern.pattern is None and case.guard is None
            for case in node.cases
        )
        if not irrefutable:
            ends.append(before)
        return self._adopt(self.join(*ends))

    def run_FunctionDef(self, node: cst.FunctionDef) -> bool:
        for decorator in node.decorators:
            self._statement_node = decorator
            self.use(self.ev(decorator.decorator))
        for param in _parameters(node.params):
            if param.default is not None:
                self._statement_node = param
                self.use(self.ev(param.default))
        self.nested(node, "function")
        self.env.pop(node.name.value, None)
        return True

    def run_ClassDef(self, node: cst.ClassDef) -> bool:
        for decorator in node.decorators:
            self.reading(decorator)
            self.use(self.ev(decorator.decorator))
        self._statement_node = node.name
        for arg in node.bases:
            self.use(self.ev(arg.value))
        top = self.scope.kind == "module" and self.names.module_name
        self.classes.append(f"{self.names.module_name}.{node.name.value}" if top else None)
        try:
            self.nested(node, "class")
        finally:
            self.classes.pop()
        self.env.pop(node.name.value, None)
        return True

    def nested(self, node: cst.FunctionDef | cst.ClassDef, kind: str) -> None:
        saved_env, saved_scope, saved_statement = self.env, self.scope, self._statement_node
        self.env = {}
        self.scope = Scope(saved_scope, kind, node.name.value)
        try:
            if isinstance(node, cst.FunctionDef):
                owner = self.classes[-1] if saved_scope.kind == "class" and self.classes else None
                instances.bind_parameters(self, node, owner)
            body = node.body.body if isinstance(node.body, (cst.IndentedBlock, cst.SimpleStatementSuite)) else []
            self.run_body(body, docstring=True)
            self.flush(self.env)
            if kind == "function" and self.scope.returns:
                # A helper that returns a list of conditions: its callers in
                # this module splat what it returns (one level, no arguments bound).
                self.helpers[saved_scope.helper_key(node.name.value)] = tuple(
                    reduce(join_values, ((v,) for v in self.scope.returns), ()))
        finally:
            self.env, self.scope, self._statement_node = saved_env, saved_scope, saved_statement

    def classmethod_owner(self) -> str | None:
        """The class whose `@classmethod` (or `@declared_attr`, `@hybrid_property`
        `.expression`) body is being walked: there `cls` is the model."""
        scope = self.scope
        if scope.kind != "function" or scope.parent is None or scope.parent.kind != "class":
            return None
        bound = self.env.get("cls", ())
        # `cls` is the method's receiver (bound as an instance of the class), not reassigned
        return scope.parent.name if all(isinstance(v, Instance) for v in bound) else None

    def helper_key(self, func: cst.BaseExpression) -> str | None:
        """How a called function of this module is known: `f(...)`, `self.f(...)`, `cls.f(...)`."""
        if isinstance(func, cst.Name) and func.value not in self.env:
            return func.value
        if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name) and func.value.value in ("self", "cls"):
            scope: Scope | None = self.scope
            while scope is not None and scope.kind != "class":
                scope = scope.parent
            if scope is not None:
                return f"{scope.name}.{func.attr.value}"
        return None

    def helper_result(self, func: cst.BaseExpression) -> tuple[Value, ...] | None:
        """What a call of a helper of this module returns: the condition lists it builds."""
        key = self.helper_key(func) if self.helpers else None
        return self.helpers.get(key) if key is not None else None

    def passed_through(self, node: cst.Call) -> tuple[Value, ...] | None:
        """`exclude_deleted(q, Model)` where the helper returns `q.where(...)`: the
        query goes on through the call (what the helper adds is not seen), so a
        filter chained after it (`exclude_deleted(q, M).where(M.org_id == org)`)
        is the query's own. None when the call is no such helper's."""
        key = self.helper_key(node.func) if self.functions else None
        if key is None or key not in self.functions:
            return None
        if key not in self.pass_through:
            self.pass_through[key] = _returned_argument(*self.functions[key])
        position = self.pass_through[key]
        positional = [arg for arg in node.args if arg.keyword is None and not arg.star]
        if position is None or position >= len(positional):
            return None
        passed: tuple[Value, ...] = ()
        for arg in node.args:
            values = self.ev(arg.value)
            if arg is positional[position]:
                passed = tuple(v for v in values if isinstance(v, QUERY_VALUES))
                values = tuple(v for v in values if v not in passed)
            self.use(values)
        return passed

    def flush(self, env: Env) -> None:
        """The scope ends: what was built and never used is emitted as it stands."""
        for values in env.values():
            for value in values:
                if isinstance(value, QUERY_VALUES) and value.origin not in self.snapshots:
                    if not (isinstance(value, Tmpl) and value.origin in self.absorbed):
                        self.use([value])

    # --- expressions --------------------------------------------------------------------

    def ev(self, node: cst.CSTNode) -> tuple[Value, ...]:
        """What an expression evaluates to, as far as orgscope cares."""
        method = getattr(self, f"ev_{type(node).__name__}", None)
        if method is not None:
            return method(node)
        return self.ev_children(node)

    def ev_children(self, node: cst.CSTNode) -> tuple[Value, ...]:
        for child in children(node):
            if isinstance(child, (cst.BaseExpression, cst.Arg, cst.BaseElement, cst.BaseDictElement,
                                  cst.CompFor, cst.CompIf, cst.Index, cst.Slice, cst.SubscriptElement,
                                  cst.FormattedStringExpression, cst.Parameters, cst.Param)):
                self.use(self.ev(child))
        return ()

    def ev_double(self, node: cst.CSTNode) -> tuple[Value, ...]:
        """Evaluate an expression that configures a test double (a `patch.object`
        target, `....execute.return_value = ...`): what it builds is no query."""
        first = self._next_origin
        try:
            self.ev(node)
        finally:
            self.doubles.update(range(first + 1, self._next_origin + 1))
        return ()

    def ev_Arg(self, node: cst.Arg) -> tuple[Value, ...]:
        return self.ev(node.value)

    def ev_Name(self, node: cst.Name) -> tuple[Value, ...]:
        found = self.lookup(node.value)
        if found:
            return found
        for hook in self._on["name"]:
            value = hook(self, node)
            if value is not None:
                return (value,)
        return ()

    def ev_Attribute(self, node: cst.Attribute) -> tuple[Value, ...]:
        result = self._first("attribute", node)
        if result is not None:
            return result
        base = self.ev(node.value)
        result = self._first("attribute_of", node, base)
        if result is not None:
            return result
        self.use(base)
        return ()

    def ev_SimpleString(self, node: cst.CSTNode) -> tuple[Value, ...]:
        value = self._first("string", node)
        return (self.created(value),) if value is not None else self.ev_children(node)

    ev_ConcatenatedString = ev_SimpleString
    ev_FormattedString = ev_SimpleString

    def ev_BinaryOperation(self, node: cst.BinaryOperation) -> tuple[Value, ...]:
        result = self._first("binary", node)
        if result is not None:
            return (self.created(result),)
        return self.ev_children(node)

    def ev_Await(self, node: cst.Await) -> tuple[Value, ...]:
        return self.ev(node.expression)

    def ev_NamedExpr(self, node: cst.NamedExpr) -> tuple[Value, ...]:
        values = self.ev(node.value)
        if isinstance(node.target, cst.Name):
            self.bind(node.target.value, values)
        return values

    def ev_IfExp(self, node: cst.IfExp) -> tuple[Value, ...]:
        self.use(self.ev(node.test))
        body, orelse = self.ev(node.body), self.ev(node.orelse)
        # `select(M).where(...) if org else select(M)` is one query filtered on one path
        # only, as if an `if` statement had added the filter: the orelse query takes the
        # body's origin so the two join.
        adopted = []
        for value in orelse:
            twin = next((mine for mine in body if same_query(mine, value) and mine.origin != value.origin), None)
            if twin is not None:
                value = self.adopt_origin(value, twin.origin)
            adopted.append(value)
        return tuple(self.created(v) for v in join_values(body, adopted))

    def ev_Dict(self, node: cst.Dict) -> tuple[Value, ...]:
        return (dict_literal(self, node),)

    def ev_List(self, node: cst.List | cst.Tuple) -> tuple[Value, ...]:
        items: list[DictVal] = []
        expressions: list[ExprItem] = []
        opaque = hidden = False
        for element in node.elements:
            values = self.ev(element.value)
            dicts = [v for v in values if isinstance(v, DictVal)]
            if len(dicts) == 1 and isinstance(element, cst.Element):
                items.append(dicts[0])
            else:
                opaque = True
                self.use(values)
            if isinstance(element, cst.Element):
                expressions.append(ExprItem(element.value, self.source(element.value)))
            else:  # `[*base, ...]`
                splatted = [v for v in values if isinstance(v, ExprList)]
                if len(splatted) == 1:
                    expressions.extend(splatted[0].items)
                    hidden = hidden or splatted[0].opaque
                else:
                    hidden = True
        found: list[Value] = []
        if items or (not node.elements and isinstance(node, cst.List)):
            # `rows = []` too: rows appended to it later are followed.
            found.append(ListVal(self.new_origin(), tuple(items), opaque))
        if not items:
            # A list of conditions (or of anything): kept for a later `.where(*it)`.
            found.append(ExprList(self.new_origin(), tuple(expressions), hidden))
        return tuple(found)

    ev_Tuple = ev_List

    def ev_ListComp(self, node: cst.ListComp) -> tuple[Value, ...]:
        """`[{...} for row in rows]`: every row has the keys of the dict shown."""
        for clause in _comp_clauses(node.for_in):
            self.use(self.ev(clause))
        saved = self.env
        self.env = dict(saved)
        try:
            for name in _comp_targets(node.for_in):
                self.env.pop(name, None)
            dicts = [v for v in self.ev(node.elt) if isinstance(v, DictVal)]
        finally:
            self.env = saved
        if len(dicts) == 1:
            return (ListVal(self.new_origin(), (dicts[0],)),)
        return ()

    def ev_Call(self, node: cst.Call) -> tuple[Value, ...]:
        if _is_patch(node.func):
            for arg in node.args:
                self.ev_double(arg.value)
            return ()
        for arg in node.args:
            if arg.keyword is not None:
                legacy.check(self, arg.keyword.value, arg.value)
        found = self._first("call", node)
        if found is not None:
            return found
        cls = instances.constructed(self, node)
        if cls is not None:
            for arg in node.args:
                self.use(self.ev(arg.value))
            return (Instance(cls),)
        through = self.passed_through(node)
        if through is not None:
            return through
        returned = self.helper_result(node.func)
        if returned is not None:
            for arg in node.args:
                self.use(self.ev(arg.value))
            return returned
        func = node.func
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            special = self._first("method_call", node, method)
            if special is not None:
                return special
            receiver = self.ev(func.value)
            results: list[Value] = []
            handled = False
            for value in receiver:
                outcome = self.method(value, method, node)
                if outcome is None:
                    self.use([value])
                else:
                    handled = True
                    results.extend(outcome)
            if handled:
                return tuple(self.created(v) for v in results)
            special = self._first("unknown_method_call", node, method)
            if special is not None:
                return special
        else:
            special = self._first("function_call", node)
            if special is not None:
                return special
            self.use(self.ev(func))
        for arg in node.args:
            self.use(self.ev(arg.value))
        return ()

    def method(self, value: Value, method: str, node: cst.Call) -> tuple[Value, ...] | None:
        """A method called on a known value; None when the value does not take it."""
        for kinds, receive in self._receivers:
            if isinstance(value, kinds):
                return receive(self, value, method, node)
        if isinstance(value, (DictVal, ListVal)):
            return payload_method(self, value, method, node)
        if isinstance(value, ExprList):
            return _expr_list_method(self, value, method, node)
        return None

    def _first(self, hook: str, *args) -> tuple[Value, ...] | None:
        """The first answer of the recognisers implementing `hook`."""
        for implementation in self._on[hook]:
            result = implementation(self, *args)
            if result is not None:
                return result
        return None

    def ev_args(self, node: cst.Call) -> list[tuple[cst.Arg, tuple[Value, ...]]]:
        return [(arg, self.ev(arg.value)) for arg in node.args]


_DOUBLE_ATTRIBUTES = frozenset({"return_value", "side_effect"})


def _configures_double(target: cst.BaseExpression) -> bool:
    """`x.table("a").select.return_value = ...`: configuring a Mock."""
    while isinstance(target, (cst.Attribute, cst.Subscript)):
        if isinstance(target, cst.Attribute) and target.attr.value in _DOUBLE_ATTRIBUTES:
            return True
        target = target.value
    return False


def _is_patch(func: cst.BaseExpression) -> bool:
    """`patch(...)`, `patch.object(...)`, `mock.patch.object(...)`, `mocker.patch(...)`."""
    name = dotted(func)
    if name is None:
        return False
    parts = name.split(".")
    if parts[-1] == "patch":  # not `requests.patch` / `client.patch`: HTTP PATCH
        return len(parts) == 1 or parts[-2] in ("mock", "mocker")
    return len(parts) > 1 and parts[-2] == "patch" and parts[-1] in ("object", "multiple", "dict")


def _comp_clauses(comp: cst.CompFor) -> list[cst.BaseExpression]:
    """The iterables and conditions of a comprehension's `for ... in ... if ...` clauses."""
    out: list[cst.BaseExpression] = []
    while comp is not None:
        out.append(comp.iter)
        out.extend(condition.test for condition in comp.ifs)
        comp = comp.inner_for_in
    return out


def _comp_targets(comp: cst.CompFor) -> list[str]:
    out: list[str] = []
    while comp is not None:
        out.extend(_target_names(comp.target))
        comp = comp.inner_for_in
    return out


def _expr_list_method(w: Walker, value: ExprList, name: str, node: cst.Call) -> tuple[Value, ...] | None:
    """`filters.append(cond)`, `.extend([...])`, `.insert(i, cond)` on a list being built."""
    args = [a for a in node.args if a.keyword is None and not a.star]
    if name == "append" and len(args) == 1:
        w.use(w.ev(args[0].value))
        return (value.extended([ExprItem(args[0].value, w.source(args[0].value))]),)
    if name == "insert" and len(args) == 2:
        w.use(w.ev(args[0].value))
        w.use(w.ev(args[1].value))
        return (value.extended([ExprItem(args[1].value, w.source(args[1].value))]),)
    if name == "extend" and len(args) == 1:
        added = [v for v in w.ev(args[0].value) if isinstance(v, ExprList)]
        if len(added) == 1:
            return (value.extended(added[0].items),)
        return (replace(value, opaque=True),)
    if name == "copy" and not args:
        return (value,)
    return None


def _is_docstring(statement: cst.CSTNode) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def _truthy_name(test: cst.BaseExpression) -> str | None:
    """`x`, `x is not None`, `x != None`: the name whose truth the test checks."""
    if isinstance(test, cst.Name):
        return test.value
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And):
        return _truthy_name(test.left) or _truthy_name(test.right)
    return _compared_with_none(test, (cst.IsNot, cst.NotEqual))


def _falsy_name(test: cst.BaseExpression) -> str | None:
    """`not x`, `x is None`, `x == None`, `not x or ...`: a guard on x."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return _truthy_name(test.expression)
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.Or):
        return _falsy_name(test.left) or _falsy_name(test.right)
    return _compared_with_none(test, (cst.Is, cst.Equal))


def _compared_with_none(test: cst.BaseExpression, operators: tuple[type, ...]) -> str | None:
    """`x <op> None` with one of `operators`: the name x."""
    if isinstance(test, cst.Comparison) and isinstance(test.left, cst.Name) and len(test.comparisons) == 1:
        target = test.comparisons[0]
        if isinstance(target.comparator, cst.Name) and target.comparator.value == "None":
            if isinstance(target.operator, operators):
                return test.left.value
    return None


def _call_root(expr: cst.BaseExpression) -> str | None:
    """`q` in `q.eq(...).neq(...)` (an expression statement on a local)."""
    if isinstance(expr, cst.Await):
        expr = expr.expression
    if not isinstance(expr, cst.Call):
        return None
    while isinstance(expr, (cst.Call, cst.Attribute)):
        expr = expr.func if isinstance(expr, cst.Call) else expr.value
    return expr.value if isinstance(expr, cst.Name) else None


def _module_functions(module: cst.Module) -> dict[str, tuple[cst.FunctionDef, bool]]:
    """The module's functions and methods (`f`, `Class.f`, as `Scope.helper_key`
    names them), each with whether it is a method: known before the walk, so a
    call above the definition finds it."""
    found: dict[str, tuple[cst.FunctionDef, bool]] = {}
    for statement in module.body:
        if isinstance(statement, cst.FunctionDef):
            found[statement.name.value] = (statement, False)
        elif isinstance(statement, cst.ClassDef) and isinstance(statement.body, cst.IndentedBlock):
            for inner in statement.body.body:
                if isinstance(inner, cst.FunctionDef):
                    found[f"{statement.name.value}.{inner.name.value}"] = (inner, True)
    return found


def _returned_argument(node: cst.FunctionDef, method: bool) -> int | None:
    """The position among a call's arguments of the parameter the function
    hands back on every return, maybe with methods chained on it (`return
    q.where(...)`, or `q = q.filter(...)` then `return q`); None for any other function."""
    params = [p.name.value for p in list(node.params.posonly_params) + list(node.params.params)]
    if method and "staticmethod" not in {dotted(d.decorator) for d in node.decorators}:
        params = params[1:]
    if not params:
        return None
    returns: list[cst.Return] = []
    rebinds: list[cst.BaseExpression | None] = []  # values assigned to names, None for a form not followed
    bound: list[str] = []
    stack: list[cst.CSTNode] = list(children(node.body))
    while stack:
        current = stack.pop()
        # Statements only: what a return or an assignment holds is read below, not walked.
        if isinstance(current, (cst.FunctionDef, cst.ClassDef, cst.BaseExpression)):
            continue
        if isinstance(current, cst.Return):
            returns.append(current)
        elif isinstance(current, cst.Assign):
            for target in current.targets:
                for name in _target_names(target.target):
                    bound.append(name)
                    rebinds.append(current.value if isinstance(target.target, cst.Name) else None)
        elif isinstance(current, (cst.AugAssign, cst.AnnAssign)) and isinstance(current.target, cst.Name):
            bound.append(current.target.value)
            rebinds.append(current.value if isinstance(current, cst.AnnAssign) else None)
        stack.extend(children(current))
    if not returns or any(r.value is None for r in returns):
        return None
    roots = {_chain_root(r.value) for r in returns if r.value is not None}
    if len(roots) != 1:
        return None
    root = roots.pop()
    if root is None or root not in params:
        return None
    if any(name == root and (value is None or _chain_root(value) != root) for name, value in zip(bound, rebinds)):
        return None
    return params.index(root)


def _chain_root(expr: cst.BaseExpression) -> str | None:
    """`q` in `q`, `q.where(...)`, `q.where(...).order_by(...)`."""
    while isinstance(expr, (cst.Call, cst.Attribute)):
        expr = expr.func if isinstance(expr, cst.Call) else expr.value
    return expr.value if isinstance(expr, cst.Name) else None


def _target_names(target: cst.CSTNode) -> list[str]:
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        names: list[str] = []
        for element in target.elements:
            names.extend(_target_names(element.value))
        return names
    if isinstance(target, cst.StarredElement):
        return _target_names(target.value)
    return []


def _target_expressions(target: cst.CSTNode) -> list[cst.BaseExpression]:
    """Expressions evaluated by an assignment target (`a[f(x)] = ...`)."""
    if isinstance(target, cst.Subscript):
        return [target.value] + [e.slice for e in target.slice]  # type: ignore[misc]
    if isinstance(target, cst.Attribute):
        return [target.value]
    return []


def _parameters(params: cst.Parameters) -> list[cst.Param]:
    out = list(params.posonly_params) + list(params.params) + list(params.kwonly_params)
    return out


__all__ = ["Walker", "dotted"]
