"""The parenthesis depth the token readers share (sql/tokens.py): where a
list splits, where a parenthesis closes, how deep each token stands."""

from __future__ import annotations

import pytest

from orgscope.sql import tokens as tok
from orgscope.sql.split import get_dialect

SPLITS = [
    ("a, b", ["a", "b"]),
    ("a, (b, c), d", ["a", "(b, c)", "d"]),
    ("f(x, g(y, z)), w", ["f(x, g(y, z))", "w"]),
    ("'a, b', c", ["'a, b'", "c"]),  # a comma in a string is no separator
    ("(a, b", ["(a, b"]),  # unclosed: nothing splits after it
    ("", []),
]


def _tokens(text: str):
    return get_dialect("postgres").tokenize(text)


@pytest.mark.parametrize(("text", "groups"), SPLITS)
def test_split_top_level(text, groups):
    assert [text[g[0].start:g[-1].end + 1] for g in tok.split_top_level(_tokens(text))] == groups


CLOSES = [
    ("(a (b) c) d", 0, 6),
    ("(a (b) c) d", 2, 4),
    ("x (a) (b)", 1, 3),
    ("(a (b c", 0, None),
]


@pytest.mark.parametrize(("text", "open_index", "close_index"), CLOSES)
def test_closing_paren(text, open_index, close_index):
    assert tok.closing_paren(_tokens(text), open_index) == close_index


def test_with_depth_counts_the_parentheses_open_before_each_token():
    got = [(t.text, depth) for t, depth in tok.with_depth(_tokens("a (b (c)) d"))]
    assert got == [("a", 0), ("(", 0), ("b", 1), ("(", 1), ("c", 2), (")", 2), (")", 1), ("d", 0)]
