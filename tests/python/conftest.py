"""Fixtures for the Python front end: facts of a source text, as the engine would get them."""

from __future__ import annotations

import textwrap

import pytest

from orgscope.extract import ExtractContext
from orgscope.model import default_pack_path, load_pack
from orgscope.python.extract import extract_python


@pytest.fixture(scope="session")
def model():
    return load_pack(default_pack_path())


@pytest.fixture
def facts_of(model):
    """facts_of(source, module=..., query_wrappers=..., scoping_helpers=...) -> FileFacts.

    The source is dedented, so tests can indent it; line 1 is the line after
    the opening triple quote when the text starts with a newline.
    """

    def _facts(source: str, path: str = "app/db/agents.py", **ctx):
        ctx.setdefault("module", path[:-3].replace("/", "."))
        context = ExtractContext(model=model, **ctx)
        return extract_python(path, textwrap.dedent(source).lstrip("\n"), context)

    return _facts
