"""The configuration as a fallback for what inference cannot see (SPEC section 10):
`orgscope init` writes what it inferred, `Class.method` in query_wrappers
matches instances of that class, a configured wrapper that matches no call is
a note."""

from __future__ import annotations

import json
import re

from conftest import cli, write_tree

SERVICE = '''
class DatabaseService:
    def select(self, table, filters=None):
        q = self.client.table(table).select("*")
        for key, value in (filters or {}).items():
            q = q.eq(key, value)
        return q.execute().data

    def select_mine(self, table, filters=None):
        q = self.client.table(table).select("*").eq("clerk_org_id", self.org_id)
        return q.match(filters or {}).execute().data
'''
ROUTES = '''
from app.db import DatabaseService

def by_id(agent_id):
    return DatabaseService().select("agents", {"id": agent_id})

def mine(agent_id):
    return DatabaseService().select_mine("agents", {"id": agent_id})
'''
# A layer orgscope cannot infer: the query is built by a helper it does not follow.
OPAQUE_SERVICE = '''
class DatabaseService:
    def select(self, table, filters=None):
        return run_query("select", table, filters)

class Menu:
    def select(self, table, filters=None):
        return None
'''
OPAQUE_ROUTES = '''
from app.db import DatabaseService, Menu

def by_id(agent_id):
    svc = DatabaseService()
    return svc.select("agents", {"id": agent_id})

def menu(agent_id):
    return Menu().select("agents", {"id": agent_id})
'''


def _findings(result) -> list[str]:
    data = json.loads(result.output)
    return sorted(f"{f['path']}:{f['line']} {f['code']}" for f in data["findings"])


def test_init_lists_the_inferred_wrappers_and_hand_run_folders(tmp_path):
    write_tree(tmp_path, {"app/db.py": SERVICE, "app/routes.py": ROUTES,
                          "database/scripts/backfill.sql": "UPDATE calls SET clerk_org_id = 'x';\n"})
    result = cli(tmp_path, "init")
    assert result.exit_code == 0, result.output
    text = (tmp_path / ".orgscope.yaml").read_text()
    assert '#   - {call: "DatabaseService.select", op: select, table: 0, filters: 1}  # app/db.py:3' in text
    assert "# app/db.py:9, adds the org filter itself" in text
    assert '# exclude: ["database/scripts/**"]' in text
    # Uncommented, the listed wrappers are a valid configuration with the same findings.
    before = _findings(cli(tmp_path, "check", "--format", "json"))
    (tmp_path / ".orgscope.yaml").write_text(re.sub(r"^# (query_wrappers:)|^#(   - )", r"\1\2", text, flags=re.M))
    after = cli(tmp_path, "check", "--format", "json")
    assert after.exit_code == 1, after.output
    assert _findings(after) == before == ["app/routes.py:5 ORG001", "database/scripts/backfill.sql:1 ORG001"]


def test_a_configured_class_method_matches_instances_of_that_class_only(tmp_path):
    write_tree(tmp_path, {"app/db.py": OPAQUE_SERVICE, "app/routes.py": OPAQUE_ROUTES})
    assert _findings(cli(tmp_path, "check", "--format", "json")) == []
    (tmp_path / ".orgscope.yaml").write_text(
        "query_wrappers:\n  - {call: DatabaseService.select, op: select, table: 0, filters: 1}\n"
    )
    assert _findings(cli(tmp_path, "check", "--format", "json")) == ["app/routes.py:6 ORG001"]


def test_a_configured_wrapper_that_matches_no_call_is_a_note(tmp_path):
    write_tree(tmp_path, {"app/db.py": OPAQUE_SERVICE, "app/routes.py": OPAQUE_ROUTES, ".orgscope.yaml": (
        "query_wrappers:\n  - {call: DatabaseService.select, op: select, table: 0, filters: 1}\n"
        "  - {call: DatabaseService.fetch_all, op: select, table: 0, filters: 1}\n")})
    result = cli(tmp_path, "check")
    assert "'DatabaseService.fetch_all' matches no call" in result.output
    assert "'DatabaseService.select' matches no call" not in result.output
