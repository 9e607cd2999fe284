"""Text decoded from Python string literals, with the file position of every character.

A SQL statement in Python code is rarely one plain literal: it is spread over
implicitly concatenated lines, holds escapes and line continuations, or is an
f-string. To report a table token at its exact place in the .py file, every
character of the decoded text remembers the (line, column) it came from.
`MappedText` offers the `position` / `span` interface of
`orgscope.positions.LineIndex`, so the SQL front end can use either.
"""

from __future__ import annotations

import unicodedata
from typing import Iterable

from orgscope.facts import Span

Pos = tuple[int, int]  # 1-based line and column in the .py file


class MappedText:
    """A text and, for every character, the file position it came from."""

    __slots__ = ("text", "positions")

    def __init__(self, text: str, positions: list[Pos]) -> None:
        if len(text) != len(positions):
            raise ValueError("every character needs a position")
        self.text = text
        self.positions = positions

    def position(self, offset: int) -> Pos:
        if not self.positions:
            return (1, 1)
        if offset < 0:
            return self.positions[0]
        if offset < len(self.positions):
            return self.positions[offset]
        line, column = self.positions[-1]
        return line, column + 1

    def span(self, start: int, end: int) -> Span:
        """The span of text[start:end] (end exclusive), like LineIndex.span."""
        line, column = self.position(start)
        end_line, end_column = self.position(max(end, start + 1) - 1)
        return Span(line, column, end_line, end_column + 1)


_SIMPLE_ESCAPES = {
    "\\": "\\",
    "'": "'",
    '"': '"',
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
}
_OCTAL = "01234567"
_HEX = "0123456789abcdefABCDEF"


def split_prefix(raw: str) -> tuple[str, str, str]:
    """`rb'''x'''` -> ("rb", "'''", body)."""
    i = 0
    while i < len(raw) and raw[i] not in "'\"":
        i += 1
    prefix = raw[:i]
    rest = raw[i:]
    quote = rest[:3] if rest[:3] in ('"""', "'''") else rest[:1]
    body = rest[len(quote) : len(rest) - len(quote)] if len(rest) >= 2 * len(quote) else ""
    return prefix, quote, body


def advance(position: Pos, char: str) -> Pos:
    line, column = position
    return (line + 1, 1) if char == "\n" else (line, column + 1)


def decode(
    body: str, start: Pos, *, raw: bool, is_bytes: bool = False, braces: bool = False
) -> tuple[str, list[Pos]]:
    """Decode the body of a literal as Python does, keeping positions.

    `start` is the file position of body[0]. Each character an escape produces
    maps to the escape's backslash. `braces` undoubles `{{` and `}}` (the text
    parts of an f-string).
    """
    out: list[str] = []
    where: list[Pos] = []
    pos = start
    i = 0
    n = len(body)
    while i < n:
        ch = body[i]
        if braces and ch in "{}" and i + 1 < n and body[i + 1] == ch:
            out.append(ch)
            where.append(pos)
            pos = advance(advance(pos, ch), ch)
            i += 2
            continue
        if ch != "\\" or raw or i + 1 >= n:
            out.append(ch)
            where.append(pos)
            pos = advance(pos, ch)
            i += 1
            continue
        produced, used = _escape(body, i, is_bytes)
        for char in produced:
            out.append(char)
            where.append(pos)
        for char in body[i : i + used]:
            pos = advance(pos, char)
        i += used
    return "".join(out), where


def _escape(body: str, i: int, is_bytes: bool) -> tuple[str, int]:
    """What the escape at body[i] (a backslash) produces, and its length."""
    nxt = body[i + 1]
    if nxt == "\n":
        return "", 2  # a line continuation inside the literal
    if nxt == "\r":
        return "", 3 if body[i + 2 : i + 3] == "\n" else 2
    if nxt in _SIMPLE_ESCAPES:
        return _SIMPLE_ESCAPES[nxt], 2
    if nxt in _OCTAL:
        j = i + 1
        while j < len(body) and j < i + 4 and body[j] in _OCTAL:
            j += 1
        return chr(int(body[i + 1 : j], 8)), j - i
    width = {"x": 2, "u": 4, "U": 8}.get(nxt)
    if width and not (is_bytes and nxt != "x"):
        digits = body[i + 2 : i + 2 + width]
        if len(digits) == width and all(c in _HEX for c in digits):
            try:
                return chr(int(digits, 16)), 2 + width
            except (ValueError, OverflowError):
                pass
        return body[i : i + 2], 2
    if nxt == "N" and not is_bytes and body[i + 2 : i + 3] == "{":
        close = body.find("}", i + 3)
        if close != -1:
            try:
                return unicodedata.lookup(body[i + 3 : close]), close + 1 - i
            except KeyError:
                pass
    # An unknown escape keeps its backslash, as Python does.
    return body[i : i + 2], 2


def join(parts: Iterable[MappedText]) -> MappedText:
    text: list[str] = []
    positions: list[Pos] = []
    for part in parts:
        text.append(part.text)
        positions.extend(part.positions)
    return MappedText("".join(text), positions)
