"""JUnit XML, for CI systems that show test reports.

A test suite "orgscope" holds one failed test case per finding (its class name
is the file, so reports group by file; its name is the place and the rule),
so `tests` and `failures` count the same thing. A run without findings is one
passing test case, so the CI shows a green run rather than an empty report.
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
    seconds = f"{safe_seconds(result.seconds):.3f}"
    failures = len(result.findings)
    counts = {"tests": str(max(failures, 1)), "failures": str(failures), "errors": "0", "skipped": "0"}
    suites = ET.Element("testsuites", {"name": SUITE, **counts, "time": seconds})
    suite = ET.SubElement(suites, "testsuite", {"name": SUITE, **counts, "time": seconds})
    properties = ET.SubElement(suite, "properties")
    ET.SubElement(properties, "property", {"name": "orgscope.version", "value": xml_text(result.version)})
    ET.SubElement(properties, "property", {"name": "files_checked", "value": str(result.files)})

    if not result.findings:
        ET.SubElement(suite, "testcase", {"name": "orgscope check", "classname": SUITE, "time": seconds})
    for finding in result.findings:
        path = xml_text(finding.path)
        name = f"{path}:{finding.line}:{finding.column} {finding.code}"
        case = ET.SubElement(suite, "testcase", {"name": name, "classname": path, "file": path,
                                                 "line": str(finding.line)})
        failure = ET.SubElement(case, "failure", {"message": xml_text(one_line(finding.message)), "type": finding.code})
        failure.text = xml_text(_failure_text(finding))
    if result.notes:
        ET.SubElement(suite, "system-out").text = xml_text("\n".join(note.text for note in result.notes))

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
