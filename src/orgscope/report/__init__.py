"""Output formats: one module per format, one entry point (`render`).

Every renderer turns a finished run (`RunResult`) into the complete text that
goes to standard output. The returned text ends with a newline unless it is
empty, so the caller writes it as is (no extra newline).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from orgscope.errors import OrgscopeError
from orgscope.findings import RunResult

if TYPE_CHECKING:
    from orgscope.rules import RuleDoc


FORMATS: tuple[str, ...] = ("text", "concise", "json", "json-lines", "sarif", "github", "junit", "gitlab")


def render(
    fmt: str,
    result: RunResult,
    *,
    root: Path,
    docs: dict[str, RuleDoc],
    color: bool = False,
    show_source: bool = True,
    statistics: bool = False,
) -> str:
    """The whole output of `result` in format `fmt` (one of FORMATS).

    `root` is the directory finding paths are relative to (the text format
    reads source lines from there); `docs` maps rule codes to their documents
    (SARIF rule metadata).
    """
    # Imported here so that the format modules may import this package freely.
    from orgscope.report import concise, github, gitlab, json_format, junit, sarif, text

    if fmt == "text":
        return text.render_text(result, root=root, color=color, show_source=show_source, statistics=statistics)
    if fmt == "concise":
        return concise.render_concise(result, statistics=statistics)
    if fmt == "json":
        return json_format.render_json(result)
    if fmt == "json-lines":
        return json_format.render_json_lines(result)
    if fmt == "sarif":
        return sarif.render_sarif(result, docs=docs, root=root)
    if fmt == "github":
        return github.render_github(result)
    if fmt == "junit":
        return junit.render_junit(result)
    if fmt == "gitlab":
        return gitlab.render_gitlab(result)
    raise OrgscopeError(f"unknown output format {fmt!r} (known formats: {', '.join(FORMATS)})")


__all__ = ["FORMATS", "RunResult", "render"]
