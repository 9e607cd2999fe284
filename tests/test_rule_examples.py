"""The rule documents (rules/<CODE>.yaml) are complete, and their examples hold.

Every bad example is a tiny repository on which orgscope must report exactly
the example's rule at exactly the listed positions and nothing else; every good
example must come out clean. The examples are what `orgscope rule CODE` shows,
so a wrong one would teach users the wrong thing.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

import pytest
import yaml

from orgscope.config import SEVERITIES, Config, load_config
from orgscope.engine import run
from orgscope.model import bundled_rules_dir, load_pack
from orgscope.rules import RULES, known_codes, rule_docs

REPO = Path(__file__).resolve().parents[1]
RULES_DIR = bundled_rules_dir()
DOCUMENT_KEYS = {"code", "name", "severity", "summary", "why", "fix", "notes", "options", "bad", "good"}
OPTION_KEYS = {"name", "description", "default"}
KEBAB_CASE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
REFERENCE_DOCS = REPO / "README.md"


def _raw_documents() -> dict[str, dict]:
    return {
        code: yaml.safe_load((RULES_DIR / f"{code}.yaml").read_text(encoding="utf-8")) for code in RULES
    }


RAW = _raw_documents()


def _examples() -> list:
    params = []
    for code, document in RAW.items():
        for kind in ("bad", "good"):
            for number, example in enumerate(document.get(kind) or [], start=1):
                params.append(pytest.param(code, kind, example, id=f"{code}-{kind}-{number}"))
    return params


def _write_repository(root: Path, files: dict[str, str]) -> None:
    for rel, content in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")


def _expected_positions(code: str, example: dict) -> list[tuple[str, int, int, str]]:
    """`expect` entries are [line, column], or [line, column, path] when the
    example has several files."""
    files = list(example["files"])
    expected = []
    for entry in example["expect"]:
        line, column, *rest = entry
        path = rest[0] if rest else files[0]
        expected.append((path, line, column, code))
    return sorted(expected)


# --- the documents --------------------------------------------------------------------------------


def test_every_rule_has_a_document_named_after_its_code():
    documented = {path.stem for path in RULES_DIR.glob("ORG*.yaml")}
    assert documented == set(RULES)
    for code, document in RAW.items():
        assert document["code"] == code


@pytest.mark.parametrize("code", list(RULES))
def test_document_has_exactly_the_schema_keys(code):
    document = RAW[code]
    assert set(document) == DOCUMENT_KEYS, f"{code}: keys differ by {set(document) ^ DOCUMENT_KEYS}"
    assert document["severity"] in SEVERITIES
    assert KEBAB_CASE.match(document["name"]), document["name"]
    for key in ("summary", "why", "fix", "notes"):
        assert isinstance(document[key], str) and document[key].strip(), f"{code}: {key} is empty"
    summary = document["summary"].strip()
    assert "\n" not in summary and summary.endswith("."), f"{code}: the summary must be one sentence"
    assert isinstance(document["options"], list)
    for option in document["options"]:
        assert set(option) == OPTION_KEYS, f"{code}: option keys {sorted(option)}"
        assert option["name"] and option["description"].strip()


@pytest.mark.parametrize("code", list(RULES))
def test_document_teaches_with_several_bad_and_good_examples(code):
    document = RAW[code]
    assert len(document["bad"]) >= 3 and len(document["good"]) >= 3
    for kind in ("bad", "good"):
        for example in document[kind]:
            assert example["description"].strip()
            assert example["files"], "an example needs at least one file"
            for rel, content in example["files"].items():
                pure = PurePosixPath(rel)
                assert not pure.is_absolute() and ".." not in pure.parts, rel
                assert isinstance(content, str) and content.strip(), rel
            if kind == "good":
                assert "expect" not in example, "a good example expects no finding"
                continue
            assert example["expect"], "a bad example lists where its findings are"
            for entry in example["expect"]:
                assert len(entry) in (2, 3) and all(isinstance(n, int) and n >= 1 for n in entry[:2]), entry
                if len(example["files"]) > 1:
                    assert len(entry) == 3 and entry[2] in example["files"], (
                        f"{entry}: an example with several files names the file of each finding"
                    )


def test_names_are_unique():
    names = [document["name"] for document in RAW.values()]
    assert len(names) == len(set(names))


def test_loader_reads_the_documents():
    docs = rule_docs()
    for code, document in RAW.items():
        assert docs[code].name == document["name"]
        assert docs[code].summary == document["summary"].strip()
        assert len(docs[code].bad) == len(document["bad"])


# --- the examples -----------------------------------------------------------------------------------


@pytest.mark.parametrize("code, kind, example", _examples())
def test_example(tmp_path, code, kind, example):
    _write_repository(tmp_path, example["files"])
    result = run([tmp_path], Config(root=tmp_path))
    found = sorted((f.path, f.line, f.column, f.code) for f in result.findings)
    details = "\n".join(f"{f.path}:{f.line}:{f.column}: {f.code} {f.message}" for f in result.findings)
    if kind == "good":
        assert found == [], f"{example['description']}: expected no finding, got\n{details}"
    else:
        assert found == _expected_positions(code, example), f"{example['description']}: got\n{details}"


# --- the rules table of the README --------------------------------------------------------------------


def _rules_table(markdown: str) -> dict[str, list[str]] | None:
    """code -> cells of the table under the `## Rules` heading (None without one)."""
    match = re.search(r"^## Rules[ \t]*$(?P<body>.*?)(?=^## |\Z)", markdown, re.MULTILINE | re.DOTALL)
    if match is None:
        return None
    rows = {}
    for line in match.group("body").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.lstrip().startswith("|") and re.fullmatch(r"ORG\d{3}", cells[0]):
            rows[cells[0]] = cells
    return rows


def _assert_table_matches_documents(rows: dict[str, list[str]], where: str) -> None:
    assert set(rows) == set(RULES), f"{where}: the rules table lists {sorted(rows)}"
    for code, document in RAW.items():
        expected = [code, document["name"], document["severity"], document["summary"].strip()]
        assert rows[code] == expected, f"{where}: the row of {code} differs from rules/{code}.yaml"


def test_readme_rules_table_matches_the_documents():
    rows = _rules_table(REFERENCE_DOCS.read_text(encoding="utf-8"))
    assert rows is not None, "README.md has no '## Rules' section"
    _assert_table_matches_documents(rows, "README.md")


# --- the configuration and rule pack examples of the reference ----------------------------------------


def _fenced_blocks(markdown: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", markdown, re.MULTILINE | re.DOTALL)


REFERENCE = REFERENCE_DOCS.read_text(encoding="utf-8")
PACK_EXAMPLE = next(block for block in _fenced_blocks(REFERENCE, "yaml") if "org_column:" in block)
YAML_CONFIG_EXAMPLE = next(block for block in _fenced_blocks(REFERENCE, "yaml") if "rule_pack:" in block)
TOML_CONFIG_EXAMPLE = _fenced_blocks(REFERENCE, "toml")[0]


def test_reference_config_examples_load_and_say_the_same(tmp_path):
    toml_root, yaml_root = tmp_path / "toml", tmp_path / "yaml"
    configs = []
    for root, name, text in ((toml_root, "pyproject.toml", TOML_CONFIG_EXAMPLE),
                             (yaml_root, ".orgscope.yaml", YAML_CONFIG_EXAMPLE)):
        _write_repository(root, {name: text, "tenancy/pack.yaml": PACK_EXAMPLE})
        configs.append(load_config(root / name, root, known_codes()))
    from_toml, from_yaml = configs
    for config in configs:
        assert config.ignore == ("ORG006",)
        assert config.severity == {"ORG900": "error"}
        assert [wrapper.op for wrapper in config.query_wrappers] == ["select", "insert"]
        assert config.load_model().org_column == "tenant_id"
    for key in ("migrations", "exclude", "select", "ignore", "severity", "query_wrappers", "scoping_helpers",
                "fail_on"):
        assert getattr(from_toml, key) == getattr(from_yaml, key), key


def test_reference_rule_pack_example_checks_what_the_text_says(tmp_path):
    _write_repository(tmp_path, {
        "tenancy/pack.yaml": PACK_EXAMPLE,
        "queries/documents.sql": "SELECT * FROM documents WHERE id = $1;\n",
        "queries/projects.sql": "SELECT * FROM projects WHERE account_id = $1;\n",
        "queries/invoices.sql": "SELECT * FROM billing.invoices WHERE id = $1;\n"
                                "SELECT * FROM archive.invoices WHERE id = $1;\n",
        "queries/accounts.sql": "SELECT id FROM accounts WHERE tenant_id = $1;\n",
    })
    model = load_pack(tmp_path / "tenancy" / "pack.yaml")
    assert model.is_org_table("invoices", "billing") and not model.is_org_table("invoices", "archive")
    result = run([tmp_path / "queries"], Config(root=tmp_path, rule_pack=tmp_path / "tenancy" / "pack.yaml"))
    found = sorted((f.path, f.line, f.column, f.code) for f in result.findings)
    assert found == [
        ("queries/accounts.sql", 1, 31, "ORG006"),
        ("queries/documents.sql", 1, 15, "ORG001"),
        ("queries/invoices.sql", 1, 23, "ORG001"),
        ("queries/projects.sql", 1, 30, "ORG003"),
    ]
