"""The part of a migration file its tool applies going forward.

Several migration tools keep the forward and the backward change in one file
and apply only the forward part on `up`:

* goose: `-- +goose Up` ... `-- +goose Down` (StatementBegin / StatementEnd
  group a body; the annotations themselves are comments);
* dbmate: `-- migrate:up` ... `-- migrate:down`;
* Liquibase formatted SQL: a `--liquibase formatted sql` header, then
  `--changeset author:id` blocks; rollbacks are `--rollback` comment lines,
  and a changeset limited to other databases (`dbms:mysql`) is not applied to
  PostgreSQL.

`forward_text` blanks every part the tool does not apply: its characters
become spaces and its line breaks stay, so each kept statement keeps its
line and column. Text before the first section marker is not applied either
(goose and dbmate refuse or ignore it); a note says so when it holds SQL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from orgscope.facts import DBMATE, GOOSE, LIQUIBASE
from orgscope.sql.split import strip_sql_comments

_GOOSE = re.compile(r"^\s*--\s*\+goose\s+(?P<what>\w+)", re.IGNORECASE)
_DBMATE = re.compile(r"^\s*--\s*migrate:(?P<what>up|down)\b", re.IGNORECASE)
_LIQUIBASE_HEADER = re.compile(r"^\s*-{2,}\s*liquibase\s+formatted\s+sql\b", re.IGNORECASE)
_CHANGESET = re.compile(r"^\s*-{2,}\s*changeset\s+(?P<id>\S+)(?P<attributes>.*)$", re.IGNORECASE)
_DBMS = re.compile(r"\bdbms:(?P<list>\S+)", re.IGNORECASE)


@dataclass
class Forward:
    """What the tool applies: the text (same length as the file, the rest
    blanked), the tool whose markers the file carries, and notes."""

    text: str
    tool: str | None = None
    notes: list[str] = field(default_factory=list)


def forward_text(text: str, path: str = "") -> Forward:
    lines = text.splitlines(keepends=True)
    if any(_GOOSE.match(line) for line in lines):
        return _sections(text, lines, path, GOOSE, _goose_applies)
    if any(_DBMATE.match(line) for line in lines):
        return _sections(text, lines, path, DBMATE, _dbmate_applies)
    if lines and _LIQUIBASE_HEADER.match(_first_nonblank(lines)):
        return _sections(text, lines, path, LIQUIBASE, _liquibase_applies)
    return Forward(text)


def _first_nonblank(lines: list[str]) -> str:
    return next((line for line in lines if line.strip()), "")


# Each `*_applies(line, state)` returns the new state when the line is a marker
# (True: what follows is applied, False: it is not), else None.

def _goose_applies(line: str, state: bool | None) -> bool | None:
    match = _GOOSE.match(line)
    if match is None:
        return None
    what = match.group("what").lower()
    if what == "up":
        return True
    if what == "down":
        return False
    return state  # StatementBegin / StatementEnd / NO TRANSACTION / ENVSUB keep the section


def _dbmate_applies(line: str, state: bool | None) -> bool | None:
    match = _DBMATE.match(line)
    return None if match is None else match.group("what").lower() == "up"


def _liquibase_applies(line: str, state: bool | None) -> bool | None:
    match = _CHANGESET.match(line)
    if match is None:
        return None
    dbms = _DBMS.search(match.group("attributes"))
    if dbms is None:
        return True
    wanted = {d.strip().lower() for d in dbms.group("list").split(",")}
    if "!postgresql" in wanted:
        return False
    return bool(wanted & {"postgresql", "all"}) or all(d.startswith("!") for d in wanted)


_MARKER_WORDS = {GOOSE: "-- +goose Up", DBMATE: "-- migrate:up", LIQUIBASE: "--changeset"}


def _sections(text: str, lines: list[str], path: str, tool: str, applies) -> Forward:
    kept: list[str] = []
    state: bool | None = None  # None: before the first marker
    before: list[str] = []
    for line in lines:
        new_state = applies(line, state)
        if new_state is not None:
            state = new_state
            kept.append(_blank(line))  # a marker is a comment; blanking it changes nothing
            continue
        if state:
            kept.append(line)
        else:
            if state is None:
                before.append(line)
            kept.append(_blank(line))
    forward = Forward("".join(kept), tool)
    where = f"{path}: " if path else ""
    if strip_sql_comments("".join(before)).strip():
        forward.notes.append(f"{where}SQL before the first {_MARKER_WORDS[tool]} is not applied by {tool}; "
                             "the replay leaves it out")
    if not any(applies(line, None) is True for line in lines):
        forward.notes.append(f"{where}no {_MARKER_WORDS[tool]} section: {tool} applies nothing from this file")
    return forward


def _blank(line: str) -> str:
    body = line.rstrip("\r\n")
    return " " * len(body) + line[len(body):]
