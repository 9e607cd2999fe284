"""Python files through the whole engine: the findings a user sees, where they see them.

The `lint` fixture writes each file dedented but with its leading newline, so
the first line of code in a file is line 2.
"""

from __future__ import annotations


def brief(findings) -> list[tuple[str, str, int, int]]:
    return sorted((f.path, f.code, f.line, f.column) for f in findings)


def test_raw_sql_findings_land_on_the_table_inside_the_python_string(lint):
    findings = lint(
        {
            "app/db.py": '''
                def load(cur, agent_id, where):
                    cur.execute(
                        "SELECT id "
                        "FROM agents WHERE id = %s",
                        (agent_id,),
                    )
                    cur.execute(f"SELECT * FROM calls {where}")
                    cur.execute("INSERT INTO voices (name, client_id) VALUES (%s, %s)")
            ''',
        }
    )
    assert brief(findings) == [
        ("app/db.py", "ORG001", 5, 15),
        ("app/db.py", "ORG003", 9, 44),
        ("app/db.py", "ORG005", 9, 30),
        ("app/db.py", "ORG900", 8, 33),
    ]


def test_orm_model_defined_in_another_file(lint):
    findings = lint(
        {
            "app/models.py": '''
                from sqlalchemy.orm import DeclarativeBase

                class Base(DeclarativeBase):
                    pass

                class Agent(Base):
                    __tablename__ = "agents"
            ''',
            "app/repo.py": '''
                from sqlalchemy import select
                from app.models import Agent as A

                async def get(session, pk, org):
                    await session.get(A, pk)
                    await session.execute(select(A).where(A.clerk_org_id == org))
                    await session.execute(select(A).where(A.client_id == 1))
            ''',
        }
    )
    assert brief(findings) == [("app/repo.py", "ORG001", 6, 23), ("app/repo.py", "ORG003", 8, 45)]


def test_conditional_supabase_filter_is_org001_with_a_conditional_message(lint):
    findings = lint(
        {
            "svc.py": '''
                def calls(sb, org_id):
                    q = sb.table("calls").select("*")
                    if org_id:
                        q = q.eq("clerk_org_id", org_id)
                    return q.execute()

                def guarded(sb, org_id):
                    if not org_id:
                        raise PermissionError("no org")
                    q = sb.table("calls").select("*")
                    if org_id:
                        q = q.eq("clerk_org_id", org_id)
                    return q.execute()
            ''',
        }
    )
    (finding,) = findings
    assert (finding.code, finding.line, finding.column) == ("ORG001", 3, 19)
    assert "conditional" in finding.message


def test_suppression_on_the_first_line_of_the_python_statement(lint):
    findings = lint(
        {
            "svc.py": '''
                def report(cur):
                    cur.execute(  # orgscope: ignore[ORG001] cross-organization report for staff
                        """
                        SELECT count(*)
                          FROM agents
                        """
                    )
            ''',
        }
    )
    assert findings == []


def test_unparsable_python_mentioning_an_org_table_is_org900(lint):
    findings = lint({"legacy.py": 'print "SELECT * FROM agents"\n'})
    assert brief(findings) == [("legacy.py", "ORG900", 1, 1)]


def test_wrappers_and_helpers_from_the_config(lint):
    from orgscope.context import QueryWrapper

    findings = lint(
        {
            "repo.py": '''
                def find(db, org):
                    filters = {"id": 1}
                    filters["clerk_org_id"] = org
                    db.select("agents", filters)
                    db.select("voices", {"client_id": 3})
                    db.insert("calls", {"agent_id": 1})
                    scoped(sb.table("tools").select("*"), org).execute()
            ''',
        },
        query_wrappers=(
            QueryWrapper(call="select", op="select", table=0, filters=1),
            QueryWrapper(call="insert", op="insert", table=0, payload=1),
        ),
        scoping_helpers=("scoped",),
    )
    assert brief(findings) == [("repo.py", "ORG003", 6, 27), ("repo.py", "ORG005", 7, 16)]


def test_org006_only_judges_tenancy_columns(lint):
    # `status` is not a column of the tenancy model: whether voices has it is
    # not orgscope's business, even when the migrations say it does not.
    findings = lint({
        "migrations/001_voices.sql": "CREATE TABLE voices (id uuid PRIMARY KEY, clerk_org_id text);\n"
                                     "CREATE INDEX idx_voices_clerk_org_id ON voices (clerk_org_id);\n",
        "app/voices.py": 'def active(sb, org):\n'
                         '    return sb.table("voices").select("*").eq("clerk_org_id", org).eq("status", "on").execute()\n',
    })
    assert [f.code for f in findings] == []
