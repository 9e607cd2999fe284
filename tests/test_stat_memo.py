"""An unchanged file is not read again: its stat signature (size, inode,
mtime, ctime) finds what its bytes told the last run. Any change to a file,
to the catalog or to the settings must still give exactly the findings of a
run without a cache.

Signatures are trusted only for files unchanged for two seconds before they
were read (a write within a file system's timestamp granularity could keep
its signature); these tests lift that wait so that files written by the test
are remembered at once.
"""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest

from orgscope import workers
from orgscope.cache import SCANS_FILE
from orgscope.config import Config
from orgscope.engine import Options, run
from conftest import AGENT_MODEL, store_files, write_tree

CACHE = ".orgscope_cache"
PROJECT = {
    "migrations/001_init.sql": """\
        CREATE TABLE agents (id uuid PRIMARY KEY, clerk_org_id text);
        CREATE TABLE calls (id uuid PRIMARY KEY, clerk_org_id text);
        CREATE INDEX idx_agents_clerk_org_id ON agents (clerk_org_id);
        """,
    "app/models.py": AGENT_MODEL,
    "app/repo.py": """\
        from sqlalchemy import select
        from app.models import Agent
        def one(session, pk):
            return session.execute(select(Agent).where(Agent.id == pk))
        def scoped(session, pk, org):
            return session.execute(select(Agent).where(Agent.id == pk, Agent.clerk_org_id == org))
        """,
    "app/raw.py": """\
        def calls(cur, pk):
            cur.execute("SELECT * FROM calls WHERE id = %s", (pk,))
        """,
    "app/util.py": """\
        def greet(name):
            return f"hello {name}"
        """,
    "queries/report.sql": "SELECT * FROM agents WHERE clerk_org_id = $1;\n",
    # Names no table or column, only a class that is no model yet.
    "app/history.py": """\
        from app.models import Call
        def get(session, pk):
            return session.get(Call, pk)
        """,
}


@pytest.fixture(autouse=True)
def settled_at_once(monkeypatch):
    monkeypatch.setattr(workers, "_SETTLED_NS", -1)


def _findings(result) -> list[tuple]:
    return [(f.path, f.line, f.column, f.code, f.message) for f in result.findings]


def _cached(root: Path, *paths: str, **config):
    targets = [root / p for p in paths] or [root]
    return _findings(run(targets, Config(root=root, cache_dir=CACHE, **config), Options(use_cache=True, jobs=1)))


def _fresh(root: Path, *paths: str, **config):
    targets = [root / p for p in paths] or [root]
    return _findings(run(targets, Config(root=root, **config), Options(use_cache=False, jobs=1)))


def _same_size_rewrite(root: Path) -> None:
    # The scoped function's org column becomes `id`: same length, same mtime
    # (set back), only the ctime tells that the file changed.
    path = root / "app/repo.py"
    before = path.stat()
    text = path.read_text()
    path.write_text(text.replace("Agent.clerk_org_id == org", "Agent.id           == org"))
    assert path.stat().st_size == before.st_size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def _replace_by_rename(root: Path) -> None:
    path = root / "app/util.py"
    new = root / "app/util.py.new"
    new.write_text('def agents(cur):\n    cur.execute("SELECT * FROM agents")\n')
    os.replace(new, path)


def _add_index(root: Path) -> None:
    (root / "migrations/002_calls_index.sql").write_text("CREATE INDEX idx_calls_clerk_org_id ON calls (clerk_org_id);\n")


def _drop_model(root: Path) -> None:
    # Without the model the ORM query names no known table any more.
    (root / "app/models.py").write_text("# models moved away\n")


def _add_model(root: Path) -> None:
    # `Call` becomes a model: app/history.py, unread so far, now holds a query.
    with (root / "app/models.py").open("a") as models:
        models.write('class Call(Base):\n    __tablename__ = "calls"\n    id: Mapped[str] = mapped_column(primary_key=True)\n')


def _delete(root: Path) -> None:
    (root / "app/raw.py").unlink()


def _new_file(root: Path) -> None:
    (root / "app/more.py").write_text('def f(cur):\n    cur.execute("DELETE FROM calls WHERE id = 1")\n')


EDITS = {
    "a same-size rewrite with its mtime set back": _same_size_rewrite,
    "a file replaced by a rename": _replace_by_rename,
    "a migration added (the catalog changes)": _add_index,
    "a model removed (other files' lookups change)": _drop_model,
    "a model added (a file naming only its class is parsed now)": _add_model,
    "a file deleted": _delete,
    "a file added": _new_file,
}


@pytest.mark.parametrize("gate", [True, False], ids=["gated", "every mentioning module parsed"])
@pytest.mark.parametrize("edit", list(EDITS.values()), ids=list(EDITS))
def test_an_edit_after_a_warm_run_gives_the_findings_of_a_run_without_cache(tmp_path, monkeypatch, edit, gate):
    if not gate:
        monkeypatch.setenv("ORGSCOPE_NO_GATE", "1")
    write_tree(tmp_path, PROJECT)
    before = _cached(tmp_path)
    assert before == _fresh(tmp_path) and before
    assert _cached(tmp_path) == before  # warm, from the remembered signatures
    edit(tmp_path)
    after = _fresh(tmp_path)
    assert after != before, "the edit should change the findings"
    assert _cached(tmp_path) == after
    assert _cached(tmp_path) == after  # and again, from what that run remembered


def test_a_warm_run_reads_no_unchanged_file(tmp_path, monkeypatch):
    write_tree(tmp_path, PROJECT)
    expected = _cached(tmp_path)
    read = []
    real = workers.read_source
    monkeypatch.setattr(workers, "read_source", lambda source, config: read.append(source.rel) or real(source, config))
    assert _cached(tmp_path) == expected
    assert read == []
    # pre-commit: the edited file is read, and nothing else
    (tmp_path / "app/raw.py").write_text('def f(cur, pk):\n    cur.execute("SELECT * FROM agents WHERE id = %s", (pk,))\n')
    expected = _fresh(tmp_path, "app/raw.py")
    read.clear()
    assert _cached(tmp_path, "app/raw.py") == expected
    assert set(read) == {"app/raw.py"}


def _damage_memo(edit):
    """Apply `edit(memo, row, payload)` to every scans row and every results
    memo entry of the cache (`payload` is the file the row is in)."""
    def damage(folder: Path) -> None:
        for name, path in store_files(folder).items():
            payload = json.loads(path.read_bytes())
            memo = "scans" if name == SCANS_FILE else "results"
            rows = payload["files" if memo == "scans" else "results"]
            for rel in rows:
                rows[rel] = edit(memo, rows[rel], payload)
            path.write_text(json.dumps(payload))
    return damage


def _scan_value(memo, row, payload):
    # The scan's first field (feeds_catalog) becomes a string.
    if memo == "scans":
        payload["scans"] = [["yes", *value[1:]] for value in payload["scans"]]
    return row


def _other_scan_setting(memo, row, payload):
    if memo == "scans":
        payload["settings"] = ["another scan setting" for _ in payload["settings"]]
    return row


MEMO_DAMAGE = {
    "entries that are not lists": _damage_memo(lambda memo, row, payload: 7),
    "a signature of another shape": _damage_memo(lambda memo, row, payload: [str(row[0]), *row[1:]]),
    "a scan with a field of the wrong type": _damage_memo(_scan_value),
    "a scan that says no file feeds the catalog": _damage_memo(_other_scan_setting),
    "a scan row pointing past the scans": _damage_memo(
        lambda memo, row, payload: [*row[:5], 99] if memo == "scans" else row),
    "results pointing at facts that are not there": _damage_memo(
        lambda memo, row, payload: [*row[:2], "0" * 40] if memo == "results" else row),
    "results of the wrong type": _damage_memo(
        lambda memo, row, payload: [*row[:2], 12] if memo == "results" else row),
}


@pytest.mark.parametrize("damage", list(MEMO_DAMAGE.values()), ids=list(MEMO_DAMAGE))
def test_a_damaged_memo_is_ignored(tmp_path, damage):
    write_tree(tmp_path, PROJECT)
    expected = _cached(tmp_path)
    folder = tmp_path / CACHE
    files = store_files(folder)
    assert json.loads(files[SCANS_FILE].read_bytes())["files"]
    assert any(json.loads(path.read_bytes())["results"] for name, path in files.items() if name != SCANS_FILE)
    damage(folder)
    assert _cached(tmp_path) == expected
    assert _cached(tmp_path) == expected


def test_a_settings_change_is_a_new_lookup(tmp_path):
    # A backfill in a migration is judged only with check_migration_queries.
    write_tree(tmp_path, {**PROJECT, "migrations/003_backfill.sql": "UPDATE calls SET clerk_org_id = 'x';\n"})
    before = _cached(tmp_path)
    after = _fresh(tmp_path, check_migration_queries=True)
    assert after != before
    assert _cached(tmp_path, check_migration_queries=True) == after
    assert _cached(tmp_path) == before


def test_a_file_rewritten_between_its_reading_and_its_extraction_is_judged_as_it_is_now(tmp_path, monkeypatch):
    # The text is not held while files wait for extraction: it is read again
    # there. A file changed in between is judged as it is now, and the facts of
    # those bytes are not filed under the key of the old ones.
    write_tree(tmp_path, PROJECT)
    raw = tmp_path / "app/raw.py"
    scoped = 'def calls(cur, pk, org):\n    cur.execute("SELECT * FROM calls WHERE clerk_org_id = %s", (org,))\n'
    real_task = workers._task

    def rewrite_then_task(source, key):
        if source.rel == "app/raw.py":
            raw.write_text(scoped)
        return real_task(source, key)

    monkeypatch.setattr(workers, "_task", rewrite_then_task)
    during = _cached(tmp_path)
    monkeypatch.setattr(workers, "_task", real_task)
    now = _fresh(tmp_path)
    assert [f for f in during if f[0] == "app/raw.py"] == [f for f in now if f[0] == "app/raw.py"] == []
    assert _cached(tmp_path) == now
    raw.write_text(textwrap.dedent(PROJECT["app/raw.py"]))  # back to the bytes that were keyed
    back = _fresh(tmp_path)
    assert [f for f in back if f[0] == "app/raw.py"]
    assert _cached(tmp_path) == back
