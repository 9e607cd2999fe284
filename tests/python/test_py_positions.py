"""The front end's own position pass gives every node libcst's PositionProvider
position: findings land on the same line and column as libcst would say."""

from __future__ import annotations

import ast
from pathlib import Path

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from orgscope.python.nodes import FORMATTING, children, statements
from orgscope.python.positions import NodePositions, compute_positions

SOURCES = {
    "decorators and comments": (
        "# leading comment\n\n@decorator(\n    1,\n)\n# between\n@other\nasync def f(a, *, b=2) -> int:\n"
        "    '''doc'''\n    return await g(a)[b]  # trailing\n"
    ),
    "strings of every kind": (
        'Q = ("SELECT *"\n     " FROM agents")\nF = f"{Q!r:>{10}} and {{braces}}"\nB = rb"\\x00"\n'
        "T = '''\nmulti\nline\n'''\n"
    ),
    "compound statements": (
        "class A(B, metaclass=M):\n    x: int = 1\n\n    def m(self):\n        if self.x:\n            pass\n"
        "        elif y:\n            ...\n        else:\n            for i in range(3):\n                continue\n"
        "        try:\n            with open(p) as h, q:\n                h.read()\n        except (E, F) as e:\n"
        "            raise\n        finally:\n            del z\n"
        "match v:\n    case [1, *rest] if rest:\n        pass\n    case {'k': x}:\n        pass\n"
    ),
    "carriage returns, semicolons, no final newline": "a = 1; b = 2\r\nc = (a +\r\n     b)\rd = [i for i in c if i]",
    "lambda, walrus, slices": "f = lambda x, /, y=1: (z := x[1:2, ::3])\nprint(*f, **{'a': 1})\n",
    # Both end at a closing parenthesis, a formatting node.
    "parenthesised imports and with items": (
        "from a.b import (\n    c,\n    d as e,\n)\nfrom . import (f)\n"
        "def g():\n    with (open(p) as h, open(q) as i):\n        pass\n"
    ),
}


@pytest.mark.parametrize("source", SOURCES.values(), ids=SOURCES.keys())
def test_every_node_that_carries_meaning_gets_libcsts_position(source):
    wrapper = MetadataWrapper(cst.parse_module(source), unsafe_skip_copy=True)
    expected = wrapper.resolve(PositionProvider)
    ours = compute_positions(wrapper.module)
    meaningful = {node for node in expected if type(node) not in FORMATTING}
    assert meaningful and meaningful <= set(ours)
    assert {node: ours[node] for node in meaningful} == {node: expected[node] for node in meaningful}


# --- positions a statement at a time ---------------------------------------------------------
#
# Each statement's positions are generated from where CPython's parser says it
# starts. For every source: once every statement is generated, each node has
# the position the whole-module pass gives it, and no source here needs that
# pass (the statements pair up) unless `whole` says so.

STATEMENT_SOURCES = {
    **SOURCES,
    # A lone carriage return ends a line for CPython and libcst, not for str.split.
    "carriage returns, semicolons, no final newline": (SOURCES["carriage returns, semicolons, no final newline"], True),
    "elif chains, else clauses and comments between": (
        "if a:\n    x = 1\n# about b\nelif b:  # why\n    x = (\n        2)\n\n\n    # more\nelif c: x = 3; y = 4\n"
        "else:\n    # nothing\n    pass\nwhile x:\n    break\nelse:\n    x = 0\nfor i in a:\n    pass\nelse:\n    y = i\n"
    ),
    "decorated classes and functions with comments and blank lines": (
        "import m\n\n\n# a comment\n@m.register(\n    'k')\n\n# between decorators\n@other\nclass A(\n    B):\n"
        "    @property\n    def p(self, a=m.call('x'), *args, b: int = 2, **kw):\n        return m.query(a)\n"
        "    async def q(self):\n        async with m.session() as s, m.lock():\n            async for r in s.rows(\n"
        "                    'SELECT 1'):\n                await r\n"
    ),
    "one-line suites and semicolons after a statement spanning lines": (
        "def f(): return g(1)\nclass C: x = 1; y = [\n    2]\nv = (1,\n     2); w = v\nif v: w = 1; v = w\n"
    ),
    "text before a statement that is not ASCII": "é = 'ü'; q = db.execute('SELECT * FROM agents')\nt = 'ß'; u = é\n",
    "tabs for indentation": "def f():\n\tif x:\n\t\ty = g(\n\t\t\t1)\n\treturn y\n",
    "carriage return line feeds": "def f():\r\n    x = g(\r\n        1)\r\n    return x\r\n",
    "try, except star, else and finally": (
        "try:\n    a()\nexcept* ValueError as e:\n    b(e)\nexcept* (KeyError, OSError):\n    pass\n"
        "try:\n    a()\nexcept E:\n    pass\nelse:\n    c = 1\nfinally:\n    d = 2\n"
    ),
    "match with guards and nested bodies": (
        "match cmd:\n    case {'op': op} if op:\n        run(op)\n    case [x, *_]:\n        if x:\n            pass\n"
        "    case _:\n        pass\n"
    ),
    "backslash continuations and nested functions": (
        "x = 1 + \\\n    2\ndef outer():\n    def inner(a=\\\n              3):\n        return a\n    return inner\n"
    ),
    "a lone carriage return: the whole pass": ("a = 1\rb = 2\n", True),
    "a form feed: the whole pass": ("a = 1\n\x0cdef f():\n    pass\n", True),
}


@pytest.mark.parametrize("source", STATEMENT_SOURCES.values(), ids=STATEMENT_SOURCES.keys())
def test_statement_positions_are_the_whole_module_pass_positions(source):
    source, whole = (source, False) if isinstance(source, str) else source
    module = cst.parse_module(source)
    expected = compute_positions(module)
    positions = NodePositions(module, ast.parse(source), source)
    assert positions._whole is whole
    for anchor in list(positions._anchors.values()):
        positions._generate(anchor)
    assert positions._whole is whole
    generated = {node: where for node, where in positions._computed.items() if node in expected}
    assert generated == {node: expected[node] for node in generated}
    # Every node of every statement and header part the walker reads has one.
    inside, stack = set(), list(positions._anchors)
    while stack:
        node = stack.pop()
        inside.add(node)
        stack.extend(children(node))
    assert inside <= set(generated)
    assert whole or inside
    # And any node at all, asked for without a statement in focus, still gets its position.
    assert all(positions[node] == expected[node] for node in expected)


# (source, the unit the walker reads, the node asked for inside it)
FOCUSED = {
    "a call in a return spanning lines": (
        "def f(db, org):\n    db.execute('SELECT 1')\n    return db.execute(\n        'SELECT * FROM agents')\n",
        lambda m: m.body[0].body.body[1].body[0], lambda unit: unit.value.args[0].value),
    "a match subject": (
        "x = 1\n# about it\nmatch (\n    db.get('agents')):\n    case 1:\n        pass\n",
        lambda m: m.body[1].subject, lambda unit: unit.args[0].value),
    "a class decorator": (
        "@register(\n    'agents')\nclass K(B):\n    pass\n",
        lambda m: m.body[0].decorators[0], lambda unit: unit.decorator.args[0].value),
    "a default parameter value": (
        "async def f(q=db.table('agents')):\n    pass\n",
        lambda m: m.body[0].params.params[0], lambda unit: unit.default),
}


@pytest.mark.parametrize("source, unit_of, node_of", FOCUSED.values(), ids=FOCUSED.keys())
def test_positions_come_from_the_unit_in_focus_without_the_whole_pass(source, unit_of, node_of):
    module = cst.parse_module(source)
    positions = NodePositions(module, ast.parse(source), source)
    unit = unit_of(module)
    node = node_of(unit)
    positions.focus(unit)
    assert positions[node] == compute_positions(module)[node]
    assert not positions._whole


def _every_statement(node):
    """Statements by a walk over every node (slow, obviously complete)."""
    found = []
    if isinstance(node, (cst.BaseSmallStatement, cst.BaseCompoundStatement)):
        found.append(node)
    for child in children(node):
        found += _every_statement(child)
    return found


@pytest.mark.parametrize("source", list(SOURCES.values()) + [
    "try:\n    import a\nexcept E:\n    import b\nelse:\n    import c\nfinally:\n    import d\n"
    "if x:\n    class A: pass\nelif y:\n    def f(): import e\nelse:\n    with g: h = Table('t')\n",
    Path(__file__).read_text(encoding="utf-8"),
])
def test_the_statement_walk_finds_every_statement_in_source_order(source):
    module = cst.parse_module(source)
    assert list(statements(module)) == _every_statement(module)
