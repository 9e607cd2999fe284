"""The rule table: every rule orgscope checks, in the order of `orgscope rules`.

Each rule is one module here (its check function) and one document in the
pack's rules/<CODE>.yaml (name, severity, examples); its row below says when
the engine calls it (see `Kind`). Rules read facts only (orgscope.facts),
never parser trees.
"""

from __future__ import annotations

from pathlib import Path

from orgscope.rules import (
    org001_unscoped_query,
    org002_missing_org_index,
    org003_client_id_scoping,
    org004_missing_org_column,
    org005_insert_without_org,
    org006_org_column_mixup,
    org007_org_table_without_rls,
    org008_policy_not_org_scoped,
    org900_unanalyzable,
    org901_unused_suppression,
)
from orgscope.rules.base import Kind, Rule, RuleContext, RuleDoc, load_rule_doc

RULES: dict[str, Rule] = {
    rule.code: rule
    for rule in (
        Rule("ORG001", Kind.PER_FILE, org001_unscoped_query.check),
        Rule("ORG002", Kind.WHOLE_PROJECT, org002_missing_org_index.check),
        Rule("ORG003", Kind.PER_FILE, org003_client_id_scoping.check),
        Rule("ORG004", Kind.WHOLE_PROJECT, org004_missing_org_column.check),
        Rule("ORG005", Kind.PER_FILE, org005_insert_without_org.check),
        Rule("ORG006", Kind.PER_FILE, org006_org_column_mixup.check),
        Rule("ORG007", Kind.WHOLE_PROJECT, org007_org_table_without_rls.check),
        Rule("ORG008", Kind.WHOLE_PROJECT, org008_policy_not_org_scoped.check),
        Rule("ORG900", Kind.PER_FILE, org900_unanalyzable.check),
        Rule("ORG901", Kind.AFTER_SUPPRESSION, org901_unused_suppression.check),
    )
}


def rules_of(kind: Kind) -> list[Rule]:
    return [rule for rule in RULES.values() if rule.kind is kind]


def rule_docs(rules_dir: Path | None = None) -> dict[str, RuleDoc]:
    """The document of every rule in the table; a missing one is an error."""
    return {code: load_rule_doc(code, rules_dir) for code in RULES}


def known_codes() -> set[str]:
    return set(RULES)


__all__ = ["Kind", "RULES", "Rule", "RuleContext", "RuleDoc", "known_codes", "rule_docs", "rules_of"]
