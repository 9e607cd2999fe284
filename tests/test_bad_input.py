"""SPEC section 8: no file can crash or stop a run; each gets a finding or a note."""

from __future__ import annotations

from orgscope.config import Config
from orgscope.engine import Options, run

VIOLATION = {"queries/bad.sql": "SELECT * FROM agents WHERE id = $1;\n"}


def _run(tmp_path, **config):
    return run([tmp_path], Config(root=tmp_path, **config), Options(use_cache=False))


def _codes_by_path(result):
    out = {}
    for f in result.findings:
        out.setdefault(f.path, []).append(f.code)
    return out


def _write(tmp_path, files):
    for rel, content in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        (path.write_bytes if isinstance(content, bytes) else path.write_text)(content)


def test_binary_file_is_skipped_with_a_note_and_the_rest_is_checked(tmp_path):
    _write(tmp_path, {**VIOLATION, "queries/blob.sql": b"\x00\x01\x02agents\xff"})
    result = _run(tmp_path)
    assert _codes_by_path(result) == {"queries/bad.sql": ["ORG001"]}
    assert any("binary" in note.text and "queries/blob.sql" in note.text for note in result.notes)


def test_non_utf8_file_is_org900_and_its_query_still_judged(tmp_path):
    _write(tmp_path, {**VIOLATION, "queries/latin1.sql": "SELECT * FROM agents WHERE name = 'café';\n".encode("latin-1")})
    result = _run(tmp_path)
    codes = _codes_by_path(result)
    assert codes["queries/bad.sql"] == ["ORG001"]
    assert codes["queries/latin1.sql"] == ["ORG900", "ORG001"]
    assert "UTF-8" in next(f.message for f in result.findings if f.path == "queries/latin1.sql")


def test_empty_and_whitespace_files_are_clean(tmp_path):
    _write(tmp_path, {**VIOLATION, "queries/empty.sql": "", "queries/blank.sql": "\n\n  \n", "app/empty.py": ""})
    assert _codes_by_path(_run(tmp_path)) == {"queries/bad.sql": ["ORG001"]}


def test_file_over_the_size_bound_is_org900(tmp_path):
    _write(tmp_path, {**VIOLATION, "queries/huge.sql": "SELECT 1;\n" * 2000})
    result = _run(tmp_path, max_file_bytes=10_000)
    codes = _codes_by_path(result)
    assert codes["queries/huge.sql"] == ["ORG900"]
    assert "max_file_bytes" in next(f.message for f in result.findings if f.path == "queries/huge.sql")


def test_unparsable_sql_about_an_org_table_is_org900_and_other_statements_still_count(tmp_path):
    _write(tmp_path, {"queries/q.sql": "SELECT * FROM agents WHERE (( broken;\nSELECT * FROM calls WHERE id = $1;\n"})
    result = _run(tmp_path)
    assert sorted((f.code, f.line) for f in result.findings) == [("ORG001", 2), ("ORG900", 1)]


def test_unparsable_sql_that_names_no_org_table_is_not_a_finding(tmp_path):
    _write(tmp_path, {"queries/q.sql": "SELECT * FROM plans WHERE (( broken;\n"})
    assert _run(tmp_path).findings == []


def test_unterminated_string_does_not_hide_earlier_statements(tmp_path):
    _write(tmp_path, {"queries/q.sql": "SELECT * FROM agents WHERE id = $1;\nSELECT 'oops FROM calls;\n"})
    result = _run(tmp_path)
    assert ("ORG001", 1) in [(f.code, f.line) for f in result.findings]


def test_crlf_and_bom_keep_positions(tmp_path):
    _write(tmp_path, {"queries/q.sql": "\ufeffSELECT 1;\r\nSELECT * FROM agents WHERE id = $1;\r\n".encode("utf-8")})
    result = _run(tmp_path)
    assert [(f.code, f.line, f.column) for f in result.findings] == [("ORG001", 2, 15)]


def test_directory_named_like_a_sql_file_is_walked_not_read(tmp_path):
    _write(tmp_path, {"x.sql/inner.sql": "SELECT * FROM agents WHERE id = $1;\n"})
    result = _run(tmp_path)
    assert [(f.path, f.code) for f in result.findings] == [("x.sql/inner.sql", "ORG001")]


def test_symlink_loop_does_not_hang(tmp_path):
    _write(tmp_path, VIOLATION)
    (tmp_path / "queries" / "loop").symlink_to(tmp_path, target_is_directory=True)
    result = _run(tmp_path)
    assert _codes_by_path(result) == {"queries/bad.sql": ["ORG001"]}


def test_prefilter_matches_whole_names_only(tmp_path):
    # `functools` and `recalls` do not name the org tables tools and calls, but
    # `AGENTS_TABLE` and `list_agents` name agents.
    from orgscope.model import mentions

    words = frozenset({"tools", "calls", "agents"})
    assert not mentions("import functools, itertools\n# recalls the past\n", words)
    assert mentions("AGENTS_TABLE = 'x'\n", words)
    assert mentions("def list_agents(): ...\n", words)
    assert mentions('sql = "SELECT * FROM public.Agents"', words)


def test_model_class_names_match_in_their_own_case_only():
    from orgscope.model import mentions

    names = frozenset({"Call", "Agent"})
    assert mentions("stmt = select(Call).where(Call.id == x)\n", frozenset({"agents"}), names)
    assert not mentions("# call the API, then call it again\n", frozenset({"agents"}), names)
