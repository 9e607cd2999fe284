"""ORG008 policy-not-org-scoped — a row level security policy on an org table
lets a role the pack does not trust see or write rows of other organizations.
Document: rules/ORG008.yaml; the judging is rules/row_security.py.

One finding per policy, at its CREATE POLICY (or the ALTER POLICY that last
changed it), naming the commands it opens, the roles it applies to, the
branch of its expression that lets rows through, and the ALTER POLICY that
fixes it. A policy that only trusted roles use is not judged; a policy
beside a scoped restrictive policy for the same role and command is not a
finding (the restrictive one closes the gap).
"""

from __future__ import annotations

import re
from typing import Iterator

from orgscope.findings import Finding
from orgscope.rules.base import RuleContext
from orgscope.rules.row_security import PUBLIC, Leak, org_filter_hint, policy_leaks

CODE = "ORG008"


def check(ctx: RuleContext) -> Iterator[Finding]:
    for table in ctx.catalog.schema.known_tables():
        if not ctx.model.is_org_table(table.name, table.schema) or not table.policies:
            continue
        for policy, commands, leaks in policy_leaks(table, ctx.catalog, ctx.model):
            where = policy.changed_at
            message = leak_message(table.qualified_name, policy, commands, leaks, ctx.model)
            yield ctx.finding(CODE, where.path, where.span, message, table=table.qualified_name,
                              statement_line=where.statement_line, anchor=f"{CODE}:{table.qualified_name}:{policy.name}")


def leak_message(table: str, policy, commands: list[str], leaks: list[Leak], model) -> str:
    roles = [r for r in policy.roles if r not in model.trusted_roles]
    who = "every role (PUBLIC)" if PUBLIC in roles else ", ".join(roles)
    what = "; ".join(
        f"{leak.clause} ({leak.branch}) does not constrain {model.org_column}" if leak.whole
        else f"the branch `{leak.branch}` of its {leak.clause} lets every row through"
        for leak in leaks
    )
    clauses = []
    for clause in dict.fromkeys(leak.clause for leak in leaks):
        clauses.append(f"{clause} ({org_filter_hint(model)})")
    fix = f"ALTER POLICY {_quoted(policy.name)} ON {table} {' '.join(clauses)}"
    return (f"policy {_quoted(policy.name)} on {table} lets {who} {_verbs(commands)} rows of every organization: "
            f"{what}; scope it with `{fix}`")


_VERBS = {"select": "read (SELECT)", "insert": "insert (INSERT)", "update": "update (UPDATE)",
          "delete": "delete (DELETE)"}


def _verbs(commands: list[str]) -> str:
    words = [_VERBS[c] for c in commands]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _quoted(name: str) -> str:
    return name if re.fullmatch(r"[a-z_][a-z0-9_$]*", name) else '"' + name.replace('"', '""') + '"'
