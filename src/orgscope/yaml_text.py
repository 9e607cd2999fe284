"""YAML documents (rule pack, config, rule docs) read as plain data.

PyYAML's C loader (libyaml) when the installed PyYAML has it, about ten
times faster than the pure-Python one, which stays the fallback; both are
the safe loader: no tag builds an object.
"""

from __future__ import annotations

from typing import Any

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load(text: str) -> Any:
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader, C or pure Python
