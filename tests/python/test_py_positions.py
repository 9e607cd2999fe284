"""The front end's own position pass gives every node libcst's PositionProvider
position: findings land on the same line and column as libcst would say."""

from __future__ import annotations

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from orgscope.python.nodes import _FORMATTING, compute_positions

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
    meaningful = {node for node in expected if type(node) not in _FORMATTING}
    assert meaningful and meaningful <= set(ours)
    assert {node: ours[node] for node in meaningful} == {node: expected[node] for node in meaningful}
