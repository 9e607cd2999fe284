"""Infer the project's data-access layer (SPEC section 10, first bullet).

Runs in the catalog phase, over the whole project, before any query is
judged. A function or method is a query wrapper when one of its parameters
reaches the table position of a query (`.table(p)`, `.from_(p)`) and another
reaches its filters (`for k, v in p.items(): q = q.eq(k, v)`, `.match(p)`,
`.filter_by(**p)`) or its payload (`.insert(p)`, `.upsert(p)`, `.update(p)`),
directly or through another wrapper (`select_one` calling `select`). What the
wrapper adds itself (an org filter always, only when an argument is truthy,
or never) is part of what a call of it means.

Beside the wrappers, the types that lead a call to them: classes and their
bases (subclasses inherit), instance attributes assigned from a class
(`self.db = DatabaseService()`), module-level instances and functions that
return an instance (FastAPI dependencies), so that `db.select(...)`,
`self.db.select(...)` and `admin_db.update(...)` are recognised however the
instance was reached. Module-level string constants are collected too, so a
table name imported from another module is known.

CPython's `ast` is enough here (no positions beyond the line are needed) and
many times cheaper than libcst; only files whose bytes can define any of
this are parsed. The code is read, never imported or run.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field, replace
from typing import Callable, Iterable, Iterator

from orgscope.context import DataLayer, QueryWrapper

# Where a wrapper can start: a parameter (a name, never a string literal) in
# a query's table position, or `filter_by(..., **p)`. A file without one
# defines no wrapper of its own; one calling another wrapper is found by the
# later rounds, which look for the wrappers' names. Each pattern begins with a
# literal word (searched fast) and is a superset: the dot before `table` is
# not required, since `q . table(t)` is legal Python.
_SPACE = rb"(?:\s|\\\n|#[^\n]*\n)*"  # blanks, line continuations, comments
WRAPPER_MARKERS = tuple(re.compile(pattern) for pattern in (
    rb"table\s*\(" + _SPACE + rb"[A-Za-z_\x80-\xff]",
    rb"from_\s*\(" + _SPACE + rb"[A-Za-z_\x80-\xff]",
    rb"filter_by\s*\([^)]*\*\*",
))
_OPERATIONS = ("select", "insert", "update", "delete", "upsert")
_PAYLOAD_OPS = ("insert", "upsert", "update")
# Module-level `NAME = "text"` (no escapes, no prefix): found without parsing.
_CONSTANT_LINE = rb'([A-Za-z_][A-Za-z0-9_]*)[ \t]*(?::[^=\n]*)?=[ \t]*(["\'])([A-Za-z0-9_.]*)\2[ \t]*(?:#[^\n]*)?$'
# A line begins after a newline: led by that literal, the scan is several
# times faster than trying `^` at every byte. The first line is matched apart.
_CONSTANT = re.compile(rb"\n" + _CONSTANT_LINE, re.M)
_FIRST_CONSTANT = re.compile(_CONSTANT_LINE, re.M)
_MAX_ROUNDS = 6  # wrappers calling wrappers: a chain deeper than this is not followed


class Suffixes:
    """Qualified names found from either end.

    Module names come from file paths, and the path of the folder orgscope
    was pointed at is not the import root (`backend/app/db.py` is imported as
    `app.db`; a folder without `__init__.py` is a namespace package). So an
    imported name matches a known one when it is the known one's trailing
    dotted part and no other known name ends the same way.
    """

    def __init__(self, names) -> None:
        self.exact = set(names)
        self.by_tail: dict[str, set[str]] = {}
        for name in self.exact:
            parts = name.split(".")
            for i in range(1, len(parts) - 1):
                self.by_tail.setdefault(".".join(parts[i:]), set()).add(name)

    def find(self, name: str | None) -> str | None:
        if name is None:
            return None
        if name in self.exact:
            return name
        found = self.by_tail.get(name)
        return next(iter(found)) if found is not None and len(found) == 1 else None


class Index:
    """The DataLayer as look-up tables, built once per process."""

    def __init__(self, layer: DataLayer) -> None:
        self.bases = dict(layer.bases)
        self.attributes = {(c, a): t for c, a, t in layer.attributes}
        self._instances = dict(layer.instances)
        self._constants = dict(layer.constants)
        self.by_name: dict[str, list[QueryWrapper]] = {}
        for wrapper in layer.wrappers:
            self.by_name.setdefault(wrapper.call.rsplit(".", 1)[-1], []).append(wrapper)
        self._classes = Suffixes(self.bases)
        self._instance_names = Suffixes(self._instances)
        self._constant_names = Suffixes(self._constants)
        self._functions = Suffixes(w.call for w in layer.wrappers if w.owner is None)

    def class_named(self, qualified: str | None) -> str | None:
        return self._classes.find(qualified)

    def is_class(self, qualified: str | None) -> bool:
        return self.class_named(qualified) is not None

    def instance(self, qualified: str | None) -> str | None:
        """The class of a module-level instance, or of what a function returns."""
        found = self._instance_names.find(qualified)
        return self._instances[found] if found is not None else None

    def constant(self, qualified: str | None) -> str | None:
        found = self._constant_names.find(qualified)
        return self._constants[found] if found is not None else None

    def ancestry(self, cls: str) -> list[str]:
        """The class and its bases, nearest first (cycles cut)."""
        out, stack = [], [cls]
        while stack:
            current = stack.pop(0)
            if current in out:
                continue
            out.append(current)
            stack.extend(self.bases.get(current, ()))
        return out

    def attribute(self, cls: str, name: str) -> str | None:
        for owner in self.ancestry(cls):
            found = self.attributes.get((owner, name))
            if found is not None:
                return found
        return None

    def method(self, cls: str, name: str) -> QueryWrapper | None:
        candidates = self.by_name.get(name, ())
        for owner in self.ancestry(cls):
            for wrapper in candidates:
                if wrapper.owner == owner:
                    return wrapper
        return None

    def function(self, qualified: str | None) -> QueryWrapper | None:
        found = self._functions.find(qualified)
        if found is None:
            return None
        for wrapper in self.by_name.get(found.rsplit(".", 1)[-1], ()):
            if wrapper.owner is None and wrapper.call == found:
                return wrapper
        return None


# --- reading one module -----------------------------------------------------------


@dataclass
class _Function:
    qualified: str
    owner: str | None  # qualified class of a method
    node: ast.FunctionDef | ast.AsyncFunctionDef
    params: tuple[str, ...]  # positional parameters, without self / cls
    path: str
    module: "_Module"


@dataclass
class _Module:
    name: str
    path: str
    names: dict[str, str] = field(default_factory=dict)  # local name -> qualified

    def qualify(self, node: ast.expr) -> str | None:
        parts = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return None
        head = self.names.get(node.id, f"{self.name}.{node.id}" if self.name else node.id)
        return ".".join([head, *reversed(parts)])


def _statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Every statement in `body`, nested blocks and definitions included.
    Imports, returns and assignments are statements: walking only statements
    skips the expression nodes, most of a module's tree."""
    stack = list(reversed(body))
    while stack:
        node = stack.pop()
        yield node
        nested: list[ast.stmt] = []
        for name in ("body", "orelse", "finalbody"):
            block = getattr(node, name, None)
            if isinstance(block, list):
                nested.extend(block)
        for handler in getattr(node, "handlers", ()):
            nested.extend(handler.body)
        for case in getattr(node, "cases", ()):
            nested.extend(case.body)
        stack.extend(reversed(nested))


def _imports(tree: ast.Module, module: str, is_package: bool) -> dict[str, str]:
    package = module if is_package else module.rpartition(".")[0]
    names: dict[str, str] = {}
    for node in _statements(tree.body):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".") if package else []
                parts = parts[: len(parts) - (node.level - 1)] if node.level > 1 else parts
                base = ".".join([p for p in parts if p] + ([base] if base else []))
            for alias in node.names:
                if alias.name != "*":
                    names[alias.asname or alias.name] = f"{base}.{alias.name}" if base else alias.name
    return names


def _parameters(node: ast.FunctionDef | ast.AsyncFunctionDef, method: bool) -> tuple[str, ...]:
    args = [a.arg for a in node.args.posonlyargs + node.args.args]
    if method and args and not any(
        isinstance(d, ast.Name) and d.id == "staticmethod" for d in node.decorator_list
    ):
        args = args[1:]
    return tuple(args)


class _Collector:
    """Classes, functions, attributes, instances and constants of the project."""

    def __init__(self) -> None:
        self.functions: list[_Function] = []
        self.bases: dict[str, tuple[str, ...]] = {}
        self.attributes: dict[tuple[str, str], str] = {}
        self.instances: dict[str, str] = {}
        self.constructors: list[tuple[_Module, str, ast.expr]] = []  # (module, bound name, value) judged later
        # (module, function, its annotation or the values it returns) judged later
        self.returns: list[tuple[_Module, str, list[ast.expr]]] = []
        self.classes = Suffixes(())
        self.instance_names = Suffixes(())
        self.functions_named = Suffixes(())

    def add(self, path: str, module: str, tree: ast.Module) -> None:
        mod = _Module(module, path, _imports(tree, module, path.endswith("__init__.py")))
        for node in tree.body:
            if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) or isinstance(node, ast.Assign):
                for name in _bound_names(node):
                    mod.names.setdefault(name, f"{module}.{name}")
        for node in tree.body:
            if isinstance(node, ast.ClassDef):
                self._class(mod, node)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.functions.append(_Function(mod.names[node.name], None, node, _parameters(node, False), path, mod))
                self.returns.append((mod, mod.names[node.name], _returned(node)))
            elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                for name in _bound_names(node):
                    self.constructors.append((mod, f"{module}.{name}", node.value))

    def _class(self, mod: _Module, node: ast.ClassDef) -> None:
        qualified = mod.names[node.name]
        self.bases[qualified] = tuple(b for b in (mod.qualify(base) for base in node.bases) if b is not None)
        for item in node.body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.functions.append(
                    _Function(f"{qualified}.{item.name}", qualified, item, _parameters(item, True), mod.path, mod)
                )
                for sub in _statements(item.body):
                    if isinstance(sub, (ast.Assign, ast.AnnAssign)) and sub.value is not None:
                        targets = sub.targets if isinstance(sub, ast.Assign) else [sub.target]
                        for target in targets:
                            if (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
                                    and target.value.id == "self"):
                                self.constructors.append((mod, f"{qualified}#{target.attr}", sub.value))
            elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                self.constructors.append((mod, f"{qualified}#{item.target.id}", item.annotation))
            elif isinstance(item, ast.Assign) and item.value is not None:
                for name in _bound_names(item):
                    self.constructors.append((mod, f"{qualified}#{name}", item.value))

    def resolve_types(self) -> None:
        """Which module-level names, attributes and functions hold an instance of a project class."""
        self.classes = Suffixes(self.bases)
        self.bases = {cls: tuple(self.classes.find(b) or b for b in bases) for cls, bases in self.bases.items()}
        for _ in range(3):  # a factory may return another factory's result
            self.instance_names = Suffixes(self.instances)
            for mod, function_name, returned in self.returns:
                cls = next((c for c in (self._class_of(mod, value) for value in returned) if c is not None), None)
                if cls is not None:
                    self.instances[function_name] = cls
            for mod, target, value in self.constructors:
                cls = self._class_of(mod, value)
                if cls is None:
                    continue
                if "#" in target:
                    owner, _, attribute = target.partition("#")
                    self.attributes[(owner, attribute)] = cls
                else:
                    self.instances[target] = cls

    def _class_of(self, mod: _Module, node: ast.expr) -> str | None:
        if isinstance(node, ast.Call):
            name = mod.qualify(node.func)
            cls = self.classes.find(name)
            if cls is not None:
                return cls
            found = self.instance_names.find(name)
            return self.instances[found] if found is not None else None
        if isinstance(node, (ast.Name, ast.Attribute)):
            return self.classes.find(mod.qualify(node))
        if isinstance(node, ast.Subscript):  # Optional[X], Annotated[X, ...]
            inner = node.slice.elts[0] if isinstance(node.slice, ast.Tuple) and node.slice.elts else node.slice
            return self._class_of(mod, inner)
        if isinstance(node, ast.BinOp):  # X | None
            return self._class_of(mod, node.left) or self._class_of(mod, node.right)
        return None


def _returned(node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.expr]:
    """What tells the class a function returns, in the order it is believed:
    its annotation, then the values of its return statements."""
    values = [s.value for s in _statements(node.body) if isinstance(s, ast.Return) and s.value is not None]
    return [node.returns, *values] if node.returns is not None else values


def _bound_names(node: ast.stmt) -> list[str]:
    if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
        return [node.name]
    if isinstance(node, ast.Assign):
        return [t.id for t in node.targets if isinstance(t, ast.Name)]
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return [node.target.id]
    return []


# --- what one function does with its parameters ------------------------------------


@dataclass(frozen=True)
class _Shape:
    """A query being built inside a function, in terms of its parameters."""

    table: str | None = None  # parameter naming the table
    filters: str | None = None
    payload: str | None = None
    op: str | None = None
    org: str = "never"  # always | conditional | never
    org_params: tuple[str, ...] = ()


class _Summariser:
    """Follows one function body in order; branches make what they add conditional."""

    def __init__(self, function: _Function, org_column: str, known: dict[str, QueryWrapper],
                 collector: _Collector) -> None:
        self.function = function
        self.params = set(function.params) | {a.arg for a in function.node.args.kwonlyargs}
        self.org_column = org_column
        self.known = known
        self.collector = collector
        self.env: dict[str, _Shape] = {}
        self.loop_keys: dict[str, str] = {}  # loop variable -> the parameter whose items it walks
        self.tests: list[set[str]] = []  # names in the tests of the enclosing branches
        self.found: list[_Shape] = []

    def run(self) -> _Shape | None:
        self.body(self.function.node.body)
        shapes = [s for s in self.found if s.table is not None and s.op is not None]
        if not shapes:
            return None
        best = max(shapes, key=lambda s: ((s.filters is not None) + (s.payload is not None), s.org == "always"))
        if best.filters is None and best.payload is None and best.op not in ("delete", "select"):
            return None
        return best

    def body(self, statements: list[ast.stmt]) -> None:
        for statement in statements:
            self.statement(statement)

    def branch(self, test: ast.expr | None, statements: list[ast.stmt]) -> None:
        self.tests.append(_names(test) if test is not None else set())
        try:
            self.body(statements)
        finally:
            self.tests.pop()

    def statement(self, node: ast.stmt) -> None:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            shape = self.expr(node.value)
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    if shape is not None:
                        self.env[target.id] = shape
                    else:
                        self.env.pop(target.id, None)
        elif isinstance(node, (ast.Return, ast.Expr)) and node.value is not None:
            self.expr(node.value)
        elif isinstance(node, ast.If):
            self.branch(node.test, node.body)
            self.branch(node.test, node.orelse)
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            walked = _items_of(node.iter)
            if walked in self.params and isinstance(node.target, ast.Tuple) and node.target.elts:
                key = node.target.elts[0]
                if isinstance(key, ast.Name):
                    self.loop_keys[key.id] = walked
                    self.body(node.body)  # applies each key of the parameter: not a condition
                    self.loop_keys.pop(key.id, None)
                    return
            self.branch(node.iter, node.body + node.orelse)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            self.body(node.body)
        elif isinstance(node, ast.Try):
            self.body(node.body)
            for handler in node.handlers:
                self.branch(None, handler.body)
            self.body(node.orelse + node.finalbody)
        elif isinstance(node, ast.While):
            self.branch(node.test, node.body)

    def expr(self, node: ast.expr) -> _Shape | None:
        if isinstance(node, ast.Await):
            return self.expr(node.value)
        if isinstance(node, ast.Name):
            return self.env.get(node.id)
        if isinstance(node, ast.Attribute):  # `.data`, `.count`
            return self.expr(node.value)
        if isinstance(node, ast.Subscript):
            return self.expr(node.value)
        if not isinstance(node, ast.Call):
            return None
        func = node.func
        result = self.wrapper_call(node)
        if result is not None:
            return self.keep(result)
        args = [a for a in node.args if not isinstance(a, ast.Starred)]
        if not isinstance(func, ast.Attribute):
            for arg in args:  # `len(self.select(table, filters))`
                self.expr(arg)
            return None
        name = func.attr
        if name in ("table", "from_") and len(args) == 1 and isinstance(args[0], ast.Name) and args[0].id in self.params:
            return self.keep(_Shape(table=args[0].id))
        receiver = self.expr(func.value)
        if receiver is None:
            for arg in args:
                self.expr(arg)
            return None
        if name in _OPERATIONS:
            shape = replace(receiver, op=receiver.op if receiver.op and name == "select" else name)
            first = args[0] if args else None
            if name in _PAYLOAD_OPS and isinstance(first, ast.Name) and first.id in self.params:
                shape = replace(shape, payload=first.id)
            return self.keep(shape)
        if name in ("eq", "filter") and args:
            column = args[0]
            if isinstance(column, ast.Name) and column.id in self.loop_keys:
                return self.keep(replace(receiver, filters=self.loop_keys[column.id]))
            if isinstance(column, ast.Constant) and column.value == self.org_column:
                return self.keep(self.org_added(receiver))
            return self.keep(receiver)
        if name == "match" and args:
            return self.keep(self.dict_filters(receiver, args[0]))
        if name in ("filter_by", "where", "filter"):
            for keyword in node.keywords:
                if keyword.arg is None and isinstance(keyword.value, ast.Name) and keyword.value.id in self.params:
                    receiver = replace(receiver, filters=keyword.value.id)
                elif keyword.arg == self.org_column:
                    receiver = self.org_added(receiver)
            return self.keep(receiver)
        return self.keep(receiver)

    def dict_filters(self, shape: _Shape, node: ast.expr) -> _Shape:
        if isinstance(node, ast.BoolOp) and node.values:  # `filters or {}`
            node = node.values[0]
        if isinstance(node, ast.Name) and node.id in self.params:
            return replace(shape, filters=node.id)
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if key is None and isinstance(value, ast.Name) and value.id in self.params:
                    shape = replace(shape, filters=value.id)
                elif isinstance(key, ast.Constant) and key.value == self.org_column:
                    shape = self.org_added(shape)
        return shape

    def org_added(self, shape: _Shape) -> _Shape:
        if not self.tests:
            return replace(shape, org="always", org_params=())
        if shape.org == "always":
            return shape
        params = tuple(sorted({n for test in self.tests for n in test} & self.params))
        return replace(shape, org="conditional", org_params=params)

    def keep(self, shape: _Shape) -> _Shape:
        self.found.append(shape)
        return shape

    def wrapper_call(self, node: ast.Call) -> _Shape | None:
        """A call of a known wrapper with this function's parameters in its places."""
        callee = self.resolve(node.func)
        if callee is None:
            return None
        bound = _bind(callee, node)
        table = bound.get(callee.table_param)
        if not (isinstance(table, ast.Name) and table.id in self.params):
            return None

        def param_of(name: str | None) -> str | None:
            value = bound.get(name) if name else None
            if isinstance(value, ast.BoolOp):  # `filters or {}`
                value = value.values[0]
            return value.id if isinstance(value, ast.Name) and value.id in self.params else None

        org, org_params = callee.org, ()
        if callee.org == "conditional":
            passed = tuple(sorted({param_of(p) for p in callee.org_params} - {None}))  # type: ignore[arg-type]
            org_params = passed
        shape = _Shape(table=table.id, filters=param_of(callee.filters_param), payload=param_of(callee.payload_param),
                       op=callee.op, org=org, org_params=org_params)
        if org == "never" and self.tests:
            return shape
        return shape

    def resolve(self, func: ast.expr) -> QueryWrapper | None:
        owner = self.function.owner
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in ("self", "cls"):
            if owner is None:
                return None
            for cls in _ancestry(owner, self.collector.bases):
                found = self.known.get(f"{cls}.{func.attr}")
                if found is not None:
                    return found
            return None
        if isinstance(func, ast.Call) and isinstance(func.func, ast.Name) and func.func.id == "super":
            return None
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call):
            inner = func.value.func
            if isinstance(inner, ast.Name) and inner.id == "super" and owner is not None:
                for cls in _ancestry(owner, self.collector.bases)[1:]:
                    found = self.known.get(f"{cls}.{func.attr}")
                    if found is not None:
                        return found
            return None
        qualified = self.collector.functions_named.find(self.function.module.qualify(func))
        return self.known.get(qualified) if qualified is not None else None


def _ancestry(cls: str, bases: dict[str, tuple[str, ...]]) -> list[str]:
    out, stack = [], [cls]
    while stack:
        current = stack.pop(0)
        if current not in out:
            out.append(current)
            stack.extend(bases.get(current, ()))
    return out


def _bind(wrapper: QueryWrapper, node: ast.Call) -> dict[str, ast.expr]:
    """Parameter name -> argument expression of a call (positional and keyword)."""
    bound: dict[str, ast.expr] = {}
    for name, arg in zip(wrapper.params, node.args):
        if isinstance(arg, ast.Starred):
            break
        bound[name] = arg
    for keyword in node.keywords:
        if keyword.arg is not None:
            bound[keyword.arg] = keyword.value
    return bound


def _names(node: ast.expr) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _items_of(node: ast.expr) -> str | None:
    """`p.items()` or `(p or {}).items()`: the name p."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "items":
        value = node.func.value
        if isinstance(value, ast.BoolOp) and value.values:
            value = value.values[0]
        if isinstance(value, ast.Name):
            return value.id
    return None


def _wrapper_of(function: _Function, shape: _Shape) -> QueryWrapper:
    params = function.params
    kwonly = tuple(a.arg for a in function.node.args.kwonlyargs)

    def index(name: str | None) -> int | None:
        return params.index(name) if name in params else None

    return QueryWrapper(
        call=function.qualified,
        op=shape.op or "select",
        table=index(shape.table) if index(shape.table) is not None else -1,
        filters=index(shape.filters),
        payload=index(shape.payload),
        params=params + kwonly,
        owner=function.owner,
        table_param=shape.table,
        filters_param=shape.filters,
        payload_param=shape.payload,
        org=shape.org,
        org_params=shape.org_params,
        source=f"{function.path}:{function.node.lineno}",
    )


# --- the whole project -----------------------------------------------------------------


def constants_of(module: str, data: bytes, words: frozenset[str]) -> dict[str, str]:
    """Module-level string constants naming a table or column of the tenancy
    model (`words`), found in a file's bytes without parsing it."""
    found = {}
    first = _FIRST_CONSTANT.match(data)
    for match in ([first] if first else []) + list(_CONSTANT.finditer(data)):
        value = match.group(3).decode()
        if value.rpartition(".")[2].lower() in words:
            found[f"{module}.{match.group(1).decode()}"] = value
    return found


def may_define_wrapper(data: bytes) -> bool:
    return any(marker.search(data) is not None for marker in WRAPPER_MARKERS)


def infer(first: list[tuple[str, str, bytes]], others: Callable[[], Iterable[tuple[str, str, bytes]]],
          org_column: str, constants: dict[str, str] | None = None,
          configured_classes: frozenset[str] = frozenset()) -> DataLayer:
    """The data-access layer of a project.

    `first` are the (path, module, bytes) of the files that can define a
    wrapper (`may_define_wrapper`); `others` gives the rest of the project's
    Python files on demand. Round by round, the files that name a class,
    function or instance found so far (a subclass, a module-level instance, a
    factory, a wrapper calling a wrapper) are parsed too, until nothing new
    turns up; a project without a wrapper never reads the others at all.
    `configured_classes` (from `Class.method` in query_wrappers) are looked
    for the same way, so their instances are known too.
    """
    collector = _Collector()
    known: dict[str, QueryWrapper] = {}
    batch: list[tuple[str, str, bytes]] = first
    done = {path for path, _, _ in first}
    seen_names: set[str] = set()
    for _ in range(_MAX_ROUNDS):
        for path, module, data in batch:
            try:
                tree = ast.parse(data, path)
            except (SyntaxError, ValueError, RecursionError, MemoryError):
                continue  # the extraction reports it; inference just learns nothing here
            collector.add(path, module, tree)
        collector.resolve_types()
        _summarise_all(collector, known, org_column)
        names = (_interesting(collector, known, configured_classes) | configured_classes) - seen_names
        if not names:
            break
        seen_names |= names
        pattern = re.compile(rb"\b(?:" + b"|".join(re.escape(n.encode()) for n in sorted(names)) + rb")\b")
        # Read again rather than held: a large tree's bytes never sit in memory.
        batch = [item for item in others() if item[0] not in done and pattern.search(item[2])]
        if not batch:
            break
        done.update(path for path, _, _ in batch)
    return DataLayer(
        wrappers=tuple(sorted(known.values(), key=lambda w: w.call)),
        bases=tuple(sorted(collector.bases.items())),
        attributes=tuple(sorted((c, a, t) for (c, a), t in collector.attributes.items())),
        instances=tuple(sorted(collector.instances.items())),
        constants=tuple(sorted((constants or {}).items())),
    )


def _summarise_all(collector: _Collector, known: dict[str, QueryWrapper], org_column: str) -> None:
    """Every function that is a wrapper, to a fixpoint (wrappers calling wrappers)."""
    for _ in range(_MAX_ROUNDS):
        grew = False
        collector.functions_named = Suffixes(known)
        for function in collector.functions:
            if function.qualified in known:
                continue
            try:
                shape = _Summariser(function, org_column, known, collector).run()
            except RecursionError:
                continue
            if shape is not None:
                known[function.qualified] = _wrapper_of(function, shape)
                grew = True
        if not grew:
            return


def _interesting(collector: _Collector, known: dict[str, QueryWrapper], configured: frozenset[str]) -> set[str]:
    """Short names of the wrapper functions and of the classes that lead to a wrapper."""
    owners = {w.owner for w in known.values() if w.owner}
    owners |= {cls for cls in collector.bases if cls.rsplit(".", 1)[-1] in configured}
    leading = {cls for cls in collector.bases if any(o in _ancestry(cls, collector.bases) for o in owners)}
    names = {w.call.rsplit(".", 1)[-1] for w in known.values() if w.owner is None}
    names |= {cls.rsplit(".", 1)[-1] for cls in leading}
    names |= {n.rsplit(".", 1)[-1] for n, cls in collector.instances.items() if cls in leading}
    return names
