"""GitHub Actions workflow commands: each finding becomes an annotation.

    ::error file=queries/agents.sql,line=3,col=6,endLine=3,endColumn=11,title=ORG001 unscoped-query::agents is read ...

Values are escaped as the runner expects: `%`, CR and LF everywhere, and also
`:` and `,` in the properties (they delimit them). Severity maps to the
command: error -> ::error, warning -> ::warning, info -> ::notice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orgscope.report.common import displayable

if TYPE_CHECKING:
    from orgscope.findings import Finding, RunResult

COMMAND = {"error": "error", "warning": "warning", "info": "notice"}
TITLE_LIMIT = 255  # GitHub rejects longer annotation titles


def escape_data(text: str) -> str:
    escaped = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    # Line breaks are escaped by now; other control characters (terminal
    # escape sequences) must not reach the log as they are.
    return displayable(escaped)


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(finding: Finding) -> str:
    line = max(finding.line, 1)
    column = max(finding.column, 1)
    end_line = max(finding.end_line, line)
    properties = [("file", finding.path), ("line", str(line))]
    # Annotations carry columns only for a range on one line; the end column
    # is exclusive, as in the JSON and SARIF reports.
    if end_line == line:
        properties += [
            ("col", str(column)),
            ("endLine", str(end_line)),
            ("endColumn", str(max(finding.end_column, column + 1))),
        ]
    else:
        properties.append(("endLine", str(end_line)))
    properties.append(("title", f"{finding.code} {finding.name}"[:TITLE_LIMIT]))
    rendered = ",".join(f"{key}={escape_property(value)}" for key, value in properties)
    return f"::{COMMAND.get(finding.severity, 'warning')} {rendered}::{escape_data(finding.message)}"


def render_github(result: RunResult) -> str:
    lines = [annotation(f) for f in result.findings]
    lines += [f"::notice title=orgscope::{escape_data(note.text)}" for note in result.notes]
    return "".join(line + "\n" for line in lines)
