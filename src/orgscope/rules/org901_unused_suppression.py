"""ORG901 unused-suppression — a suppression comment that suppressed nothing.
Document: rules/ORG901.yaml.

A stale `orgscope: ignore[...]` hides the next real finding on that line; it is
reported so it can be removed. `noqa` comments with only other tools' codes are
not orgscope's and never reported.
"""

from __future__ import annotations

from typing import Iterable, Iterator

from orgscope.facts import Suppression
from orgscope.findings import Finding
from orgscope.rules.base import RuleContext

CODE = "ORG901"


def check(ctx: RuleContext, unused: Iterable[tuple[str, Suppression]]) -> Iterator[Finding]:
    for path, item in unused:
        codes = ", ".join(sorted(item.codes)) or "all codes"
        scope = "file-wide suppression" if item.file_wide else "suppression"
        message = f"unused {scope} of {codes}: nothing was reported here; remove the comment"
        yield ctx.finding(CODE, path, item.span, message, anchor=f"{codes}#{item.line if not item.file_wide else 0}")
