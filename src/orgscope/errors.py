"""Errors that end a run with exit code 2 and one clear line."""

from __future__ import annotations


class OrgscopeError(Exception):
    """An error the user must fix before orgscope can run (exit code 2)."""


class ConfigError(OrgscopeError):
    """A broken config file or rule pack: names the file and the key."""

    def __init__(self, path: str, key: str | None, message: str) -> None:
        self.path = path
        self.key = key
        self.message = message
        where = f"{path}: {key}" if key else path
        super().__init__(f"{where}: {message}")
