"""The JSON format of SPEC section 9: one object, keys in a fixed order.

Named json_format so that it does not shadow the standard library's json.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from orgscope.report.common import counts_by_code, safe_seconds

if TYPE_CHECKING:
    from orgscope.findings import Finding, RunResult

# The keys of one finding, in output order.
FINDING_KEYS = (
    "path",
    "line",
    "column",
    "end_line",
    "end_column",
    "code",
    "name",
    "severity",
    "message",
    "table",
    "fingerprint",
)


def finding_object(finding: Finding) -> dict:
    return {key: getattr(finding, key) for key in FINDING_KEYS}


def render_json(result: RunResult) -> str:
    document = {
        "version": result.version,
        "findings": [finding_object(f) for f in result.findings],
        "summary": {
            "files": result.files,
            "findings": len(result.findings),
            "by_code": counts_by_code(result.findings),
            "seconds": round(safe_seconds(result.seconds), 3),
        },
        "notes": [note.text for note in result.notes],
    }
    # ASCII output: undecodable file names (lone surrogates) stay valid JSON
    # and no console encoding can fail on it.
    return json.dumps(document, indent=2, ensure_ascii=True) + "\n"


def render_json_lines(result: RunResult) -> str:
    """One finding per line, each the same object as in the JSON format (for streaming tools)."""
    return "".join(json.dumps(finding_object(f), ensure_ascii=True) + "\n" for f in result.findings)
