"""orgscope: a static linter for multi-tenant scoping of SQL and Python query code."""

__version__ = "0.1.0"
