"""Map character offsets in a text to 1-based (line, column) positions."""

from __future__ import annotations

from bisect import bisect_right

from orgscope.facts import Span


class LineIndex:
    """Offsets -> (line, column) for one text; columns count characters."""

    __slots__ = ("starts",)

    def __init__(self, text: str) -> None:
        starts = [0]
        find = text.find
        i = find("\n")
        while i != -1:
            starts.append(i + 1)
            i = find("\n", i + 1)
        self.starts = starts

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect_right(self.starts, offset) - 1
        return line + 1, offset - self.starts[line] + 1

    def span(self, start: int, end: int) -> Span:
        """The span of text[start:end] (end exclusive)."""
        line, col = self.position(start)
        end_line, end_col = self.position(max(end, start + 1) - 1)
        return Span(line, col, end_line, end_col + 1)
