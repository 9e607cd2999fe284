"""PostgREST over HTTP is a query (SPEC section 10).

`httpx` / `requests` / `aiohttp` calls whose URL contains `/rest/v1/<table>`
read or change that table: GET selects, PATCH updates, DELETE deletes, POST
inserts (PUT upserts). The query string's `col=eq.value` (or `in.(...)`)
filters scope like `.eq` / `.in_`, and so do the same filters passed as
`params={...}`; a POST's `json=` body is the payload. The URL may be an
f-string or a local built from one; interpolated values stand for values.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

import libcst as cst

from orgscope.facts import PARAM, Span
from orgscope.python.names import string_value
from orgscope.python.recogniser import Recogniser
from orgscope.python.template import Chunk
from orgscope.python.values import CHAIN, Chain, PCol, PCompare, PredItem, Tmpl, literal_span, payloads_of

if TYPE_CHECKING:
    from orgscope.python.recogniser import Walk

_OPERATIONS = {"get": "select", "patch": "update", "delete": "delete", "post": "insert", "put": "upsert"}
_REST = re.compile(r"/rest/v1/([A-Za-z_][A-Za-z0-9_]*)")
_FILTER = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=(?:(not)\.)?([a-z]+)\.")
_SCOPING = {"eq": "eq", "in": "in"}
_HOLE = "\x00"


def call(w: "Walk", node: cst.Call):
    """A PostgREST request, as a chain; None for any other call."""
    func = node.func
    if not isinstance(func, cst.Attribute) or func.attr.value not in _OPERATIONS:
        return None
    url_arg = next((a for a in node.args if a.keyword is None and not a.star), None)
    url_arg = next((a for a in node.args if a.keyword is not None and a.keyword.value == "url"), url_arg)
    if url_arg is None or not _names_rest(w, url_arg.value):
        return None  # decided without evaluating anything: the call is walked as usual
    url = _url_pieces(w, url_arg.value)
    if url is None:
        return None
    text, positions = url
    found = _REST.search(text)
    if found is None:
        return None
    table = found.group(1).lower()
    start, end = found.span(1)
    if positions[start] is None or positions[end - 1] is None:
        return None
    (line, column), (end_line, end_column) = positions[start], positions[end - 1]
    op = _OPERATIONS[func.attr.value]
    chain = Chain(origin=w.new_origin(), source="postgrest", op=op, table=table, schema=None,
                  table_span=Span(line, column, end_line, end_column + 1), span=w.span(node), statement=w.statement)
    preds = list(_query_filters(text, positions, found.end()))
    values = {}
    for arg in node.args:
        if arg is url_arg:
            continue
        keyword = arg.keyword.value if arg.keyword is not None else None
        if keyword == "params" and isinstance(arg.value, cst.Dict):
            preds.extend(_params_filters(w, arg.value))
            continue
        values[keyword] = w.ev(arg.value)
        if keyword != "json":
            w.use(values[keyword])
    chain = replace(chain, preds=tuple(preds))
    if op in ("insert", "upsert"):
        body = next((a for a in node.args if a.keyword is not None and a.keyword.value == "json"), None)
        if body is not None:
            chain = replace(chain, payloads=payloads_of(values.get("json", ())), payload_span=w.span(body.value))
        else:
            chain = replace(chain, payloads=(None,))
    w.use([chain])
    return ()


def _names_rest(w: "Walk", node: cst.BaseExpression) -> bool:
    if "/rest/v1/" in w.source(node):
        return True
    if isinstance(node, cst.Name):
        for value in w.lookup(node.value):
            if isinstance(value, Tmpl) and any(isinstance(p, Chunk) and "/rest/v1/" in p.text for p in value.pieces):
                return True
    return False


def _url_pieces(w: "Walk", node: cst.BaseExpression) -> tuple[str, list] | None:
    """The URL's text (holes as NUL) and the file position of each character."""
    values = w.ev(node)
    templates = [v for v in values if isinstance(v, Tmpl)]
    if len(templates) != 1:
        w.use(values)
        return None
    w.absorb(templates)
    text, positions = [], []
    for piece in templates[0].pieces:
        if isinstance(piece, Chunk):
            text.append(piece.text)
            positions.extend(piece.positions)
        else:
            text.append(_HOLE)
            positions.append(None)
    return "".join(text), positions


def _query_filters(text: str, positions: list, after: int):
    query = text.find("?", after)
    if query < 0:
        return
    for match in _FILTER.finditer(text, query):
        if text[match.start() - 1] not in "?&":
            continue
        column = match.group(1).lower()
        op = "other" if match.group(2) else _SCOPING.get(match.group(3), "other")
        start, end = match.span(1)
        if positions[start] is None or positions[end - 1] is None:
            continue
        (line, col), (end_line, end_col) = positions[start], positions[end - 1]
        yield PredItem(PCompare(PCol(column, Span(line, col, end_line, end_col + 1), CHAIN), op, PARAM))


def _params_filters(w: "Walk", node: cst.Dict):
    """`params={"clerk_org_id": f"eq.{org}"}`."""
    for element in node.elements:
        if not isinstance(element, cst.DictElement):
            continue
        column = string_value(element.key)
        if column is None:
            continue
        value = element.value
        prefix = string_value(value) if isinstance(value, (cst.SimpleString, cst.ConcatenatedString)) else None
        if prefix is None and isinstance(value, cst.FormattedString):
            first = value.parts[0] if value.parts else None
            prefix = first.value if isinstance(first, cst.FormattedStringText) else ""
        operator = (prefix or "").split(".", 1)[0]
        yield PredItem(PCompare(PCol(column.lower(), literal_span(w, element.key), CHAIN),
                                _SCOPING.get(operator, "other"), PARAM))


class PostgrestHttp(Recogniser):
    """PostgREST requests over HTTP (`httpx`, `requests`, `aiohttp` on
    `/rest/v1/<table>`), as supabase chains (emitted by `Supabase`)."""

    def call(self, w, node):
        return call(w, node)
