"""orgscope on the bundled example repository reports exactly the expected findings.

The expectations in demo_app_expected.txt (SQL migrations and query files) and
demo_app_expected_python.txt (the Python service layer under app/) were worked
out from the specification by hand; a difference means either orgscope or the
expectation is wrong, and must be looked at, never copied over.
"""

from __future__ import annotations

import re
from pathlib import Path

from orgscope.config import load_config
from orgscope.engine import run
from orgscope.rules import known_codes

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "examples" / "demo-app"
EXPECTED = Path(__file__).with_name("demo_app_expected.txt")
EXPECTED_PYTHON = Path(__file__).with_name("demo_app_expected_python.txt")
PYTHON_LAYER = "app/"
LINE = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+):(?P<column>\d+): (?P<code>ORG\d{3})$")


def _expected(path: Path) -> set[str]:
    return {line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}


def _demo_findings() -> set[str]:
    # The demo's own config, when it has one, is what `orgscope check` would use there.
    config_file = DEMO / ".orgscope.yaml"
    config = load_config(config_file if config_file.is_file() else None, DEMO, known_codes())
    result = run([DEMO], config)
    return {f"{f.path}:{f.line}:{f.column}: {f.code}" for f in result.findings}


def test_demo_app_findings_are_exactly_the_expected_ones():
    found = _demo_findings()
    expected = _expected(EXPECTED)
    if EXPECTED_PYTHON.is_file():
        expected |= _expected(EXPECTED_PYTHON)
    else:
        # The Python layer's expectations live in their own file; without it, judge the SQL only.
        found = {line for line in found if not line.startswith(PYTHON_LAYER)}
    missing = sorted(expected - found)
    unexpected = sorted(found - expected)
    assert not missing and not unexpected, f"missing: {missing}\nunexpected: {unexpected}"


def test_expected_findings_point_at_real_lines_of_the_demo():
    """Each expectation names an existing file, line and column, so a typo in the
    expectation cannot pass for a difference in orgscope."""
    lines = sorted(_expected(EXPECTED))
    assert lines, "demo_app_expected.txt is empty"
    keys = []
    for entry in lines:
        match = LINE.match(entry)
        assert match, f"not `path:line:col: CODE`: {entry!r}"
        assert match["code"] in known_codes()
        assert not match["path"].startswith(PYTHON_LAYER), f"{entry}: Python findings go in {EXPECTED_PYTHON.name}"
        source = (DEMO / match["path"]).read_text(encoding="utf-8").splitlines()
        line, column = int(match["line"]), int(match["column"])
        assert 1 <= line <= len(source) and 1 <= column <= len(source[line - 1]), entry
        keys.append((match["path"], line, column, match["code"]))
    written = [line.strip() for line in EXPECTED.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert [f"{p}:{l}:{c}: {code}" for p, l, c, code in sorted(keys)] == written, "keep the file sorted"
