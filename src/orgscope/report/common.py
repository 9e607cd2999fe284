"""Helpers shared by the output formats."""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter

from orgscope.findings import Finding, RunResult

# Characters that must never reach a terminal as they are: C0/C1 controls
# (escape sequences), lone surrogates (undecodable file names), and the bidi
# controls that let source text display differently from what it is.
_UNPRINTABLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_NEWLINES = re.compile(r"\s*[\r\n\x85\u2028\u2029]+\s*")
REPLACEMENT = "\ufffd"


def one_line(text: str) -> str:
    """`text` on a single line: line breaks (and the blanks around them) become one space."""
    return _NEWLINES.sub(" ", text).strip()


def displayable(text: str) -> str:
    """`text` safe to print: each unprintable character becomes U+FFFD.

    The replacement is one character for one, so offsets into the text stay
    valid. Tabs and line feeds are left for the caller to deal with.
    """
    return _UNPRINTABLE.sub(REPLACEMENT, text)


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def safe_seconds(seconds: float) -> float:
    """A duration that is a finite, non-negative number (JSON has no NaN)."""
    try:
        value = float(seconds)
    except (TypeError, ValueError):
        return 0.0
    return value if math.isfinite(value) and value > 0 else 0.0


def summary_line(result: RunResult) -> str:
    if not result.files:
        return "No file was checked (no *.py or *.sql file under the given paths)"
    checked = f"checked {plural(result.files, 'file')} in {safe_seconds(result.seconds):.2f} s"
    if not result.findings:
        return f"All checks passed ({checked})"
    files_with_findings = len({f.path for f in result.findings})
    return (
        f"Found {plural(len(result.findings), 'finding')} in "
        f"{plural(files_with_findings, 'file')} ({checked})"
    )


def statistics_lines(findings: list[Finding]) -> list[str]:
    """`  3  ORG001  unscoped-query` per rule, most frequent first (`--statistics`)."""
    counts = Counter(f.code for f in findings)
    names = {f.code: f.name for f in findings}
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    count_width = len(str(rows[0][1]))
    code_width = max(len(code) for code in counts)
    return [f"  {count:>{count_width}}  {code:<{code_width}}  {names[code]}".rstrip() for code, count in rows]


def counts_by_code(findings: list[Finding]) -> dict[str, int]:
    """Number of findings per rule code, sorted by code."""
    return dict(sorted(Counter(f.code for f in findings).items()))


def unique_fingerprints(findings: list[Finding]) -> list[str]:
    """One fingerprint per finding, unique within the run.

    A finding's own fingerprint is kept when it is the first with that value;
    it may repeat (the same statement twice in one file), and code-quality
    servers merge results that share a fingerprint, so a repeat gets its
    occurrence number appended. The numbering follows the (sorted) finding
    order, which keeps it stable from one run to the next. A finding without
    a fingerprint gets one derived from what identifies it apart from its line.
    """
    seen: set[str] = set()
    occurrences: Counter[str] = Counter()
    fingerprints = []
    for finding in findings:
        base = finding.fingerprint or _fallback_fingerprint(finding)
        candidate = base
        while candidate in seen:
            occurrences[base] += 1
            candidate = f"{base}:{occurrences[base] + 1}"
        seen.add(candidate)
        fingerprints.append(candidate)
    return fingerprints


def _fallback_fingerprint(finding: Finding) -> str:
    identity = "\0".join(
        [finding.code, finding.path, finding.table or "", finding.anchor or finding.message]
    )
    return hashlib.sha256(identity.encode("utf-8", "surrogatepass")).hexdigest()[:32]
