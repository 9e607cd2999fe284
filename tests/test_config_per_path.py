"""The configuration is found from each checked path (SPEC section 9):
`orgscope check backend` from the repository root uses backend's config,
pre-commit (which passes paths from the root) sees a sub-folder's config, and
two projects in one run are each judged with their own config and catalog."""

from __future__ import annotations

import pytest

from conftest import cli, write_tree

# Project `tenants`: its own pack (org table projects, org column tenant_id).
# Project `clerk`: the bundled pack (org table agents, org column clerk_org_id).
TREE = {
    "tenants/.orgscope.yaml": "rule_pack: pack.yaml\n",
    "tenants/pack.yaml": "name: tenants\norg_column: tenant_id\norg_tables: [projects]\n",
    "tenants/migrations/001.sql": "CREATE TABLE projects (id int, tenant_id text);\n"
                                  "CREATE INDEX ON projects (tenant_id);\n",
    "tenants/q.sql": "SELECT * FROM projects WHERE id = $1;\nSELECT * FROM agents WHERE id = $1;\n",
    "clerk/.orgscope.yaml": "ignore: [ORG002]\n",
    "clerk/migrations/001.sql": "CREATE TABLE agents (id int, clerk_org_id text);\n",  # no org index: ignored
    "clerk/q.sql": "SELECT * FROM projects WHERE id = $1;\nSELECT * FROM agents WHERE id = $1;\n",
}
TENANTS_Q = "1:15: ORG001"  # projects, by the tenants pack
CLERK_Q = "2:15: ORG001"  # agents, by the bundled pack

CASES = [
    # (folder the command runs in, paths, expected `path:line:col: CODE`)
    (".", ["tenants"], [f"q.sql:{TENANTS_Q}"]),
    (".", ["clerk"], [f"q.sql:{CLERK_Q}"]),
    (".", ["clerk/q.sql"], [f"q.sql:{CLERK_Q}"]),  # pre-commit passes files from the root
    (".", ["tenants/q.sql", "clerk/q.sql"], [f"clerk/q.sql:{CLERK_Q}", f"tenants/q.sql:{TENANTS_Q}"]),
    (".", ["tenants", "clerk"], [f"clerk/q.sql:{CLERK_Q}", f"tenants/q.sql:{TENANTS_Q}"]),
    ("tenants", [], [f"q.sql:{TENANTS_Q}"]),
    ("tenants", ["../clerk"], [f"q.sql:{CLERK_Q}"]),
]


def _found(stdout: str) -> list[str]:
    return [line.split(" [")[0] for line in stdout.splitlines() if " [" in line]


@pytest.mark.parametrize("where, paths, expected", CASES)
def test_each_path_is_judged_with_the_config_above_it(tmp_path, where, paths, expected):
    write_tree(tmp_path, TREE)
    result = cli(tmp_path / where, "check", "--no-cache", "--format", "concise", *paths)
    assert _found(result.output) == expected, result.output
    assert result.exit_code == 1


def test_an_explicit_config_governs_every_path(tmp_path):
    write_tree(tmp_path, TREE)
    result = cli(tmp_path, "check", "--no-cache", "--format", "concise", "--config", "clerk/.orgscope.yaml",
                 "tenants/q.sql", "clerk/q.sql")
    assert _found(result.output) == [f"../tenants/q.sql:{CLERK_Q}", f"q.sql:{CLERK_Q}"], result.output


def test_without_a_config_paths_are_relative_to_the_git_top_level(tmp_path):
    write_tree(tmp_path, {"app/q.sql": "SELECT * FROM agents WHERE id = $1;\n"})
    (tmp_path / ".git").mkdir()
    result = cli(tmp_path / "app", "check", "--no-cache", "--format", "concise")
    assert _found(result.output) == ["app/q.sql:1:15: ORG001"], result.output
