"""orgscope with no configuration on examples/supabase-service reports exactly
the planted findings (SPEC section 10).

The example reaches the database through its own DatabaseService, an admin
subclass, FastAPI dependencies, a module-level instance, a repository holding
the service as an attribute, a plain helper function, raw SQL, psycopg
composition and PostgREST over HTTP, beside plainly scoped controls. The
expectations in supabase_service_expected.txt were worked out by hand from the
specification; a difference means orgscope or the expectation is wrong.
"""

from __future__ import annotations

import re
from pathlib import Path

from orgscope.config import find_config, load_config
from orgscope.engine import run
from orgscope.rules import known_codes

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "supabase-service"
EXPECTED = Path(__file__).with_name("supabase_service_expected.txt")
LINE = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+):(?P<column>\d+): (?P<code>ORG\d{3})$")


def _expected() -> list[str]:
    return [line.strip() for line in EXPECTED.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_the_example_has_no_configuration():
    config = find_config(EXAMPLE)
    assert config is None or EXAMPLE not in config.parents, config


def test_every_planted_site_is_found_and_nothing_else():
    result = run([EXAMPLE], load_config(None, EXAMPLE, known_codes()))
    found = {f"{f.path}:{f.line}:{f.column}: {f.code}" for f in result.findings}
    expected = set(_expected())
    assert found == expected, f"missing: {sorted(expected - found)}\nunexpected: {sorted(found - expected)}"


def test_expected_findings_point_at_a_token_of_the_example():
    lines = _expected()
    assert lines == sorted(lines), "keep the file sorted"
    for entry in lines:
        match = LINE.match(entry)
        assert match and match["code"] in known_codes(), entry
        source = (EXAMPLE / match["path"]).read_text(encoding="utf-8").splitlines()
        line, column = int(match["line"]), int(match["column"])
        assert 1 <= line <= len(source) and source[line - 1][column - 1].isidentifier(), entry
