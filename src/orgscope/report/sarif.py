"""SARIF 2.1.0, as GitHub code scanning and other SARIF viewers read it.

One run; the tool driver lists every rule with its document; each result
points at its rule by id and index, has a region with 1-based positions (the
end column is exclusive in SARIF too), and a partial fingerprint so that code
scanning can follow an alert across runs when lines move.
"""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from orgscope.report.common import unique_fingerprints

if TYPE_CHECKING:
    from orgscope.findings import Finding, RunResult
    from orgscope.rules import RuleDoc

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
FINGERPRINT_KEY = "orgscopeFingerprint/v1"
SOURCE_ROOT = "%SRCROOT%"
LEVEL = {"error": "error", "warning": "warning", "info": "note"}
# GitHub rejects rule descriptions longer than this.
DESCRIPTION_LIMIT = 1024
# Rules at severity error (after the config's overrides) find cross-tenant
# access: GitHub shows them as security alerts of high severity.
SECURITY_SEVERITY = "8.0"


def render_sarif(result: RunResult, *, docs: dict[str, RuleDoc], root: Path) -> str:
    rules: list[dict[str, Any]] = []
    rule_index: dict[str, int] = {}
    # The severity a run gave each rule (the config may override the document's).
    effective = {finding.code: finding.severity for finding in result.findings}
    for code, doc in docs.items():
        rule_index[code] = len(rules)
        rules.append(rule_descriptor(doc, effective.get(code, doc.severity)))
    for finding in result.findings:
        # A finding whose rule has no document still needs a rule to point at.
        if finding.code not in rule_index:
            rule_index[finding.code] = len(rules)
            rules.append(_undocumented_rule(finding))

    results = [
        result_object(finding, rule_index[finding.code], fingerprint)
        for finding, fingerprint in zip(result.findings, unique_fingerprints(result.findings))
    ]
    invocation: dict[str, Any] = {"executionSuccessful": True}
    if result.notes:
        invocation["toolExecutionNotifications"] = [
            {"level": "note", "message": {"text": note.text}} for note in result.notes
        ]
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "orgscope",
                "version": result.version,
                "rules": rules,
            }
        },
        "invocations": [invocation],
        # orgscope counts columns in characters, not UTF-16 code units.
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    base = _root_uri(root)
    if base is not None:
        run["originalUriBaseIds"] = {SOURCE_ROOT: {"uri": base}}
    document = {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}
    return json.dumps(document, indent=2, ensure_ascii=True) + "\n"


def rule_descriptor(doc: RuleDoc, severity: str | None = None) -> dict[str, Any]:
    severity = severity or doc.severity
    summary = doc.summary or doc.name or doc.code
    fix = doc.fix or summary
    security = severity == "error"
    properties: dict[str, Any] = {"tags": ["security", "multi-tenancy"] if security else ["multi-tenancy"]}
    if security:
        properties["security-severity"] = SECURITY_SEVERITY
    return {
        "id": doc.code,
        "name": doc.name,
        "shortDescription": {"text": _limit(summary)},
        "fullDescription": {"text": _limit(doc.why or summary)},
        "help": {"text": fix, "markdown": help_markdown(doc)},
        "defaultConfiguration": {"level": LEVEL.get(severity, "warning")},
        "properties": properties,
    }


def help_markdown(doc: RuleDoc) -> str:
    """The rule's document as Markdown: summary, why, fix, one bad and one good example."""
    parts = [f"**{doc.code} {doc.name}**: {doc.summary}"]
    if doc.why:
        parts.append(f"## Why is this bad?\n\n{doc.why}")
    if doc.fix:
        parts.append(f"## How to fix it\n\n{doc.fix}")
    for title, examples in (("Example", doc.bad), ("Use instead", doc.good)):
        example = _example_markdown(examples[0]) if examples else ""
        if example:
            parts.append(f"## {title}\n\n{example}")
    return "\n\n".join(parts)


def _example_markdown(example: Any) -> str:
    """An example's files as fenced code blocks; anything unexpected is skipped."""
    if not isinstance(example, dict):
        return ""
    blocks = []
    description = example.get("description")
    if isinstance(description, str) and description.strip():
        blocks.append(description.strip())
    files = example.get("files")
    if isinstance(files, dict):
        for path, content in files.items():
            if isinstance(content, str):
                language = {".sql": "sql", ".py": "python"}.get(PurePosixPath(str(path)).suffix, "")
                fence = "````" if "```" in content else "```"
                blocks.append(f"`{path}`\n\n{fence}{language}\n{content.rstrip()}\n{fence}")
    return "\n\n".join(blocks)


def result_object(finding: Finding, rule_index: int, fingerprint: str) -> dict[str, Any]:
    start_line = max(finding.line, 1)
    start_column = max(finding.column, 1)
    end_line = max(finding.end_line, start_line)
    end_column = max(finding.end_column, 1)
    if end_line == start_line:
        end_column = max(end_column, start_column + 1)  # at least one character
    result: dict[str, Any] = {
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        "level": LEVEL.get(finding.severity, "warning"),
        "message": {"text": finding.message or finding.name or finding.code},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": artifact_location(finding.path),
                    "region": {
                        "startLine": start_line,
                        "startColumn": start_column,
                        "endLine": end_line,
                        "endColumn": end_column,
                    },
                }
            }
        ],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
    }
    if finding.table:
        result["properties"] = {"table": finding.table}
    return result


def artifact_location(path: str) -> dict[str, str]:
    """A relative path as a URI reference under %SRCROOT% (an absolute one as a file URI)."""
    uri = _quote_path(path)
    if PurePosixPath(path).is_absolute():
        return {"uri": f"file://{uri}"}
    return {"uri": uri, "uriBaseId": SOURCE_ROOT}


def _quote_path(path: str) -> str:
    # Spaces, '%', '#', '?' and non-ASCII are percent-encoded; an undecodable
    # file name (surrogate escapes) is encoded from its original bytes.
    try:
        return quote(path, safe="/", errors="surrogateescape")
    except UnicodeEncodeError:
        return quote(path, safe="/", errors="replace")


def _root_uri(root: Path) -> str | None:
    try:
        uri = root.resolve().as_uri()
    except (OSError, ValueError):
        return None
    return uri if uri.endswith("/") else uri + "/"


def _undocumented_rule(finding: Finding) -> dict[str, Any]:
    text = finding.name or finding.code
    return {
        "id": finding.code,
        "name": finding.name or finding.code,
        "shortDescription": {"text": _limit(text)},
        "fullDescription": {"text": _limit(text)},
        "help": {"text": text},
        "defaultConfiguration": {"level": LEVEL.get(finding.severity, "warning")},
    }


def _limit(text: str) -> str:
    return text if len(text) <= DESCRIPTION_LIMIT else text[: DESCRIPTION_LIMIT - 1] + "\u2026"
