"""Baselines: adopt the gate on an existing codebase and fail only on new findings.

`orgscope check --write-baseline FILE` records every current finding by its
fingerprint (rule, path, table and the normalised statement: see
`suppress.assign_fingerprints`), so a finding keeps its entry when lines move
or other code changes. `orgscope check --baseline FILE` then drops the findings
the file records and counts the entries that no longer match anything (a
finding that was fixed), so the team knows when to write the baseline again.

The file is JSON, sorted and without line numbers or timestamps, so writing it
again over an unchanged codebase changes nothing and a diff of it in review
shows exactly which findings were added or fixed:

    {
      "version": 1,
      "findings": [
        {"code": "ORG001", "fingerprint": "3f2a...:1", "message": "...",
         "path": "queries/agents.sql", "table": "agents"}
      ]
    }
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from orgscope.errors import OrgscopeError
from orgscope.findings import Finding
from orgscope.writes import write_atomic

BASELINE_VERSION = 1


@dataclass(frozen=True)
class BaselineEntry:
    code: str
    path: str
    table: str | None
    fingerprint: str
    message: str


@dataclass(frozen=True)
class Baseline:
    source: str
    entries: tuple[BaselineEntry, ...]

    def apply(
        self, findings: list[Finding], checked_paths: set[str], enabled_codes: set[str], root: Path | None = None
    ) -> tuple[list[Finding], int]:
        """The findings the baseline does not record, and the number of its
        entries that match no finding.

        Only entries this run could have matched count as unmatched: their
        rule is enabled and their file was checked, or the file is gone from
        `root`. A run over the staged files alone, or with --select, does not
        call the rest fixed.
        """
        recorded = {entry.fingerprint for entry in self.entries}
        kept = [f for f in findings if f.fingerprint not in recorded]
        found = {f.fingerprint for f in findings}
        unmatched = {
            entry.fingerprint
            for entry in self.entries
            if entry.fingerprint not in found
            and entry.code in enabled_codes
            and (entry.path in checked_paths or (root is not None and _gone(root, entry.path)))
        }
        return kept, len(unmatched)


def _gone(root: Path, rel: str) -> bool:
    try:
        return not (root / rel).exists()
    except (OSError, ValueError):  # a path the file system cannot even look up
        return False


def render_baseline(findings: Iterable[Finding]) -> str:
    """The baseline file for `findings`: deterministic, one entry per finding."""
    entries = {
        f.fingerprint: {"code": f.code, "path": f.path, "table": f.table, "fingerprint": f.fingerprint,
                        "message": f.message}
        for f in findings
    }
    ordered = sorted(entries.values(), key=lambda e: (e["path"], e["code"], e["table"] or "", e["fingerprint"]))
    document = {"version": BASELINE_VERSION, "findings": ordered}
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_baseline(path: Path, findings: list[Finding], *, force: bool = False) -> int:
    """Write the baseline of `findings` to `path` (never over an existing file
    unless `force`); return the number of entries written."""
    if any(not f.fingerprint for f in findings):
        raise OrgscopeError("internal error: a finding has no fingerprint; cannot write a baseline")
    text = render_baseline(findings)
    try:
        write_atomic(Path(path), text, overwrite=force)
    except OSError as exc:
        raise OrgscopeError(f"{path}: cannot write the baseline: {exc.strerror or exc}") from None
    return len({f.fingerprint for f in findings})


def load_baseline(path: Path) -> Baseline:
    """Read and validate a baseline file; every problem is one OrgscopeError line."""
    where = str(path)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise OrgscopeError(f"{where}: baseline file not found (create it with --write-baseline {where})") from None
    except IsADirectoryError:
        raise OrgscopeError(f"{where}: the baseline is a folder, not a file") from None
    except OSError as exc:
        raise OrgscopeError(f"{where}: cannot read the baseline: {exc.strerror or exc}") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise OrgscopeError(f"{where}: not a valid orgscope baseline: the file is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise OrgscopeError(f"{where}: not a valid orgscope baseline: invalid JSON at line {exc.lineno}: {exc.msg}") from None
    return Baseline(source=where, entries=tuple(_entries(data, where)))


def _entries(data: object, where: str) -> list[BaselineEntry]:
    def bad(message: str) -> OrgscopeError:
        return OrgscopeError(f"{where}: not a valid orgscope baseline: {message}")

    if not isinstance(data, dict):
        raise bad("expected a JSON object with 'version' and 'findings'")
    version = data.get("version")
    if version != BASELINE_VERSION:
        raise bad(f"unsupported version {version!r} (this orgscope reads version {BASELINE_VERSION})")
    items = data.get("findings")
    if not isinstance(items, list):
        raise bad("'findings' must be a list")
    entries = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise bad(f"findings[{index}] must be an object")
        for key in ("code", "path", "fingerprint"):
            if not isinstance(item.get(key), str) or not item[key]:
                raise bad(f"findings[{index}].{key} must be a non-empty string")
        table = item.get("table")
        if table is not None and not isinstance(table, str):
            raise bad(f"findings[{index}].table must be a string or null")
        message = item.get("message", "")
        entries.append(
            BaselineEntry(
                code=item["code"].upper(),
                path=item["path"],
                table=table,
                fingerprint=item["fingerprint"],
                message=message if isinstance(message, str) else str(message),
            )
        )
    return entries
