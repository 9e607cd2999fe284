"""One bad part hides nothing else (SPEC section 8): a file that is not valid
UTF-8 is analysed with the undecodable bytes replaced (and an ORG900 note
saying so), and a statement that does not parse, even one whose quote or
comment never closes, leaves the statements after it to be judged."""

from __future__ import annotations

import pytest

from orgscope.config import Config
from orgscope.engine import Options, run

MIGRATION = b"CREATE TABLE agents (id int, clerk_org_id text);\nCREATE INDEX ON agents (clerk_org_id);\n"

# file -> (bytes, [(line, code)] expected in that file)
CASES = {
    "Latin-1 byte in a SQL comment": (
        "q.sql", b"-- caf\xe9\nSELECT * FROM agents WHERE id = $1;\n", [(1, "ORG900"), (2, "ORG001")]),
    "Latin-1 byte in a SQL string": (
        "q.sql", b"SELECT * FROM agents WHERE name = 'caf\xe9';\n", [(1, "ORG900"), (1, "ORG001")]),
    "Latin-1 byte in a Python comment": (
        "q.py", b'# caf\xe9\ndef f(db):\n    return db.execute("SELECT * FROM agents WHERE id = %s", (1,))\n',
        [(1, "ORG900"), (3, "ORG001")]),
    "control: Latin-1 byte, scoped query": (
        "q.sql", b"-- caf\xe9\nSELECT * FROM agents WHERE clerk_org_id = $1;\n", [(1, "ORG900")]),
    "control: a real U+FFFD is text, not a decoding problem": (
        "q.sql", "-- caf\ufffd\nSELECT * FROM agents WHERE id = $1;\n".encode(), [(2, "ORG001")]),
    "syntax error, then a statement": (
        "q.sql", b"SELECT * FROM agents WHERE (( id = 1;\nSELECT * FROM agents WHERE id = 2;\n",
        [(1, "ORG900"), (2, "ORG001")]),
    "unterminated string, then a statement": (
        "q.sql", b"SELECT 'oops FROM agents WHERE id = 1;\nSELECT * FROM agents WHERE id = 2;\n",
        [(1, "ORG900"), (2, "ORG001")]),
    "unterminated dollar quote, then a statement": (
        "q.sql", b"SELECT $$ FROM agents WHERE id = 1;\nDELETE FROM agents WHERE id = 2;\n",
        [(1, "ORG900"), (2, "ORG001")]),
    "unterminated block comment, then a statement": (
        "q.sql", b"SELECT * FROM agents WHERE id = 1 /* unclosed;\nUPDATE agents SET name = 'x' WHERE id = 2;\n",
        [(1, "ORG900"), (2, "ORG001")]),
    "control: a closed multi-line string holds its semicolon": (
        "q.sql", b"SELECT * FROM agents WHERE clerk_org_id = $1 AND note = 'a;\nb';\n", []),
}


@pytest.mark.parametrize("name, data, expected", list(CASES.values()), ids=list(CASES))
def test_one_bad_part_hides_nothing_else(tmp_path, name, data, expected):
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "001.sql").write_bytes(MIGRATION)
    (tmp_path / name).write_bytes(data)
    result = run([tmp_path], Config(root=tmp_path), Options(use_cache=False, jobs=1))
    assert sorted((f.line, f.code) for f in result.findings if f.path == name) == sorted(expected)
    for finding in result.findings:
        if finding.code == "ORG900" and "UTF-8" in finding.message:
            assert "the rest analysed" in finding.message
