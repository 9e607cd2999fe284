"""What a table's row level security lets through (SPEC section 11).

Shared by ORG007, ORG008, `orgscope schema` and `orgscope db`, so the
question "can a request see or write another organization's rows?" is
answered in one place.

PostgreSQL applies, for a role and a command, the policies whose roles
include that role or PUBLIC: the permissive ones OR-ed together, AND-ed
with every restrictive one; with no permissive policy nothing gets through.
Per command it uses

* SELECT, DELETE: USING of the SELECT / DELETE and ALL policies;
* INSERT: WITH CHECK of the INSERT and ALL policies (an ALL policy without
  WITH CHECK uses its USING);
* UPDATE: USING (which rows) and WITH CHECK (what they become; USING when
  absent) of the UPDATE and ALL policies; both must scope.

Each expression is judged by the section 3 analysis (rules/scoping.py) with
values taken from the request: `R.org = auth.jwt() ->> 'org_id'`, a
`current_setting(...)`, or a membership subquery filtered by `auth.uid()`
constrain; a constant, `true` or an OR with a branch that does not
constrain do not. An expression orgscope could not parse scopes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from orgscope.facts import POLICY_COMMANDS, Policy, PolicyExpr
from orgscope.rules.scoping import analyze

PUBLIC = "public"


@dataclass(frozen=True)
class Leak:
    """One policy expression that lets other organizations' rows through."""

    policy: str
    clause: str  # USING | WITH CHECK
    branch: str  # the OR branch (or whole expression) that does not constrain
    whole: bool  # the branch is the whole expression
    readable: bool = True  # False: orgscope could not parse the expression (an ORG900 says so)


@dataclass
class CommandVerdict:
    command: str  # select | insert | update | delete
    scoped: bool
    rls: bool
    roles: list[str] = field(default_factory=list)  # untrusted roles that get other orgs' rows
    leaks: list[Leak] = field(default_factory=list)
    no_policy: bool = False  # RLS on, no policy for the command: nothing gets through


class _PolicyTable:
    """The catalog as a policy expression sees it: its own table is the table
    as it is now, whatever name the policy was created under (PostgreSQL
    keeps a policy's expression through renames)."""

    def __init__(self, catalog, table, written: tuple[str | None, str | None]) -> None:
        self.catalog = catalog
        self.table = table
        self.written = written

    def has_column(self, table: str | None, schema: str | None, column: str) -> bool | None:
        if (schema, table) != self.written:
            return self.catalog.has_column(table, schema, column)
        if column in self.table.columns:
            return True
        if getattr(self.table, "created", True):
            return False
        return self.catalog.model.has_column_by_model(self.table.name, self.table.schema, column)


class Judge:
    """Judges policy expressions on one table."""

    def __init__(self, catalog, model, table=None) -> None:
        self.catalog = catalog
        self.model = model
        self.table = table

    def leaking_branch(self, expression: PolicyExpr) -> tuple[str, bool] | None:
        """None when the expression constrains the org column, else the first
        OR branch that does not (and whether it is the whole expression)."""
        if expression.error is not None:
            return expression.text, True
        if not expression.branches:
            return None  # `false`: nothing gets through
        for branch in expression.branches:
            own = branch.query.blocks[0].refs[0]
            catalog = self.catalog
            if self.table is not None:
                catalog = _PolicyTable(self.catalog, self.table, (own.schema, own.table))
            scoping = analyze(branch.query, catalog, self.model, request_values=True)
            table_ref = scoping.verdicts[own.id]
            if not table_ref.constrained:
                return branch.text, len(expression.branches) == 1
        return None


def _applies(policy: Policy, role: str) -> bool:
    return PUBLIC in policy.roles or role in policy.roles


def _sides(policy: Policy, command: str) -> list[tuple[str, PolicyExpr | None]]:
    """The expressions PostgreSQL applies for `command` under `policy`."""
    if policy.command not in ("all", command):
        return []
    if command in ("select", "delete"):
        return [("USING", policy.using)]
    if command == "insert":
        if policy.check is not None or policy.command == "insert":
            return [("WITH CHECK", policy.check)]
        return [("USING", policy.using)]
    check = ("WITH CHECK", policy.check) if policy.check is not None else ("USING", policy.using)
    return [("USING", policy.using), check]


def untrusted_roles(policies: Iterable[Policy], model) -> list[str]:
    """The roles a policy names that the pack does not trust, and PUBLIC
    (every other role)."""
    roles = {role for policy in policies for role in policy.roles if role not in model.trusted_roles}
    return sorted(roles - {PUBLIC}) + [PUBLIC]


def command_verdicts(table, catalog, model, judge: Judge | None = None) -> dict[str, CommandVerdict]:
    """Per command: does every untrusted role get only its organization's rows?
    `table` has `rls` and `policies` (name -> `Policy`), as the replay or the
    live catalog gives them."""
    judge = judge or Judge(catalog, model, table)
    policies = list(table.policies.values())
    verdicts = {}
    for command in POLICY_COMMANDS:
        verdict = CommandVerdict(command=command, scoped=True, rls=bool(table.rls))
        side_count = 2 if command == "update" else 1
        any_policy = False
        for role in untrusted_roles(policies, model):
            applying = [p for p in policies if _applies(p, role) and _sides(p, command)]
            sides = [_side(judge, applying, command, side) for side in range(side_count)]
            if any(leaks is None for leaks in sides):
                continue  # nothing gets through for this role (an UPDATE needs both sides)
            any_policy = True
            leaks = [leak for side_leaks in sides for leak in side_leaks]
            if leaks:
                verdict.scoped = False
                verdict.roles.append(role)
                verdict.leaks.extend(leak for leak in leaks if leak not in verdict.leaks)
        verdict.no_policy = not any_policy
        if not table.rls:
            verdict.scoped = False
        verdicts[command] = verdict
    return verdicts


def _side(judge: Judge, applying: list, command: str, side: int) -> list[Leak] | None:
    """One side (USING or WITH CHECK) of a command for one role: None when
    nothing gets through, else the leaks of the permissive policies (none
    when they all scope, or a restrictive policy does)."""
    permissive = [(p, *_sides(p, command)[side]) for p in applying if p.permissive]
    permissive = [(p, clause, e) for p, clause, e in permissive if e is not None and not _lets_nothing(e)]
    restrictive = [_sides(p, command)[side][1] for p in applying if not p.permissive]
    restrictive = [e for e in restrictive if e is not None]
    if not permissive or any(_lets_nothing(e) for e in restrictive):
        return None
    if any(judge.leaking_branch(e) is None for e in restrictive):
        return []
    leaks = []
    for policy, clause, expression in permissive:
        found = judge.leaking_branch(expression)
        if found is not None:
            leaks.append(Leak(policy.name, clause, found[0], found[1], expression.error is None))
    return leaks


def _lets_nothing(expression: PolicyExpr) -> bool:
    return expression.error is None and not expression.branches


def policy_leaks(table, catalog, model) -> list[tuple[object, list[str], list[Leak]]]:
    """(policy, commands it opens, its leaks) for each policy that lets other
    organizations' rows through, in name order."""
    judge = Judge(catalog, model, table)
    by_policy: dict[str, tuple[list[str], list[Leak]]] = {}
    for command, verdict in command_verdicts(table, catalog, model, judge).items():
        for leak in verdict.leaks:
            if not leak.readable:
                continue
            commands, leaks = by_policy.setdefault(leak.policy, ([], []))
            if command not in commands:
                commands.append(command)
            if leak not in leaks:
                leaks.append(leak)
    return [(table.policies[name], *by_policy[name]) for name in sorted(by_policy)]


def policy_verdicts(table, catalog, model) -> dict[str, tuple[str, list[str]]]:
    """Each policy's verdict by name, as `orgscope schema` gives it:
    ("leaks", the commands it lets other organizations' rows through for),
    ("trusted", []) when it applies to trusted roles only, else ("scoped", [])."""
    leaking = {policy.name: commands for policy, commands, _ in policy_leaks(table, catalog, model)}
    verdicts = {}
    for policy in table.policies.values():
        if policy.name in leaking:
            verdicts[policy.name] = ("leaks", leaking[policy.name])
        elif all(role in model.trusted_roles for role in policy.roles):
            verdicts[policy.name] = ("trusted", [])
        else:
            verdicts[policy.name] = ("scoped", [])
    return verdicts


def security_lines(table, catalog, model) -> list[str]:
    """What `orgscope schema` says about a table's row level security: on or
    off and where, then each policy with its command and verdict."""
    where = f" at {table.rls_changed_at}" if getattr(table, "rls_changed_at", None) else ""
    if table.rls:
        forced = ", forced" if table.rls_forced else ""
        lines = [f"row level security: on{forced} (enabled{where})"]
    else:
        lines = [f"row level security: off ({'disabled' + where if where else 'never enabled'})"]
    verdicts = policy_verdicts(table, catalog, model)
    for policy in sorted(table.policies.values(), key=lambda p: p.name):
        kind = "" if policy.permissive else " restrictive"
        roles = ", ".join(policy.roles)
        verdict, commands = verdicts[policy.name]
        if verdict == "leaks":
            verdict = "lets other organizations' rows through for " + ", ".join(c.upper() for c in commands)
        elif verdict == "trusted":
            verdict = "trusted roles only, not judged"
        created = f", {policy.changed_at}" if getattr(policy, "changed_at", None) else ""
        lines.append(f"policy {policy.name} ({policy.command.upper()}{kind}, to {roles}{created}): {verdict}")
    return lines


def rls_required(model, schema, project_has_supabase: bool) -> bool:
    """The pack's `rls` key: `required`, `off`, or `auto` (required when a
    migration enables row level security or creates a policy, or the project
    has a supabase/ folder)."""
    if model.rls == "off":
        return False
    if model.rls == "required":
        return True
    return project_has_supabase or schema.rls_used_at is not None


def org_filter_hint(model) -> str:
    """The policy expression orgscope suggests: the org of the request's JWT."""
    return f"{model.org_column} = (SELECT auth.jwt() ->> 'org_id')"
