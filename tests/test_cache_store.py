"""The cache is many small files, so that a run loads and rewrites only what
it touches: scans.json (what the catalog phase read from every Python file),
facts/catalog.json (the facts every run needs: migrations, models) and
facts/<xx>.json (the other files' facts, by a hash of the path).

A pre-commit run on a few files must rewrite only the shards of those files,
a damaged file must cost only its own entries, and a run over the whole
project must still drop what it no longer has. The findings are always those
of a run without a cache.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from orgscope import cache, workers
from orgscope.cache import CATALOG_SHARD, FACTS_FOLDER, SCANS_FILE, shard_of_path
from orgscope.config import Config
from orgscope.engine import Options, run
from conftest import cli, store_files, write_tree
from test_stat_memo import PROJECT as MEMO_PROJECT

CACHE = ".orgscope_cache"
# The stat-memo tests' project (a migration, models, an ORM query, raw SQL, a
# module that names nothing), with more modules so that it spreads over shards.
PROJECT = {
    **MEMO_PROJECT,
    "app/billing.py": """\
        def agents(cur, org):
            cur.execute("SELECT * FROM agents WHERE clerk_org_id = %s", (org,))
        """,
    "app/more/helpers.py": "def noop():\n    return None\n",
    "queries/leak.sql": "SELECT * FROM calls WHERE id = $1;\n",
}
CATALOG = {"migrations/001_init.sql", "app/models.py"}  # the files the catalog phase extracts


@pytest.fixture(autouse=True)
def settled_at_once(monkeypatch):
    # Files written by the test are remembered at once (see test_stat_memo).
    monkeypatch.setattr(workers, "_SETTLED_NS", -1)


def _findings(root: Path, *paths: str, use_cache: bool = True) -> list[tuple]:
    """The findings of `orgscope check [PATHS]` in `root`."""
    config = Config(root=root, cache_dir=CACHE if use_cache else None)
    result = run([root / p for p in paths], config, Options(use_cache=use_cache, jobs=1))
    return [(f.path, f.line, f.column, f.code, f.message) for f in result.findings]


def _store_file(what: str) -> str:
    """"scans", "catalog" or "shard:<path>": the store file that holds it."""
    if what == "scans":
        return SCANS_FILE
    if what == "catalog":
        return f"{FACTS_FOLDER}/{CATALOG_SHARD}.json"
    return f"{FACTS_FOLDER}/{shard_of_path(what.removeprefix('shard:'))}.json"


def _append(rel: str, text: str):
    def edit(root: Path) -> None:
        with (root / rel).open("a") as handle:
            handle.write(text)
    return edit


def _delete(rel: str):
    return lambda root: (root / rel).unlink()


def _add(rel: str, text: str):
    return lambda root: (root / rel).write_text(text)


EDITS = {
    "nothing": lambda root: None,
    "app/raw.py edited": _append("app/raw.py", "# reviewed\n"),
    "a migration edited": _append("migrations/001_init.sql", "CREATE INDEX idx_calls_org ON calls (clerk_org_id);\n"),
    "app/util.py deleted": _delete("app/util.py"),
    "app/new.py added": _add("app/new.py", 'def f(cur):\n    cur.execute("DELETE FROM calls WHERE id = 1")\n'),
}

# (edit, the paths checked (none: the whole project), the store files that run must rewrite or remove)
REWRITES = [
    ("nothing", [], set()),
    ("nothing", ["app/raw.py"], set()),
    ("app/raw.py edited", ["app/raw.py"], {"shard:app/raw.py", "scans"}),
    ("app/raw.py edited", [], {"shard:app/raw.py", "scans"}),
    ("a migration edited", ["app/raw.py"], {"catalog"}),
    ("a migration edited", [], {"catalog"}),
    ("app/util.py deleted", ["app/raw.py"], set()),  # a partial run keeps what it did not see
    ("app/util.py deleted", ["app"], set()),  # a sub-folder is no complete run either
    ("app/util.py deleted", [], {"shard:app/util.py", "scans"}),  # a complete one drops it
    ("app/util.py deleted", ["."], {"shard:app/util.py", "scans"}),  # so does one on the root folder
    ("app/new.py added", ["app/new.py"], {"shard:app/new.py", "scans"}),
]


@pytest.mark.parametrize(("edit", "paths", "rewritten"), REWRITES,
                         ids=[f"{edit}, {' '.join(paths) or 'whole project'}" for edit, paths, _ in REWRITES])
def test_a_run_rewrites_only_the_store_files_it_changed(tmp_path, monkeypatch, edit, paths, rewritten):
    write_tree(tmp_path, PROJECT)
    _findings(tmp_path)
    folder = tmp_path / CACHE
    assert _findings(tmp_path) == _findings(tmp_path, use_cache=False)  # warm
    before = set(store_files(folder))
    assert len(before) >= 6, "the project's files should spread over several shards"
    # Every write of the store goes through write_atomic: count them (a
    # file's mtime and inode may well come back the same on a fast rewrite).
    written = []
    real = cache.write_atomic
    monkeypatch.setattr(cache, "write_atomic", lambda path, *a, **k: written.append(path) or real(path, *a, **k))
    EDITS[edit](tmp_path)
    assert _findings(tmp_path, *paths) == _findings(tmp_path, *paths, use_cache=False)
    changed = {path.relative_to(folder).as_posix() for path in written} | (before ^ set(store_files(folder)))
    assert changed == {_store_file(what) for what in rewritten}


def _garbage(path: Path) -> None:
    path.write_bytes(b"\x00\xff not json")


def _truncated(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:40])


def _old_version(path: Path) -> None:
    path.write_text(json.dumps({**json.loads(path.read_bytes()), "version": "0.0.1"}))


DAMAGE = {"garbage": _garbage, "truncated": _truncated, "another version": _old_version}
PYTHON = {rel for rel in PROJECT if rel.endswith(".py")}
# The damaged file -> the files a run must read again (everything else comes from the cache).
REREAD = {
    "shard:app/raw.py": {rel for rel in PROJECT if rel not in CATALOG and shard_of_path(rel) == shard_of_path(
        "app/raw.py")},
    "catalog": CATALOG,
    "scans": PYTHON,  # what the catalog phase read from them; their facts are still remembered
}


@pytest.mark.parametrize("damage", list(DAMAGE))
@pytest.mark.parametrize("damaged", list(REREAD))
def test_a_damaged_store_file_costs_only_its_own_entries(tmp_path, monkeypatch, damaged, damage):
    write_tree(tmp_path, PROJECT)
    expected = _findings(tmp_path, use_cache=False)
    assert _findings(tmp_path) == expected
    DAMAGE[damage](tmp_path / CACHE / _store_file(damaged))
    read = []
    real = workers.read_source
    monkeypatch.setattr(workers, "read_source", lambda source, config: read.append(source.rel) or real(source, config))
    assert _findings(tmp_path) == expected
    assert set(read) == REREAD[damaged]
    read.clear()
    assert _findings(tmp_path) == expected
    assert read == [], "the damaged file was not rebuilt"


def _remembered(folder: Path) -> tuple[set[str], dict[str, int], dict[str, int], set[str]]:
    """(paths with a results memo, memo entries per shard, facts entries per shard, paths with a scan)."""
    results, memos, entries = set(), {}, {}
    for name, path in store_files(folder).items():
        payload = json.loads(path.read_bytes())
        if name == SCANS_FILE:
            scans = set(payload["files"])
            continue
        results |= set(payload["results"])
        memos[name], entries[name] = len(payload["results"]), len(payload["entries"])
    return results, memos, entries, scans


def _alone_in_its_shard(rels) -> str:
    """A module name whose shard holds no other file of the project."""
    taken = {shard_of_path(rel) for rel in rels}
    return next(f"app/gone_{n}.py" for n in range(1000) if shard_of_path(f"app/gone_{n}.py") not in taken)


def test_a_complete_run_keeps_only_what_the_project_has(tmp_path):
    gone = _alone_in_its_shard(PROJECT)
    write_tree(tmp_path, {**PROJECT, gone: "def gone():\n    return 1\n"})
    folder = tmp_path / CACHE
    _findings(tmp_path)
    results, memos, entries, scans = _remembered(folder)
    assert results == set(PROJECT) | {gone} and scans == PYTHON | {gone}
    assert _store_file(f"shard:{gone}") in store_files(folder)

    # A partial run keeps what it did not see, and the facts of both versions of an edited file.
    (tmp_path / gone).unlink()
    for round_ in range(3):
        _append("app/raw.py", f"# round {round_}\n")(tmp_path)
        _findings(tmp_path, "app/raw.py")
    results, _, entries, scans = _remembered(folder)
    assert gone in results and gone in scans
    assert entries[_store_file("shard:app/raw.py")] > memos[_store_file("shard:app/raw.py")]

    # A complete run drops all of that: one facts entry per remembered path, and
    # the shard that only held the deleted file is gone.
    assert _findings(tmp_path) == _findings(tmp_path, use_cache=False)
    results, memos, entries, scans = _remembered(folder)
    assert results == set(PROJECT) and scans == PYTHON
    assert entries == memos
    assert _store_file(f"shard:{gone}") not in store_files(folder)
    assert sorted(os.listdir(folder)) == [".gitignore", FACTS_FOLDER, SCANS_FILE]


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args], cwd=root, check=True,
                   capture_output=True)


def test_the_merge_base_run_of_diff_base_drops_nothing_of_the_work_trees_cache(tmp_path, monkeypatch):
    # --diff-base checks the merge-base too, in a temporary tree, through the
    # same cache: that run covers a whole tree, but not this one.
    write_tree(tmp_path, PROJECT)
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-q", "-m", "base")
    # The merge-base's files are unpacked just before its run, so their stat
    # signature is never remembered (the ctime is now); the work tree's are.
    work_tree = {(tmp_path / rel).stat().st_ino for rel in PROJECT}
    monkeypatch.setattr(workers, "_settled", lambda signature: signature[1] in work_tree)
    # A new finding on a changed line, so that the merge-base is checked.
    _append("app/raw.py", 'def more(cur):\n    cur.execute("SELECT * FROM agents WHERE id = 1")\n')(tmp_path)

    def check(*args: str) -> list:
        done = cli(tmp_path, "check", "--cache-dir", CACHE, "--format", "json", *args)
        assert done.exit_code in (0, 1), done.output
        return json.loads(done.output)["findings"]

    warm = check(".")
    assert warm
    read = []
    real = workers.read_source
    monkeypatch.setattr(workers, "read_source", lambda source, config: read.append(source.rel) or real(source, config))
    assert check(".") == warm
    assert read == []  # control: a warm run reads nothing
    assert [f["path"] for f in check("--diff-base", "HEAD", ".")] == ["app/raw.py"]
    read.clear()
    assert check(".") == warm
    assert read == [], "the merge-base run dropped the work tree's memo"
