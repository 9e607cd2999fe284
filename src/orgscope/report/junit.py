"""JUnit XML, for CI systems that show test reports.

A test suite "orgscope" holds one test case per file with findings (named by
its path) and one <failure> per finding. The `failures` counts are the number
of findings. A run without findings is one passing test case, so the CI shows
a green run rather than an empty report.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING

from orgscope.report.common import REPLACEMENT, one_line, safe_seconds

if TYPE_CHECKING:
    from orgscope.findings import Finding, RunResult

SUITE = "orgscope"
# Characters XML 1.0 cannot hold at all, escaped or not.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    return _NOT_XML.sub(REPLACEMENT, text)


def render_junit(result: RunResult) -> str:
    by_path: dict[str, list[Finding]] = {}
    for finding in result.findings:
        by_path.setdefault(finding.path, []).append(finding)

    seconds = f"{safe_seconds(result.seconds):.3f}"
    tests = max(len(by_path), 1)
    counts = {"tests": str(tests), "failures": str(len(result.findings)), "errors": "0", "skipped": "0"}
    suites = ET.Element("testsuites", {"name": SUITE, **counts, "time": seconds})
    suite = ET.SubElement(suites, "testsuite", {"name": SUITE, **counts, "time": seconds})
    properties = ET.SubElement(suite, "properties")
    ET.SubElement(properties, "property", {"name": "orgscope.version", "value": xml_text(result.version)})
    ET.SubElement(properties, "property", {"name": "files_checked", "value": str(result.files)})

    if not by_path:
        ET.SubElement(suite, "testcase", {"name": "orgscope check", "classname": SUITE, "time": seconds})
    for path, findings in by_path.items():
        case = ET.SubElement(suite, "testcase", {"name": xml_text(path), "classname": SUITE, "file": xml_text(path)})
        for finding in findings:
            failure = ET.SubElement(
                case,
                "failure",
                {"message": xml_text(one_line(finding.message)), "type": finding.code},
            )
            failure.text = xml_text(_failure_text(finding))
    if result.notes:
        ET.SubElement(suite, "system-out").text = xml_text("\n".join(result.notes))

    ET.indent(suites)
    body = ET.tostring(suites, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'


def _failure_text(finding: Finding) -> str:
    lines = [
        f"{finding.path}:{finding.line}:{finding.column}: {finding.code} {finding.name} [{finding.severity}]",
        finding.message,
    ]
    if finding.table:
        lines.append(f"table: {finding.table}")
    return "\n".join(lines)
