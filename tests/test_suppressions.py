"""SPEC section 7: inline suppressions, file-wide suppressions and ORG901."""

from __future__ import annotations



def brief(findings) -> list[tuple[str, int, int]]:
    return sorted((f.code, f.line, f.column) for f in findings)

UNSCOPED = "SELECT * FROM agents WHERE id = $1"


def test_sql_suppression_on_the_finding_line(lint):
    findings = lint({"q.sql": f"{UNSCOPED}; -- orgscope: ignore[ORG001] admin tool, reviewed\n"})
    assert findings == []


def test_suppression_on_the_first_line_of_a_multiline_statement(lint):
    sql = "SELECT * -- orgscope: ignore[ORG001]\nFROM agents\nWHERE id = $1;\n"
    assert lint({"q.sql": sql}) == []


def test_suppression_of_another_code_does_not_hide_the_finding_and_is_unused(lint):
    findings = lint({"q.sql": f"{UNSCOPED}; -- orgscope: ignore[ORG003]\n"})
    assert brief(findings) == [("ORG001", 1, 15), ("ORG901", 1, 37)]


def test_several_codes_in_one_comment(lint):
    sql = "SELECT * FROM agents WHERE client_id = $1; -- orgscope: ignore[ORG001, ORG003]\n"
    # ORG003 is suppressed; ORG001 was never reported, but the comment as a whole was used.
    assert lint({"q.sql": sql}) == []


def test_noqa_form_and_foreign_noqa_codes(lint):
    assert lint({"q.sql": f"{UNSCOPED}; -- noqa: ORG001\n"}) == []
    # Codes of other tools are neither suppressions nor unused.
    findings = lint({"r.sql": f"{UNSCOPED}; -- noqa: E501\n"})
    assert [f.code for f in findings if f.path == "r.sql"] == ["ORG001"]


def test_python_comment_form(lint):
    code = 'def get(cur, agent_id):\n    cur.execute("SELECT * FROM agents WHERE id = %s", (agent_id,))  # orgscope: ignore[ORG001]\n'
    findings = lint({"app/db.py": code})
    assert [f for f in findings if f.code != "ORG901"] == []


def test_unused_suppression_is_org901_at_the_comment(lint):
    findings = lint({"q.sql": "SELECT * FROM agents WHERE clerk_org_id = $1; -- orgscope: ignore[ORG001]\n"})
    assert brief(findings) == [("ORG901", 1, 47)]
    assert "ORG001" in findings[0].message


def test_ignore_file_in_leading_comments(lint):
    sql = "-- orgscope: ignore-file[ORG001] legacy export job\n\nSELECT * FROM agents;\nSELECT * FROM calls;\n"
    assert lint({"q.sql": sql}) == []


def test_ignore_file_after_code_is_not_file_wide(lint):
    sql = "SELECT * FROM agents;\n-- orgscope: ignore-file[ORG001]\nSELECT * FROM calls;\n"
    assert [f.code for f in lint({"q.sql": sql})] == ["ORG001", "ORG001"]


def test_unused_suppression_of_a_rule_not_selected_is_not_reported(lint):
    from orgscope.engine import Options

    sql = f"{UNSCOPED}; -- orgscope: ignore[ORG001]\n"
    findings = lint({"q.sql": sql}, options=Options(select=("ORG003", "ORG901"), use_cache=False))
    assert findings == []


def test_suppression_of_a_code_orgscope_does_not_have_is_unused(lint):
    findings = lint({"q.sql": "SELECT * FROM agents WHERE clerk_org_id = $1; -- orgscope: ignore[ORG010]\n"})
    assert [f.code for f in findings] == ["ORG901"]
