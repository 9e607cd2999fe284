"""GitLab Code Quality: a JSON list of issues for the merge-request widget.

GitLab merges issues that share a fingerprint, so every issue gets one that is
unique within the report.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from orgscope.report.common import one_line, unique_fingerprints

if TYPE_CHECKING:
    from orgscope.findings import RunResult

GITLAB_SEVERITY = {"error": "critical", "warning": "minor", "info": "info"}


def render_gitlab(result: RunResult) -> str:
    issues = []
    for finding, fingerprint in zip(result.findings, unique_fingerprints(result.findings)):
        line = max(finding.line, 1)
        issues.append(
            {
                "description": f"{finding.code}: {one_line(finding.message)}",
                "check_name": finding.code,
                "fingerprint": fingerprint,
                "severity": GITLAB_SEVERITY.get(finding.severity, "minor"),
                "location": {
                    "path": finding.path,
                    "lines": {"begin": line, "end": max(finding.end_line, line)},
                },
                "type": "issue",
            }
        )
    return json.dumps(issues, indent=2, ensure_ascii=True) + "\n"
