"""Inline suppressions (SPEC section 7) and finding fingerprints.

Forms, in SQL (`--`) and Python (`#`) comments:
  orgscope: ignore[ORG001, ORG003] reason      on the finding's line or the first
                                               line of its statement or call
  noqa: ORG001                                 the same; codes not orgscope's are
                                               left alone (neither used nor unused)
  orgscope: ignore-file[ORG002]                in the file's leading comments
A suppression that suppresses nothing is reported as ORG901.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from typing import Iterable

from orgscope.facts import Span, Suppression
from orgscope.findings import Finding

_CODE = r"[A-Za-z]+[0-9]+"
_IGNORE = re.compile(
    rf"(?:#|--)\s*orgscope:\s*(?P<kind>ignore-file|ignore)(?:\[(?P<codes>\s*{_CODE}(?:\s*,\s*{_CODE})*\s*)\])?(?P<reason>[^\n]*)"
)
_NOQA = re.compile(rf"(?:#|--)\s*noqa:\s*(?P<codes>{_CODE}(?:[\s,]+{_CODE})*)", re.IGNORECASE)
_OURS = re.compile(r"^ORG\d{3}$")


def scan(text: str, language: str) -> list[Suppression]:
    """Every suppression comment of a file (cheap: most files have none)."""
    if "orgscope:" not in text and "noqa" not in text.lower():
        return []
    found: list[Suppression] = []
    leading = True
    comment = "#" if language == "python" else "--"
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if leading and stripped and not stripped.startswith(comment) and not stripped.startswith("#!"):
            leading = False
        if "orgscope:" in line:
            for match in _IGNORE.finditer(line):
                codes = frozenset(c.strip().upper() for c in (match.group("codes") or "").split(",") if c.strip())
                file_wide = match.group("kind") == "ignore-file"
                if file_wide and not leading:
                    continue
                span = Span(number, match.start() + 1, number, match.end() + 1)
                reason = match.group("reason").strip(" -:")
                found.append(Suppression(line=number, codes=codes, span=span, file_wide=file_wide, reason=reason))
        if "noqa" in line.lower():
            for match in _NOQA.finditer(line):
                codes = frozenset(
                    c.upper() for c in re.split(r"[\s,]+", match.group("codes")) if _OURS.match(c.upper())
                )
                if codes:
                    span = Span(number, match.start() + 1, number, match.end() + 1)
                    found.append(Suppression(line=number, codes=codes, span=span))
    return found


def apply(
    findings: list[Finding], suppressions: dict[str, list[Suppression]], enabled: set[str], known: set[str]
) -> tuple[list[Finding], list[tuple[str, Suppression]]]:
    """Drop suppressed findings; return the kept ones and the unused suppressions.

    A suppression naming a rule that is disabled in this run is not called
    unused (`--select` must not turn valid suppressions into noise); one naming
    a code orgscope does not have (a typo) can never match, and is."""
    used: set[int] = set()
    by_line: dict[tuple[str, int], list[Suppression]] = defaultdict(list)
    file_wide: dict[str, list[Suppression]] = defaultdict(list)
    for path, items in suppressions.items():
        for item in items:
            (file_wide[path] if item.file_wide else by_line[(path, item.line)]).append(item)

    kept = []
    for finding in findings:
        candidates = list(file_wide.get(finding.path, ()))
        candidates += by_line.get((finding.path, finding.line), [])
        if finding.statement_line and finding.statement_line != finding.line:
            candidates += by_line.get((finding.path, finding.statement_line), [])
        hit = [s for s in candidates if not s.codes or finding.code in s.codes]
        if hit and finding.code != "ORG901":
            used.update(id(s) for s in hit)
        else:
            kept.append(finding)

    unused = []
    for path, items in suppressions.items():
        for item in items:
            if id(item) in used:
                continue
            if item.codes & (known - enabled):
                continue
            unused.append((path, item))
    return kept, unused


def normalize_anchor(text: str) -> str:
    """Whitespace and case do not change what a statement means: `id=$1` and
    `ID = $1` keep one fingerprint."""
    return _AROUND_PUNCTUATION.sub(r"\1", " ".join(text.split())).lower()


_AROUND_PUNCTUATION = re.compile(r"\s*([(),=<>;])\s*")


def assign_fingerprints(findings: Iterable[Finding]) -> None:
    """A fingerprint that survives line moves: rule, path, table and the
    normalised statement, plus an occurrence number for identical ones."""
    seen: dict[str, int] = defaultdict(int)
    for finding in sorted(findings, key=Finding.sort_key):
        base = "\x1f".join(
            (finding.code, finding.path, finding.table or "", normalize_anchor(finding.anchor or finding.message))
        )
        digest = hashlib.sha256(base.encode("utf-8")).hexdigest()[:16]
        seen[digest] += 1
        finding.fingerprint = f"{digest}:{seen[digest]}"
