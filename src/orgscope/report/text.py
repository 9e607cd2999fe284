"""The default, human format: each finding with its source line and a caret.

    queries/agents.sql:3:6: ORG001 agents is read without a clerk_org_id predicate
      3 | FROM agents a
        |      ^^^^^^

    Found 1 finding in 1 file (checked 4 files in 0.12 s)
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path

from orgscope.findings import Finding, Note, RunResult
from orgscope.report.common import displayable, one_line, statistics_lines, summary_line

# Tabs in a source line are expanded to this width, in the shown line and
# when placing the caret alike, so the caret stays under the token.
TAB_WIDTH = 4
# A longer source line is shown as a window of this many characters around the
# offending token (minified SQL can put a whole file on one line).
SOURCE_WINDOW = 120
SOURCE_CONTEXT = 40  # characters shown before the token when windowing
# A file larger than this (a huge file reported as unanalyzable) is not read
# again just to show one of its lines.
MAX_SOURCE_BYTES = 32 * 1024 * 1024
ELLIPSIS = "\u2026"
GROUP_SUBJECTS = 3  # subjects named on the line of a kind of grouped notes

_RESET = "\x1b[0m"
_BOLD = "\x1b[1m"
_BLUE = "\x1b[34m"
_SEVERITY_STYLE = {"error": "\x1b[1;31m", "warning": "\x1b[1;33m", "info": "\x1b[1;36m"}


class Painter:
    """ANSI styling that does nothing when colour is off."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def paint(self, text: str, style: str) -> str:
        return f"{style}{text}{_RESET}" if self.enabled and text else text

    def bold(self, text: str) -> str:
        return self.paint(text, _BOLD)

    def gutter(self, text: str) -> str:
        return self.paint(text, _BLUE)

    def severity(self, text: str, severity: str) -> str:
        return self.paint(text, _SEVERITY_STYLE.get(severity, _BOLD))


class SourceFiles:
    """Lines of the checked files, read once each; a file that cannot be read has none."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._lines: dict[str, list[str] | None] = {}

    def line(self, path: str, number: int) -> str | None:
        if path not in self._lines:
            self._lines[path] = self._read(path)
        lines = self._lines[path]
        if lines is None or not 1 <= number <= len(lines):
            return None
        return lines[number - 1]

    def _read(self, path: str) -> list[str] | None:
        file = self.root / path
        try:
            # Only regular files: reading a FIFO or device would block or never end.
            if not file.is_file() or file.stat().st_size > MAX_SOURCE_BYTES:
                return None
            data = file.read_bytes()
        except (OSError, ValueError):  # gone, unreadable, a NUL in the name
            return None
        text = data.decode("utf-8", errors="replace")
        # Editors do not count a byte-order mark as a column.
        text = text.removeprefix("\ufeff")
        # Only "\n" ends a line, as in orgscope's positions (str.splitlines
        # would also split at form feeds and other separators).
        return [line.removesuffix("\r") for line in text.split("\n")]


@dataclass(frozen=True)
class Excerpt:
    """A source line as shown, and where its caret goes (in terminal cells)."""

    text: str
    caret_offset: int
    caret_width: int


def cell_width(char: str) -> int:
    """Terminal cells a character takes: 0 for combining marks, 2 for wide CJK."""
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def cells(text: str) -> int:
    return sum(cell_width(char) for char in text)


def source_excerpt(line: str, finding: Finding) -> Excerpt:
    """The line with tabs expanded, and the caret under the finding's token.

    The caret covers the token's width on this line (to the end of the line
    when the token continues on the next), and is at least one cell wide.
    """
    start = min(max(finding.column - 1, 0), len(line))
    if finding.end_line == finding.line:
        end = min(max(finding.end_column - 1, start), len(line))
    else:
        end = len(line)
    # Expanding the prefix alone gives the same tab stops as expanding the line.
    token_start = len(line[:start].expandtabs(TAB_WIDTH))
    token_end = len(line[:end].expandtabs(TAB_WIDTH))
    expanded = displayable(line.expandtabs(TAB_WIDTH))

    low, high = 0, len(expanded)
    if high > SOURCE_WINDOW:
        low = max(0, min(token_start - SOURCE_CONTEXT, high - SOURCE_WINDOW))
        high = low + SOURCE_WINDOW
    lead = ELLIPSIS if low > 0 else ""
    tail = ELLIPSIS if high < len(expanded) else ""
    shown = lead + expanded[low:high] + tail
    offset = cells(lead) + cells(expanded[low:token_start])
    width = max(1, cells(expanded[token_start:min(token_end, high)]))
    return Excerpt(shown.rstrip(), offset, width)


def render_text(result: RunResult, *, root: Path, color: bool, show_source: bool, statistics: bool) -> str:
    painter = Painter(color)
    sources = SourceFiles(root)
    out: list[str] = []
    for finding in result.findings:
        out.append(_header(finding, painter))
        if show_source:
            line = sources.line(finding.path, finding.line)
            if line is not None:
                out.extend(_source_lines(source_excerpt(line, finding), finding, painter))
            out.append("")
    if out and out[-1] != "":
        out.append("")

    if statistics and result.findings:
        out.extend(statistics_lines(result.findings))
        out.append("")
    # The summary line stays next to the findings; the notes follow it.
    out.append(painter.bold(summary_line(result)))
    out.extend(_note_lines(result))
    return "\n".join(out) + "\n"


def _note_lines(result: RunResult) -> list[str]:
    """One line a note; the notes of a group (say 46 about the revision graph)
    once, a line per kind with its count and first subjects."""
    groups: dict[str, list[Note]] = {}
    for note in result.notes:
        if note.group is not None:
            groups.setdefault(note.group, []).append(note)
    lines: list[str] = []
    for note in result.notes:
        if note.group is None or len(groups[note.group]) == 1:
            lines.append(f"note: {displayable(one_line(note.text))}")
        elif note is groups[note.group][0]:
            lines.extend(_group_lines(note.group, groups[note.group]))
    if result.baseline_unmatched:
        count = result.baseline_unmatched
        entries = "1 baseline entry no longer matches" if count == 1 else f"{count} baseline entries no longer match"
        lines.append(f"note: {entries} any finding (fixed or gone); write the baseline again to drop them")
    return lines


def _group_lines(group: str, notes: list[Note]) -> list[str]:
    kinds: dict[str, list[str]] = {}
    for note in notes:
        kinds.setdefault(note.kind or note.text, []).append(note.subject or "")
    lines = [f"note: {displayable(one_line(group))}: {len(notes)} notes (each one in the json and sarif formats)"]
    for kind, subjects in kinds.items():
        shown = ", ".join(s for s in subjects[:GROUP_SUBJECTS] if s)
        more = f" and {len(subjects) - GROUP_SUBJECTS} more" if len(subjects) > GROUP_SUBJECTS else ""
        lines.append(f"  {len(subjects)} {displayable(one_line(kind))}" + (f": {displayable(one_line(shown))}{more}" if shown else ""))
    return lines


def _header(finding: Finding, painter: Painter) -> str:
    where = f"{painter.bold(displayable(finding.path))}:{finding.line}:{finding.column}:"
    code = painter.severity(finding.code, finding.severity)
    return f"{where} {code} {displayable(one_line(finding.message))}"


def _source_lines(excerpt: Excerpt, finding: Finding, painter: Painter) -> list[str]:
    number = str(finding.line)
    blank = " " * len(number)
    caret = " " * excerpt.caret_offset + painter.severity("^" * excerpt.caret_width, finding.severity)
    return [
        f" {painter.gutter(number + ' |')} {excerpt.text}".rstrip(),
        f" {painter.gutter(blank + ' |')} {caret}",
    ]
