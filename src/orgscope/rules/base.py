"""What every rule is built from: its document, the context it runs in, and
its entry in the rule table (rules/__init__.py).

A rule reads facts (orgscope.facts), the tenancy model and the project
catalog; it never sees a parser tree.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Union


from orgscope.facts import FileFacts, Span, Suppression
from orgscope.findings import Finding
from orgscope.model import TenancyModel, bundled_rules_dir
from orgscope.rules.scoping import QueryScoping, analyze
from orgscope import yaml_text

if TYPE_CHECKING:
    from orgscope.catalog import Catalog
    from orgscope.config import Config


class Kind(enum.Enum):
    """When the engine calls a rule's check."""

    PER_FILE = "per-file"  # check(ctx, facts) for each checked file
    WHOLE_PROJECT = "whole-project"  # check(ctx) once, after the catalog is built (schema rules)
    AFTER_SUPPRESSION = "after-suppression"  # check(ctx, unused) with the suppressions that matched nothing


FileCheck = Callable[["RuleContext", FileFacts], Iterable[Finding]]
ProjectCheck = Callable[["RuleContext"], Iterable[Finding]]
UnusedCheck = Callable[["RuleContext", Iterable[tuple[str, Suppression]]], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    """One row of the rule table."""

    code: str
    kind: Kind
    check: Union[FileCheck, ProjectCheck, UnusedCheck]


@dataclass(frozen=True)
class RuleDoc:
    """A rule's document, loaded from rules/<CODE>.yaml."""

    code: str
    name: str
    severity: str
    summary: str
    why: str
    bad: list[dict[str, Any]] = field(default_factory=list)
    good: list[dict[str, Any]] = field(default_factory=list)
    options: list[dict[str, Any]] = field(default_factory=list)
    notes: str = ""
    fix: str = ""


@lru_cache(maxsize=None)
def load_rule_doc(code: str, rules_dir: Path | None = None) -> RuleDoc:
    """rules/<CODE>.yaml; a missing document is an error, never a skipped rule."""
    folder = rules_dir or bundled_rules_dir()
    raw = yaml_text.load((folder / f"{code}.yaml").read_text(encoding="utf-8"))
    return RuleDoc(
        code=raw["code"],
        name=raw["name"],
        severity=raw["severity"],
        summary=raw["summary"].strip(),
        why=raw.get("why", "").strip(),
        bad=raw.get("bad", []) or [],
        good=raw.get("good", []) or [],
        options=raw.get("options", []) or [],
        notes=(raw.get("notes") or "").strip(),
        fix=(raw.get("fix") or "").strip(),
    )


@dataclass
class RuleContext:
    """What a rule may consult besides the facts of the file at hand."""

    model: TenancyModel
    catalog: "Catalog"
    severities: dict[str, str]  # code -> effective severity
    config: Config | None = None
    _scoping: dict[int, Any] = field(default_factory=dict, repr=False)

    def scoping(self, query: Any) -> QueryScoping:
        """The SPEC section 3 verdicts of a query, computed once and shared by the rules."""
        key = id(query)
        if key not in self._scoping:
            self._scoping[key] = (query, analyze(query, self.catalog, self.model))
        return self._scoping[key][1]

    def forget(self) -> None:
        """Drop the per-file verdict cache (the engine calls it between files)."""
        self._scoping.clear()

    def finding(
        self,
        code: str,
        path: str,
        span: Span,
        message: str,
        *,
        table: str | None = None,
        statement_line: int | None = None,
        anchor: str = "",
    ) -> Finding:
        doc = load_rule_doc(code)
        return Finding(
            path=path,
            line=span.line,
            column=span.column,
            end_line=span.end_line,
            end_column=span.end_column,
            code=code,
            name=doc.name,
            severity=self.severities.get(code, doc.severity),
            message=message,
            table=table,
            statement_line=statement_line,
            anchor=anchor,
        )
