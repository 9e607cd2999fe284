"""What a rule reports, and what a whole run found."""

from __future__ import annotations

from dataclasses import dataclass, field

SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}


@dataclass(slots=True)
class Finding:
    path: str  # relative to the config root, with '/'
    line: int
    column: int
    end_line: int
    end_column: int
    code: str
    name: str
    severity: str
    message: str
    table: str | None = None
    # The first line of the statement or call: a suppression there counts too.
    statement_line: int | None = None
    # Normalised statement text (or another stable anchor) for the fingerprint.
    anchor: str = ""
    fingerprint: str = ""
    extra: dict = field(default_factory=dict)

    def sort_key(self) -> tuple:
        return (self.path, self.line, self.column, self.code, self.message)


@dataclass(frozen=True, slots=True)
class Note:
    """Something a run says besides its findings: a skipped file, an odd migration graph.

    Every output format carries each note's `text`. The text output prints the
    notes after the summary line, and those that share a `group` (the revision
    graph) once, counted by `kind`: the note without its `subject` (the file or
    revision it is about)."""

    text: str
    group: str | None = None
    kind: str | None = None
    subject: str | None = None

    def __str__(self) -> str:
        return self.text


@dataclass
class RunResult:
    """What one `orgscope check` found, ready to be reported."""

    findings: list[Finding]  # already sorted, suppressed ones removed, fingerprints filled in
    files: int  # number of files checked
    seconds: float
    version: str  # orgscope.__version__
    notes: list[Note] = field(default_factory=list)  # e.g. "skipped binary file x.sql"; a text becomes a Note
    baseline_unmatched: int = 0  # baseline entries that no longer match a finding

    def __post_init__(self) -> None:
        self.notes = [note if isinstance(note, Note) else Note(note) for note in self.notes]
