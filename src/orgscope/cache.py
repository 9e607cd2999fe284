"""Content-addressed cache of per-file facts (`.orgscope_cache/`).

A file's facts depend only on its bytes, its path and kind, the analysis
settings and the orgscope version, so the key is a hash of exactly those; a
changed file, config, rule pack or orgscope release misses by construction.
The whole cache is one pickle written atomically at the end of a run; a
corrupt, foreign or unreadable cache is ignored (and rebuilt), never trusted.
"""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

from orgscope import __version__
from orgscope.facts import FileFacts
from orgscope.writes import write_atomic

_MAGIC = "orgscope-facts-cache/1"
CACHE_FILE = "facts.pickle"


def settings_key(*parts: object) -> str:
    """A digest of everything besides the file that shapes its facts."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(__version__.encode())
    for part in parts:
        digest.update(b"\x1f")
        digest.update(repr(part).encode())
    return digest.hexdigest()


def file_key(settings: str, rel: str, kind: str, data: bytes) -> str:
    digest = hashlib.blake2b(digest_size=20)
    digest.update(settings.encode())
    digest.update(b"\x1f" + rel.encode() + b"\x1f" + kind.encode() + b"\x1f")
    digest.update(data)
    return digest.hexdigest()


class FactsCache:
    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.entries: dict[str, FileFacts] = {}
        self.used: dict[str, FileFacts] = {}
        self.dirty = False
        if folder is not None:
            self._load(folder / CACHE_FILE)

    def _load(self, path: Path) -> None:
        try:
            with path.open("rb") as handle:
                payload = pickle.load(handle)
        except FileNotFoundError:
            return
        except Exception:  # corrupt, truncated, foreign: start afresh
            self.dirty = True
            return
        if (
            isinstance(payload, dict)
            and payload.get("magic") == _MAGIC
            and payload.get("version") == __version__
            and isinstance(payload.get("entries"), dict)
        ):
            self.entries = payload["entries"]
        else:
            self.dirty = True

    def get(self, key: str) -> FileFacts | None:
        facts = self.entries.get(key)
        if not isinstance(facts, FileFacts):
            return None
        self.used[key] = facts
        return facts

    def put(self, key: str, facts: FileFacts) -> None:
        self.used[key] = facts
        self.dirty = True

    def save(self, complete: bool) -> None:
        """Write the cache. After a run over the whole project keep only what it
        used (so the cache never grows without bound); after a partial run
        (pre-commit) keep the rest too."""
        if self.folder is None or not (self.dirty or len(self.used) != len(self.entries)):
            return
        entries = self.used if complete else {**self.entries, **self.used}
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            gitignore = self.folder / ".gitignore"
            if not gitignore.exists():
                write_atomic(gitignore, "# created by orgscope\n*\n", overwrite=True)
            payload = {"magic": _MAGIC, "version": __version__, "entries": entries}
            write_atomic(self.folder / CACHE_FILE, pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL),
                         overwrite=True)
        except OSError:
            pass  # a read-only checkout still gets its findings
