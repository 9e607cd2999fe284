"""One line per finding, then the summary line: for grep, editors and logs.

    queries/agents.sql:3:6: ORG001 [error] agents is read without a clerk_org_id predicate
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orgscope.report.common import displayable, one_line, statistics_lines, summary_line

if TYPE_CHECKING:
    from orgscope.findings import RunResult


def render_concise(result: RunResult, statistics: bool = False) -> str:
    lines = [
        f"{displayable(f.path)}:{f.line}:{f.column}: {f.code} [{f.severity}] {displayable(one_line(f.message))}"
        for f in result.findings
    ]
    if statistics and result.findings:
        lines.extend(statistics_lines(result.findings))
    lines.append(summary_line(result))
    return "\n".join(lines) + "\n"
