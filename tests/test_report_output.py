"""`--output` writes through what is not a regular file (SPEC section 8).

As root, replacing `-o /dev/null` with a regular file would break the machine;
a FIFO a reader waits on, or a symlink into a shared folder, must get the
report, not be swapped for a file. Only a regular file (or a new one) is
replaced atomically.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

QUERY = "SELECT * FROM agents WHERE id = $1;\n"


def _report_via(tmp_path: Path, make_target) -> tuple[Path, str, dict]:
    """Run `orgscope check -o out` in a project where `make_target(out)` set
    `out` up; return the output path, what the run printed, and the report read
    wherever it went."""
    project = tmp_path / "project"
    (project / "queries").mkdir(parents=True)
    (project / "queries" / "a.sql").write_text(QUERY)
    out = project / "out.json"
    read = make_target(out)
    done = subprocess.run([sys.executable, "-m", "orgscope", "check", "--no-cache", "--format", "json", "-o", str(out)],
                          cwd=project, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    return out, done.stdout, json.loads(read())


def _regular(out: Path):
    out.write_text("old report\n")
    return out.read_text


def _new(out: Path):
    return out.read_text


def _symlink_to_file(out: Path):
    target = out.parent.parent / "shared" / "report.json"
    target.parent.mkdir()
    target.write_text("old report\n")
    out.symlink_to(target)
    return target.read_text


def _dangling_symlink(out: Path):
    target = out.parent.parent / "shared" / "report.json"
    target.parent.mkdir()
    out.symlink_to(target)
    return target.read_text


def _fifo(out: Path):
    os.mkfifo(out)
    received: list[str] = []
    reader = threading.Thread(target=lambda: received.append(out.read_text()), daemon=True)
    reader.start()

    def read():
        reader.join(timeout=60)
        return received[0]

    return read


def _symlink_to_fifo(out: Path):
    fifo = out.parent.parent / "pipe"
    read = _fifo(fifo)
    out.symlink_to(fifo)
    return read


# target setup -> what `out` must still be afterwards
CASES = {
    "regular file (replaced atomically)": (_regular, stat.S_ISREG),
    "new file": (_new, stat.S_ISREG),
    "symlink to a file": (_symlink_to_file, stat.S_ISLNK),
    "dangling symlink": (_dangling_symlink, stat.S_ISLNK),
    "FIFO": (_fifo, stat.S_ISFIFO),
    "symlink to a FIFO": (_symlink_to_fifo, stat.S_ISLNK),
}


@pytest.mark.parametrize("setup, still", list(CASES.values()), ids=list(CASES))
def test_the_report_goes_through_what_output_names(tmp_path, setup, still):
    out, printed, report = _report_via(tmp_path, setup)
    assert [(f["path"], f["code"]) for f in report["findings"]] == [("queries/a.sql", "ORG001")]
    assert printed == ""
    assert still(os.lstat(out).st_mode), "the output path was replaced by another kind of file"


def test_a_regular_output_file_is_replaced_not_rewritten_in_place(tmp_path):
    # A reader holding the old file keeps reading the old report.
    holder: list = []

    def setup(out: Path):
        read = _regular(out)
        holder.append(os.stat(out).st_ino)
        return read

    out, _, _ = _report_via(tmp_path, setup)
    assert os.stat(out).st_ino != holder[0]
