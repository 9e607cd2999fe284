"""What a rule reports."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

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

    def as_dict(self) -> dict:
        data = asdict(self)
        for private in ("statement_line", "anchor", "extra"):
            data.pop(private)
        return data
