"""The rules: one module per rule, its document in the pack's rules/<CODE>.yaml.

A rule module defines `CODE` and one of
  * `check(ctx, facts)`   -> findings for one file's facts, or
  * `check_project(ctx)`  -> findings about the whole project (schema rules).
Rules read facts only (orgscope.facts), never parser trees.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import yaml

from orgscope.facts import Span
from orgscope.findings import Finding
from orgscope.model import TenancyModel, bundled_rules_dir

if TYPE_CHECKING:
    from orgscope.catalog import Catalog

# The order is the order of `orgscope rules`.
RULE_MODULES = {
    "ORG001": "org001_unscoped_query",
    "ORG002": "org002_missing_org_index",
    "ORG003": "org003_client_id_scoping",
    "ORG004": "org004_missing_org_column",
    "ORG005": "org005_insert_without_org",
    "ORG006": "org006_org_column_mixup",
    "ORG900": "org900_unanalyzable",
    "ORG901": "org901_unused_suppression",
}


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
def rule_docs(rules_dir: Path | None = None) -> dict[str, RuleDoc]:
    folder = rules_dir or bundled_rules_dir()
    docs = {}
    for code in RULE_MODULES:
        raw = yaml.safe_load((folder / f"{code}.yaml").read_text(encoding="utf-8"))
        docs[code] = RuleDoc(
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
    return docs


def known_codes() -> set[str]:
    return set(RULE_MODULES)


@lru_cache(maxsize=None)
def rule_module(code: str) -> ModuleType:
    return importlib.import_module(f"orgscope.rules.{RULE_MODULES[code]}")


@dataclass
class RuleContext:
    """What a rule may consult besides the facts of the file at hand."""

    model: TenancyModel
    catalog: "Catalog"
    severities: dict[str, str]  # code -> effective severity
    config: Any = None
    _scoping: dict[int, Any] = field(default_factory=dict, repr=False)

    def scoping(self, query: Any) -> Any:
        """The SPEC section 3 verdicts of a query, computed once and shared by the rules."""
        key = id(query)
        if key not in self._scoping:
            from orgscope.rules.scoping import analyze

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
        doc = rule_docs()[code]
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
