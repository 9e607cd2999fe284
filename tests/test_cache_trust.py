"""The facts cache is plain data that orgscope never trusts blindly (SPEC section 8).

A pull request controls every file in the work tree, the cache folder
included. Nothing in it may run code (the cache is JSON, never a pickle), a
cache that does not validate is ignored and rebuilt with the same findings,
and a cache file that git tracks is never read at all: those facts would come
from the pull request, not from an earlier run.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from orgscope import __version__
from orgscope.cache import CATALOG_SHARD, FACTS_FOLDER, SCANS_FILE, default_cache_folder, shard_of_path
from orgscope.config import Config
from orgscope.engine import Options, run
from conftest import store_files

QUERY = "queries/sibling.sql"
FILES = {
    QUERY: "SELECT * FROM agents WHERE id = $1;\n",
    "queries/scoped.sql": "SELECT * FROM agents WHERE clerk_org_id = $1;\n",  # the control: no finding
    "migrations/001_agents.sql": "CREATE TABLE agents (id uuid PRIMARY KEY, clerk_org_id text);\n",
    "app/q.py": 'def f(db):\n    return db.execute("SELECT * FROM calls WHERE id = %s", (1,))\n',
}
EXPECTED = {(QUERY, "ORG001"), ("app/q.py", "ORG001"), ("migrations/001_agents.sql", "ORG002")}
IN_TREE = ".orgscope_cache"
# Every file name a cache of orgscope has had or has: the old single file,
# the scans memo, the catalog's facts and each shard of the other files' facts.
STORE_NAMES = ["facts.json", SCANS_FILE, f"{FACTS_FOLDER}/{CATALOG_SHARD}.json",
               *(f"{FACTS_FOLDER}/{n:02x}.json" for n in range(256))]
QUERY_SHARD = f"{FACTS_FOLDER}/{shard_of_path(QUERY)}.json"


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")


def _findings(result) -> list[tuple]:
    return [(f.path, f.line, f.column, f.code, f.message, f.fingerprint) for f in result.findings]


def _cached_run(root: Path, cache_dir: str | None = IN_TREE):
    return run([root], Config(root=root, cache_dir=cache_dir), Options(use_cache=True, jobs=1))


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def _repo(root: Path) -> None:
    _git(root, "init", "-q")
    _git(root, "-c", "user.email=t@example.com", "-c", "user.name=t", "add", "-A")


class _Payload:
    """Unpickling this creates the marker file: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("cache_dir", [IN_TREE, None], ids=["in-tree cache_dir", "default"])
def test_a_planted_pickle_runs_nothing_and_the_findings_are_correct(tmp_path, cache_dir):
    _write(tmp_path, FILES)
    reference = subprocess.run(
        [sys.executable, "-m", "orgscope", "check", "--no-cache", "--format", "json"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )
    marker = tmp_path / "code-ran"
    payload = pickle.dumps(_Payload(marker))
    assert not marker.exists()
    for name in ("facts.pickle", "cache.pickle", *STORE_NAMES):
        (tmp_path / IN_TREE / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / IN_TREE / name).write_bytes(payload)
    args = ["check", "--format", "json"] + (["--cache-dir", IN_TREE] if cache_dir else [])
    for _ in range(2):  # cold, then warm from what the first run wrote
        done = subprocess.run([sys.executable, "-m", "orgscope", *args], cwd=tmp_path, capture_output=True,
                              text=True, check=False)
        assert not marker.exists(), "unpickling the planted cache ran its code"
        assert done.returncode == 1, done.stderr
        assert json.loads(done.stdout)["findings"] == json.loads(reference.stdout)["findings"]
    assert {(f["path"], f["code"]) for f in json.loads(done.stdout)["findings"]} == EXPECTED


def test_the_cache_is_json_keyed_on_orgscope_itself(tmp_path):
    _write(tmp_path, FILES)
    fresh = _findings(_cached_run(tmp_path))
    files = store_files(tmp_path / IN_TREE)
    assert QUERY_SHARD in files and f"{FACTS_FOLDER}/{CATALOG_SHARD}.json" in files
    for path in files.values():
        payload = json.loads(path.read_text())
        assert payload["version"] == __version__ and len(payload["source"]) == 32
    assert json.loads(files[QUERY_SHARD].read_text())["entries"]
    assert _findings(_cached_run(tmp_path)) == fresh


def test_the_default_cache_is_outside_the_work_tree(tmp_path):
    _write(tmp_path, FILES)
    fresh = _findings(_cached_run(tmp_path, cache_dir=None))
    assert not (tmp_path / IN_TREE).exists()
    folder = default_cache_folder(tmp_path)
    assert tmp_path not in folder.parents and (folder / QUERY_SHARD).is_file()
    assert _findings(_cached_run(tmp_path, cache_dir=None)) == fresh  # warm


def _entry_edit(edit):
    """Damage every entry of a good cache file with `edit(entry) -> entry`."""
    def damage(good: bytes) -> bytes:
        payload = json.loads(good)
        if "entries" in payload:
            payload["entries"] = {key: edit(entry) for key, entry in payload["entries"].items()}
        return json.dumps(payload).encode()
    return damage


def _top_edit(**values):
    def damage(good: bytes) -> bytes:
        return json.dumps({**json.loads(good), **values}).encode()
    return damage


def _retyped_span(entry):
    # FileFacts.queries[0].span.line as a string: the right shape, the wrong type.
    if entry[2]:
        entry[2][0][1][0] = "1"
    return entry


def _unknown_tag(entry):
    text = json.dumps(entry)
    return json.loads(text.replace('["Compare"', '["os.system"'))


CACHE_CASES = {
    "garbage": lambda good: b"\x00\xffnot json at all" * 10,
    "truncated": lambda good: good[: len(good) // 2],
    "empty": lambda good: b"",
    "a pickle": lambda good: pickle.dumps(json.loads(good)),
    "another shape": lambda good: json.dumps(["a", "list"]).encode(),
    "nested too deep": lambda good: b"[" * 200_000 + b"]" * 200_000,
    "old version": _top_edit(version="0.0.1"),
    "other orgscope source": _top_edit(source="0" * 32),
    "foreign magic": _top_edit(magic="someone-else/9"),
    "entries that are not an object": _top_edit(entries=[1, 2]),
    "results that are not an object": _top_edit(results="all clear"),
    "scans that are not a list": _top_edit(scans={"a": 1}),
    "entries of the wrong type": _entry_edit(lambda entry: 42),
    "entries with a missing field": _entry_edit(lambda entry: entry[:-1]),
    "entries with a field of the wrong type": _entry_edit(_retyped_span),
    "entries naming another class": _entry_edit(_unknown_tag),
}


@pytest.mark.parametrize("damage", list(CACHE_CASES.values()), ids=list(CACHE_CASES))
def test_a_damaged_cache_is_ignored_and_rebuilt_with_identical_findings(tmp_path, damage):
    _write(tmp_path, FILES)
    fresh = _findings(_cached_run(tmp_path))
    assert fresh and len(fresh) >= 2
    files = store_files(tmp_path / IN_TREE)
    good = {name: path.read_bytes() for name, path in files.items()}
    for name, path in files.items():
        path.write_bytes(damage(good[name]))

    assert _findings(_cached_run(tmp_path)) == fresh
    for name, path in store_files(tmp_path / IN_TREE).items():
        rebuilt = json.loads(path.read_bytes())
        assert rebuilt["version"] == __version__, name
    assert json.loads(files[QUERY_SHARD].read_bytes())["entries"]
    assert _findings(_cached_run(tmp_path)) == fresh  # and the rebuilt cache is used as is


def _hide_every_query(good: bytes) -> bytes:
    """A well-formed cache file whose entries say the files hold no query."""
    payload = json.loads(good)
    for entry in payload.get("entries", {}).values():
        entry[2] = []  # FileFacts.queries
        entry[3] = []  # FileFacts.problems
    return json.dumps(payload).encode()


def _lie_everywhere(folder: Path) -> None:
    for path in store_files(folder).values():
        path.write_bytes(_hide_every_query(path.read_bytes()))


def _shard_refusals():
    def tracked(root: Path, name: str) -> None:
        _repo(root)
        _git(root, "add", "-f", f"{IN_TREE}/{name}")

    def symlinked(root: Path, name: str) -> None:
        shard = root / IN_TREE / name
        elsewhere = root.parent / "elsewhere.json"
        shard.rename(elsewhere)
        shard.symlink_to(elsewhere)

    return {"git tracks it": tracked, "symlink": symlinked}


SHARD_REFUSALS = _shard_refusals()


@pytest.mark.parametrize("reason", list(SHARD_REFUSALS))
def test_a_shard_that_git_tracks_or_a_symlink_leads_to_is_neither_read_nor_written(tmp_path, reason):
    root = tmp_path / "project"
    _write(root, FILES)
    fresh = _findings(_cached_run(root))
    assert shard_of_path("app/q.py") != shard_of_path(QUERY)
    _lie_everywhere(root / IN_TREE)
    # Control: untracked cache files (an earlier run wrote them) are trusted,
    # so their lie is believed: the protection is in refusing the others.
    lied = _findings(_cached_run(root))
    assert not [f for f in lied if f[0] in (QUERY, "app/q.py")]
    _lie_everywhere(root / IN_TREE)
    lying = (root / IN_TREE / QUERY_SHARD).read_bytes()
    SHARD_REFUSALS[reason](root, QUERY_SHARD)
    result = _cached_run(root)
    # The refused shard's file is judged afresh; the others still believe the lie.
    assert sorted(_findings(result)) == sorted(lied + [f for f in fresh if f[0] == QUERY])
    assert [n.text for n in result.notes if QUERY_SHARD in n.text and reason in n.text], result.notes
    assert (root / IN_TREE / QUERY_SHARD).read_bytes() == lying, "a refused shard was written"
    assert (root / IN_TREE / QUERY_SHARD).is_symlink() == (reason == "symlink")


def test_a_cache_folder_that_git_tracks_is_never_read(tmp_path):
    _write(tmp_path, FILES)
    fresh = _findings(_cached_run(tmp_path))
    _lie_everywhere(tmp_path / IN_TREE)
    before = {name: path.read_bytes() for name, path in store_files(tmp_path / IN_TREE).items()}
    _repo(tmp_path)
    _git(tmp_path, "add", "-f", IN_TREE)
    result = _cached_run(tmp_path)
    assert _findings(result) == fresh
    assert sum("git tracks it" in note.text for note in result.notes) == len(before)
    assert {name: path.read_bytes() for name, path in store_files(tmp_path / IN_TREE).items()} == before, \
        "a tracked file was overwritten"


@pytest.mark.parametrize("link", [IN_TREE, f"{IN_TREE}/{FACTS_FOLDER}"])
def test_a_cache_folder_that_is_a_symlink_is_never_read(tmp_path, link):
    project, elsewhere = tmp_path / "project", tmp_path / "elsewhere"
    _write(project, FILES)
    fresh = _findings(_cached_run(project))
    _lie_everywhere(project / IN_TREE)
    (project / link).rename(elsewhere)
    (project / link).symlink_to(elsewhere, target_is_directory=True)
    result = _cached_run(project)
    assert _findings(result) == fresh
    assert any("symlink" in note.text for note in result.notes)


def _a_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("not a folder\n")


def _a_folder(path: Path) -> None:
    path.mkdir(parents=True)


# A store file that is a folder, and the folders that are files.
IN_THE_WAY = {
    SCANS_FILE: _a_folder, f"{FACTS_FOLDER}/{CATALOG_SHARD}.json": _a_folder, QUERY_SHARD: _a_folder,
    FACTS_FOLDER: _a_file, "": _a_file,
}


@pytest.mark.parametrize("name", list(IN_THE_WAY), ids=[name or "the cache folder" for name in IN_THE_WAY])
def test_something_in_the_way_of_a_cache_file_does_not_stop_the_run(tmp_path, name):
    _write(tmp_path, FILES)
    IN_THE_WAY[name](tmp_path / IN_TREE / name)
    assert {(f[0], f[3]) for f in _findings(_cached_run(tmp_path))} == EXPECTED
    assert {(f[0], f[3]) for f in _findings(_cached_run(tmp_path))} == EXPECTED


def test_an_old_single_file_cache_is_never_read_and_goes_away(tmp_path):
    _write(tmp_path, FILES)
    fresh = _findings(_cached_run(tmp_path, cache_dir=None))
    folder = default_cache_folder(tmp_path)
    # The layout of earlier releases: one file, whose lie would hide every finding.
    entries = {}
    for path in store_files(folder).values():
        entries.update(json.loads(_hide_every_query(path.read_bytes())).get("entries", {}))
    old = {"magic": "orgscope-facts-cache/2", "version": __version__, "entries": entries, "scans": {}, "results": {}}
    shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / "facts.json").write_text(json.dumps(old))
    assert _findings(_cached_run(tmp_path, cache_dir=None)) == fresh
    assert not (folder / "facts.json").exists()
    assert QUERY_SHARD in store_files(folder)


def _failing_replace(*args, **kwargs):
    raise OSError(28, "No space left on device")


def test_a_failed_cache_write_keeps_the_old_cache_and_the_findings(tmp_path, monkeypatch):
    _write(tmp_path, FILES)
    fresh = _findings(_cached_run(tmp_path))
    folder = tmp_path / IN_TREE
    old = {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    (tmp_path / "queries" / "more.sql").write_text("SELECT * FROM calls WHERE id = $1;\n")
    monkeypatch.setattr(os, "replace", _failing_replace)
    result = _cached_run(tmp_path)
    assert len(result.findings) == len(fresh) + 1
    # Every file as it was, and no temporary file left behind.
    assert {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()} == old
