"""What the names in one Python module refer to: imports and string constants.

orgscope never imports the code it reads, so names are resolved by reading
the import statements: `from app.models import Agent as A` makes `A` mean
`app.models.Agent`, `import sqlalchemy as sa` makes `sa.select` mean
`sqlalchemy.select`.
"""

from __future__ import annotations

import sys

import libcst as cst

from orgscope.python.nodes import statements

# Third-party packages whose classes are never the project's models.
_LIBRARIES = frozenset(
    {
        "sqlalchemy",
        "sqlmodel",
        "alembic",
        "pydantic",
        "pydantic_settings",
        "fastapi",
        "starlette",
        "flask",
        "flask_sqlalchemy",
        "django",
        "supabase",
        "postgrest",
        "gotrue",
        "httpx",
        "requests",
        "aiohttp",
        "psycopg",
        "psycopg2",
        "asyncpg",
        "databases",
        "pytest",
        "typing_extensions",
        "attr",
        "attrs",
        "marshmallow",
        "celery",
        "redis",
        "boto3",
        "botocore",
        "structlog",
        "loguru",
        "jwt",
        "clerk_backend_api",
        "stripe",
        "openai",
        "anthropic",
        "numpy",
        "pandas",
    }
)


def is_library(qualified: str) -> bool:
    top = qualified.split(".", 1)[0]
    return top in _LIBRARIES or top in sys.stdlib_module_names or top == "__future__"


def is_sqlalchemy(qualified: str | None) -> bool:
    return qualified is not None and qualified.split(".", 1)[0] in ("sqlalchemy", "sqlmodel")


def dotted(expr: cst.BaseExpression) -> str | None:
    """`a.b.c` as written, or None when the expression is not a dotted name."""
    parts = []
    while isinstance(expr, cst.Attribute):
        parts.append(expr.attr.value)
        expr = expr.value
    if not isinstance(expr, cst.Name):
        return None
    parts.append(expr.value)
    return ".".join(reversed(parts))


def string_value(node: cst.BaseExpression) -> str | None:
    """The value of a plain string literal (no f-string holes), else None."""
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        try:
            value = node.evaluated_value
        except Exception:  # a malformed escape; libcst raises what `ast` would
            return None
        return value if isinstance(value, str) else None
    return None


def constant_value(node: cst.BaseExpression) -> str | None:
    """A string literal, or `", ".join([...])` of string literals: known
    without running anything (a column list built once at module level)."""
    value = string_value(node)
    if value is not None:
        return value
    if (isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and node.func.attr.value == "join"
            and len(node.args) == 1 and isinstance(node.args[0].value, (cst.List, cst.Tuple))):
        separator = string_value(node.func.value)
        items = [string_value(e.value) if isinstance(e, cst.Element) else None for e in node.args[0].value.elements]
        if separator is not None and all(item is not None for item in items):
            return separator.join(items)  # type: ignore[arg-type]
    return None


class Names:
    """Imports and module-level string constants of one module."""

    def __init__(self, module: cst.Module, module_name: str, is_package: bool = False) -> None:
        self.module_name = module_name
        self.package = module_name if is_package else module_name.rpartition(".")[0]
        self.imports: dict[str, str] = {}  # local name -> qualified name
        self.module_aliases: set[str] = set()  # names bound by `import x` (modules for sure)
        self.constants: dict[str, str] = {}  # module-level NAME = "text"
        self.defined: set[str] = set()  # module-level classes, functions and assignments
        for node in _walk_imports(module):
            self._add_import(node)
        for statement in module.body:
            self._add_module_statement(statement)

    def _add_import(self, node: cst.Import | cst.ImportFrom) -> None:
        if isinstance(node, cst.Import):
            for alias in node.names:
                name = dotted(alias.name)
                if name is None:
                    continue
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    local = alias.asname.name.value
                    self.imports[local] = name
                else:
                    local = name.split(".", 1)[0]
                    self.imports[local] = local
                self.module_aliases.add(local)
            return
        base = dotted(node.module) if node.module is not None else ""
        if base is None:
            return
        if node.relative:
            package = self.package.split(".") if self.package else []
            up = len(node.relative) - 1
            package = package[: len(package) - up] if up else package
            base = ".".join([p for p in package if p] + ([base] if base else []))
        if isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            name = dotted(alias.name)
            if name is None:
                continue
            local = name
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                local = alias.asname.name.value
            self.imports[local] = f"{base}.{name}" if base else name

    def _add_module_statement(self, statement: cst.CSTNode) -> None:
        if isinstance(statement, (cst.ClassDef, cst.FunctionDef)):
            self.defined.add(statement.name.value)
            return
        if not isinstance(statement, cst.SimpleStatementLine):
            return
        for small in statement.body:
            if isinstance(small, cst.Assign):
                value = constant_value(small.value)
                for target in small.targets:
                    if isinstance(target.target, cst.Name):
                        self.defined.add(target.target.value)
                        if value is not None:
                            self.constants[target.target.value] = value
            elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                self.defined.add(small.target.value)
                if small.value is not None:
                    value = constant_value(small.value)
                    if value is not None:
                        self.constants[small.target.value] = value

    def qualified(self, expr: cst.BaseExpression) -> str | None:
        """The dotted name an expression refers to through the imports."""
        name = dotted(expr)
        if name is None:
            return None
        head, _, rest = name.partition(".")
        if head in self.imports:
            base = self.imports[head]
        elif head in self.defined and self.module_name:
            base = f"{self.module_name}.{head}"
        else:
            base = head
        return f"{base}.{rest}" if rest else base

    def is_module(self, name: str) -> bool:
        """Does a bare name stand for a module (as opposed to a class or function)?"""
        if name in self.module_aliases:
            return True
        # `from app import models`: a lower-case name imported from a package
        # is a module by PEP 8 naming; classes are capitalised.
        return name in self.imports and name[:1].islower() and not is_library(self.imports[name])

    def imported_from_project(self, name: str) -> bool:
        return name in self.imports and not is_library(self.imports[name]) and name not in self.module_aliases


def _walk_imports(module: cst.Module):
    """Every import statement in the module, nested ones included."""
    for node in statements(module):
        if type(node) is cst.Import or type(node) is cst.ImportFrom:
            yield node
