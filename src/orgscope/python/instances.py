"""Which project class an expression is an instance of (SPEC section 10).

A call of the data-access layer is recognised however the instance was
reached: a local bound to `DatabaseService(...)` or to a factory's result, a
parameter annotated with the class (`Annotated[...]`, `X | None`) or given by
FastAPI's `Depends(...)`, `self` inside the class or a subclass, an instance
attribute (`self.db = DatabaseService()`), a module-level instance, here or
imported. The facts come from the catalog phase (`datalayer`); nothing here
evaluates an expression, so a receiver is never walked twice.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

import libcst as cst

from orgscope.context import DataLayer
from orgscope.python.datalayer import Index
from orgscope.python.values import Instance

if TYPE_CHECKING:
    from orgscope.python.walker import Walker


@lru_cache(maxsize=4)
def index_of(layer: DataLayer) -> Index:
    return Index(layer)


def class_of(w: "Walker", expr: cst.BaseExpression) -> str | None:
    """The qualified class `expr` is an instance of, when the project says so."""
    index = w.layer
    if isinstance(expr, cst.Name):
        for value in w.lookup(expr.value):
            if isinstance(value, Instance):
                return value.cls
        if expr.value in w.env:
            return None  # a local bound to something else
        qualified = w.names.qualified(expr)
        return None if index.is_class(qualified) else index.instance(qualified)
    if isinstance(expr, cst.Attribute):
        owner = class_of(w, expr.value)
        if owner is not None:
            return index.attribute(owner, expr.attr.value)
        # `shared.admin_db`: a module-level instance reached through its module
        return index.instance(w.names.qualified(expr))
    if isinstance(expr, cst.Call):
        return constructed(w, expr)
    if isinstance(expr, cst.Await):
        return class_of(w, expr.expression)
    return None


def constructed(w: "Walker", node: cst.Call) -> str | None:
    """`DatabaseService(...)`, `get_db()` (a function returning one), `Depends(get_db)`."""
    index = w.layer
    qualified = w.names.qualified(node.func)
    if qualified is None:
        return None
    cls = index.class_named(qualified)
    if cls is not None:
        return cls
    if qualified.rsplit(".", 1)[-1] == "Depends" and node.args and node.args[0].keyword is None:
        target = w.names.qualified(node.args[0].value)
        return index.class_named(target) or index.instance(target)
    return index.instance(qualified)


def annotated(w: "Walker", annotation: cst.BaseExpression | None) -> str | None:
    """The class an annotation names: `X`, `X | None`, `Optional[X]`, `Annotated[X, ...]`."""
    if annotation is None:
        return None
    if isinstance(annotation, (cst.Name, cst.Attribute)):
        return w.layer.class_named(w.names.qualified(annotation))
    if isinstance(annotation, cst.BinaryOperation):
        return annotated(w, annotation.left) or annotated(w, annotation.right)
    if isinstance(annotation, cst.Subscript) and annotation.slice:
        first = annotation.slice[0].slice
        if isinstance(first, cst.Index):
            found = annotated(w, first.value)
            if found is not None:
                return found
        for element in annotation.slice[1:]:  # Annotated[X, Depends(get_db)]
            if isinstance(element.slice, cst.Index) and isinstance(element.slice.value, cst.Call):
                found = constructed(w, element.slice.value)
                if found is not None:
                    return found
    if isinstance(annotation, cst.SimpleString):  # "DatabaseService"
        from orgscope.python.names import string_value

        text = string_value(annotation)
        if text and text.isidentifier():
            return annotated(w, cst.Name(text))
    return None


def bind_parameters(w: "Walker", node: cst.FunctionDef, owner: str | None) -> None:
    """Parameters that are instances: `self` of a method, annotated or `Depends(...)` ones."""
    params = list(node.params.posonly_params) + list(node.params.params) + list(node.params.kwonly_params)
    static = any(isinstance(d.decorator, cst.Name) and d.decorator.value == "staticmethod" for d in node.decorators)
    positional = list(node.params.posonly_params) + list(node.params.params)
    receiver = positional[0] if positional and owner is not None and not static else None
    for param in params:
        cls = owner if param is receiver else None
        if cls is None and param.annotation is not None:
            cls = annotated(w, param.annotation.annotation)
        if cls is None and isinstance(param.default, cst.Call):
            cls = constructed(w, param.default)
        if cls is not None:
            w.env[param.name.value] = (Instance(cls),)
